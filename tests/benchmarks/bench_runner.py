"""Benchmark: the cost of recording a run. Not a test (no timing asserts); run on demand:

    SOP_BENCH_LAB=audit .venv/bin/python tests/benchmarks/bench_runner.py [--rounds 3]

A generated 20-task x 5-host play runs on the lab, alternating:
  baseline   plain ansible-playbook, the audit callback not loaded (its own ansible.cfg, playbook elsewhere)
  callback   plain ansible-playbook with the sop_audit callback (repo ansible.cfg)
  sop run    runner.ansible_run.run_playbook (ansible-runner + callback + reports + ledger)
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOP_", "ANSIBLE_"))}

    def plain(cfg: Path | None, python_bin: Path = venv_bin, extra: dict[str, str] | None = None) -> None:
        run_env = {**env, "SOP_AUDIT_DIR": str(audit_dir), **(extra or {})}
        if cfg:
            run_env["ANSIBLE_CONFIG"] = str(cfg)
        subprocess.run([str(python_bin / "ansible-playbook"), "-i", inventory, str(play)], cwd=REPO, env=run_env,
                       check=True, capture_output=True)

    def sop_run() -> None:
        outcome = run_playbook(RunOptions(playbook=play, inventory=[inventory], audit_dir=audit_dir))
        assert outcome.exit_code == 0, outcome.summary()

    cfg = baseline_cfg(work)
    variants = {"baseline": lambda: plain(cfg), "callback": lambda: plain(None), "sop run": sop_run}
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
    for round_no in range(args.rounds):
        for name in names[round_no % len(names):] + names[:round_no % len(names)]:  # rotate the order
            warm()
            times[name].append(timed(variants[name]))
    base = statistics.median(times["baseline"])
    print(f"{TASKS}-task x 5-host play, {args.rounds} rounds, median wall time:")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<9} {median:6.2f}s  ratio {median / base:4.2f}x  "
              f"({', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main()
