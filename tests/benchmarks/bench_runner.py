"""Benchmark: the cost of recording a run. Not a test (no timing asserts); run on demand:

    SOP_BENCH_LAB=audit .venv/bin/python tests/benchmarks/bench_runner.py [--rounds 3]

A generated 20-task x 5-host play runs on the lab, alternating:
  baseline   plain ansible-playbook, the audit callback not loaded (its own ansible.cfg, playbook elsewhere)
  callback   plain ansible-playbook with the sop_audit callback (repo ansible.cfg)
  sop run    runner.ansible_run.run_playbook (ansible-runner + callback + reports + ledger)
  sop run+s3 the same with SOP_AUDIT_STORE on a moto S3 server the benchmark starts (Object Lock, create-only
             ledger entries, every artifact uploaded)
  ara        ansible-playbook with ARA's callback, if /tmp/ara-venv (ara[server] + ansible-core) exists
and prints median wall times and their ratios to the baseline (target for sop run: <= 1.10x). Before each
timed run an untimed ping opens the SSH control masters, and the order rotates each round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from labtools import moto_server  # noqa: E402

from runner.ansible_run import RunOptions, run_playbook  # noqa: E402
from runner.lab import Lab  # noqa: E402

TASKS = 20
ARA_VENV = Path(os.environ.get("SOP_BENCH_ARA_VENV", "/tmp/ara-venv"))


def write_play(folder: Path) -> Path:
    tasks = "".join(
        f"    - name: Step {i} | sop3.4\n"
        f"      ansible.builtin.command: echo step {i}\n"
        f"      changed_when: false\n"
        f"      tags: [sop3.4, iso8.16]\n"
        for i in range(1, TASKS + 1)
    )
    path = folder / "bench.yml"
    path.write_text(f"---\n- name: Benchmark play\n  hosts: linux\n  gather_facts: false\n  tasks:\n{tasks}")
    return path


def baseline_cfg(folder: Path) -> Path:
    """The repo's ansible.cfg without the callback lines (same forks, SSH options, interpreter)."""
    lines = [
        ln for ln in (REPO / "ansible.cfg").read_text().splitlines()
        if not ln.strip().startswith(("callback_plugins", "callbacks_enabled"))
    ]
    path = folder / "ansible.cfg"
    path.write_text("\n".join(lines).replace("roles_path = roles", f"roles_path = {REPO / 'roles'}") + "\n")
    return path


@contextmanager
def moto_store(work: Path) -> Iterator[str]:
    """A moto S3 server of the benchmark's own (127.0.0.1, free port) with an Object Lock bucket."""
    with moto_server() as endpoint:
        os.environ.update({"SOP_AUDIT_STORE_ENDPOINT": endpoint, "AWS_ACCESS_KEY_ID": "bench",
                           "AWS_SECRET_ACCESS_KEY": "bench", "SOP_AUDIT_STORE_RETENTION_DAYS": "1"})
        from runner.audit.worm import WormStore

        url = "s3://bench-audit/sop"
        WormStore(url).ensure_bucket()
        yield url


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    lab = Lab(os.environ.get("SOP_BENCH_LAB", "audit"))
    lab.up()
    inventory = str(lab.inventory_path)
    work = Path(tempfile.mkdtemp(prefix="sop-bench-"))
    play = write_play(work)
    audit_dir = work / "audit"
    venv_bin = REPO / ".venv" / "bin"
    os.environ["SOP_AUDIT_KEY_DIR"] = str(work / "keys")  # not the real /etc/sop-as-code/audit
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOP_", "ANSIBLE_"))}
    env["SOP_AUDIT_KEY_DIR"] = str(work / "keys")
    with moto_store(work) as store_url:
        measure(args.rounds, inventory, play, work, audit_dir, venv_bin, env, store_url)


def measure(  # noqa: PLR0917 - the benchmark's fixed setup, passed once
    rounds: int, inventory: str, play: Path, work: Path, audit_dir: Path, venv_bin: Path, env: dict[str, str],
    store_url: str,
) -> None:

    def plain(cfg: Path | None, python_bin: Path = venv_bin, extra: dict[str, str] | None = None) -> None:
        run_env = {**env, "SOP_AUDIT_DIR": str(audit_dir), **(extra or {})}
        if cfg:
            run_env["ANSIBLE_CONFIG"] = str(cfg)
        subprocess.run([str(python_bin / "ansible-playbook"), "-i", inventory, str(play)], cwd=REPO, env=run_env,
                       check=True, capture_output=True)

    def sop_run() -> None:
        outcome = run_playbook(RunOptions(playbook=play, inventory=[inventory], audit_dir=audit_dir))
        assert outcome.exit_code == 0, outcome.summary()

    s3_env = {"SOP_AUDIT_STORE": store_url}
    s3_dir = work / "audit-s3"

    def sop_run_s3() -> None:
        outcome = run_playbook(RunOptions(playbook=play, inventory=[inventory], audit_dir=s3_dir, env=s3_env))
        assert outcome.exit_code == 0, outcome.summary()
        assert not list((s3_dir / "spool").glob("*.json")), "entries left in the spool: the store was not used"

    cfg = baseline_cfg(work)
    variants = {"baseline": lambda: plain(cfg), "callback": lambda: plain(None), "sop run": sop_run,
                "sop run+s3": sop_run_s3}
    if (ARA_VENV / "bin" / "ansible-playbook").exists():
        ara_cb = subprocess.run([str(ARA_VENV / "bin" / "python"), "-m", "ara.setup.callback_plugins"],
                                capture_output=True, text=True, check=True).stdout.strip()
        variants["ara"] = lambda: plain(cfg, ARA_VENV / "bin", {
            "ANSIBLE_CALLBACK_PLUGINS": ara_cb, "ANSIBLE_CALLBACKS_ENABLED": "ara_default",
            "ARA_DATABASE_NAME": str(work / "ara.sqlite"), "ARA_BASE_DIR": str(work / "ara")})
    def warm() -> None:
        """Open the SSH control masters (ControlPersist=60s) so no variant pays for connecting."""
        subprocess.run([str(venv_bin / "ansible"), "-i", inventory, "linux", "-m", "ping"], cwd=REPO,
                       env={**env, "ANSIBLE_CONFIG": str(cfg)}, check=True, capture_output=True)

    plain(cfg)  # warm-up: page cache, fact-free first run
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for round_no in range(rounds):
        for name in names[round_no % len(names):] + names[:round_no % len(names)]:  # rotate the order
            warm()
            times[name].append(timed(variants[name]))
    base = statistics.median(times["baseline"])
    print(f"{TASKS}-task x 5-host play, {rounds} rounds, median wall time:")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<10} {median:6.2f}s  ratio {median / base:4.2f}x  "
              f"({', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main()
