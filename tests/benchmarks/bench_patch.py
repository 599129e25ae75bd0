"""Benchmark (run on demand): playbooks/patch.yml (six stages) vs a plain `ansible.builtin.apt upgrade=dist` play,
on the lab's 5 Linux hosts with the same pending update.

    .venv/bin/python tests/benchmarks/bench_patch.py [--lab patch] [--repeat 2]

Setup (once): ClamAV and the restic backup role on every host (from Debian), then the Debian sources are set
aside so that the only pending update anywhere is the lab repository's sop-demo-app 1.0 -> 1.1 (restored at
the end). Each repeat puts every host back to 1.0, then times:
- the baseline: one play, `apt: upgrade=dist update_cache=true` on the 5 hosts;
- the SOP: patch.yml on staging, then (IT manager and stakeholder approvals) on the other 4 hosts, the
  production ones in serial batches; the time per stage is read from the change record (upd6).
Prints the medians, the ratio and the overhead per stage (plan, backup, scan, validate...). No assertions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from runner.lab import Lab
from runner.paths import REPO_ROOT

BIN = REPO_ROOT / ".venv" / "bin"
HOSTS = ("stg-app1", "prod-app1", "prod-db1", "ws-lt01", "ws-lt02")
ASIDE = "/root/sop-bench-debian.list"
BASELINE = """\
- name: Baseline, a plain dist-upgrade
  hosts: linux
  become: true
  gather_facts: false
  tasks:
    - name: Upgrade every package
      ansible.builtin.apt:
        upgrade: dist
        update_cache: true
"""
EMERGENCY = '{"patch_emergency_reason": "benchmark", "patch_hosts": "linux"}'
APPROVALS = ("--approved-by", "it_manager=Bench Manager", "--approved-by", "stakeholder=Bench Stakeholder")


def sh(lab: Lab, host: str, script: str) -> None:
    lab.exec(host, "sh", "-c", script)


def setup(lab: Lab, audit: Path) -> None:
    for host in HOSTS:
        sh(lab, host, "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                      "--no-install-recommends clamav >/dev/null")
    run([str(BIN / "sop"), "run", "playbooks/backup.yml", "-i", str(lab.inventory_path), "-l", "linux", "-q",
         "--audit-dir", str(audit)])
    for host in HOSTS:
        sh(lab, host, f"[ -f {ASIDE} ] || mv /etc/apt/sources.list {ASIDE}; apt-get update -qq")


def teardown(lab: Lab) -> None:
    for host in HOSTS:
        sh(lab, host, f"[ -f {ASIDE} ] && mv {ASIDE} /etc/apt/sources.list; apt-get update -qq || true")


def reset(lab: Lab) -> None:
    for host in HOSTS:
        sh(lab, host, "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades "
                      "sop-demo-app=1.0 >/dev/null")


def run(command: list[str]) -> float:
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=3600, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{command[:3]} failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr}")
    return time.monotonic() - started


def sop_patch(lab: Lab, audit: Path, change_ref: str) -> tuple[float, dict[str, float]]:
    base = [str(BIN / "sop"), "run", "playbooks/patch.yml", "-i", str(lab.inventory_path), "-q",
            "--audit-dir", str(audit), "--change-ref", change_ref, "-e", EMERGENCY]
    seconds = run([*base, "-l", "staging"]) + run([*base, "-l", "linux:!staging", *APPROVALS])
    record = json.loads((audit / "changes" / change_ref / "change-record.json").read_text())
    return seconds, {f"{s['id']} {s['title']}": s["seconds"] for s in record["stages"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="patch")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    lab = Lab(args.lab, progress=lambda _msg: None)
    lab.up()
    with tempfile.TemporaryDirectory(prefix="sop-bench-patch-") as tmp:
        audit, playbook = Path(tmp) / "audit", Path(tmp) / "baseline.yml"
        playbook.write_text(BASELINE)
        setup(lab, audit)
        baseline, sop, stages = [], [], []
        try:
            for index in range(args.repeat):
                reset(lab)
                baseline.append(run([str(BIN / "ansible-playbook"), "-i", str(lab.inventory_path), str(playbook)]))
                reset(lab)
                seconds, per_stage = sop_patch(lab, audit, f"CR-BENCH-{index}")
                sop.append(seconds)
                stages.append(per_stage)
        finally:
            teardown(lab)
    plain, ours = statistics.median(baseline), statistics.median(sop)
    print(f"hosts: {len(HOSTS)}, pending: sop-demo-app 1.0 -> 1.1 on each, repeat: {args.repeat}")
    print(f"apt upgrade=dist play (baseline): median {plain:.1f}s  runs {[round(x, 1) for x in baseline]}")
    print(f"patch.yml staging + production:   median {ours:.1f}s  runs {[round(x, 1) for x in sop]}")
    print(f"ratio patch.yml / plain apt: {ours / plain:.2f}x")
    print("time per stage (median over repeats, both runs of a change; from the change record):")
    for name in stages[0]:
        print(f"  {name:<32} {statistics.median(s[name] for s in stages):7.1f}s")


if __name__ == "__main__":
    main()
