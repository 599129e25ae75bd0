"""Benchmark (run on demand): `sop check` (14 controls) on every Linux host of a lab vs a bare ansible ping.

    .venv/bin/python tests/benchmarks/bench_security_check.py [--lab sec] [--repeat 3]

Both run in the same session against the same hosts over real SSH: `ansible linux -m ping` (the cost of
reaching the hosts at all, the baseline) and `sop check` (collection play + verdicts + reports + audit
record). Prints the median wall times and the ratio. No assertions on timings.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time

from runner.lab import Lab
from runner.paths import REPO_ROOT

BIN = REPO_ROOT / ".venv" / "bin"


def timed(command: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="sec")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lab = Lab(args.lab, progress=lambda _msg: None)
    lab.up()
    inventory = str(lab.inventory_path)
    with tempfile.TemporaryDirectory(prefix="sop-bench-check-") as audit_dir:
        ping = [timed([str(BIN / "ansible"), "-i", inventory, "linux", "-m", "ansible.builtin.ping"])
                for _ in range(args.repeat)]
        check = [timed([str(BIN / "sop"), "check", "-i", inventory, "--audit-dir", audit_dir, "--format", "json"])
                 for _ in range(args.repeat)]
    hosts = len(lab.hosts())
    ping_s, check_s = statistics.median(ping), statistics.median(check)
    print(f"hosts: {hosts}, controls: 14, repeat: {args.repeat}")
    print(f"ansible ping (baseline): median {ping_s:.2f}s  runs {[round(x, 2) for x in ping]}")
    print(f"sop check:               median {check_s:.2f}s  runs {[round(x, 2) for x in check]}")
    print(f"ratio sop check / ping: {check_s / ping_s:.2f}x; per host {check_s / hosts:.2f}s")


if __name__ == "__main__":
    main()
