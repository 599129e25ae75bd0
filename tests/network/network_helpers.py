"""Helpers of the network SOP lab tests (the session `lab` fixture is in tests/conftest.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from runner.ansible_run import RunOptions, RunOutcome, run_playbook
from runner.lab import Lab
from runner.paths import REPO_ROOT


def run(playbook: str, lab: Lab, tmp: Path, inventory: list[str] | None = None,
        **extra_vars: Any) -> RunOutcome:
    """Run a playbook through the runner (audit callback on) into a per-test audit dir.

    A test's own config store is not pushed to the lab's remote unless the test names one (network_backup_remote):
    the tests' unrelated store histories would be refused there one after another."""
    extra_vars.setdefault("network_backup_remote", "")
    return run_playbook(RunOptions(playbook=str(REPO_ROOT / "playbooks" / playbook),
                                   inventory=inventory or [str(lab.inventory_path)],
                                   extra_vars=extra_vars, audit_dir=tmp / "audit"))


def evidence(outcome: RunOutcome, key: str) -> dict[str, Any]:
    """The first task evidence of the run record that has ``key``."""
    assert outcome.record is not None, outcome.output_tail
    for play in outcome.record["plays"]:
        for task in play["tasks"]:
            for result in task["results"]:
                if key in (result.get("evidence") or {}):
                    return result["evidence"]
    raise AssertionError(f"no evidence with {key!r} in run {outcome.run_id}: {outcome.output_tail[-2000:]}")


def git(store: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(store), *args], capture_output=True, text=True, check=True).stdout


def device_session(lab: Lab, name: str) -> Any:
    from netmiko import ConnectHandler

    node = next(n for n in lab.devices() if n.name == name)
    return ConnectHandler(device_type=node.spec["device_type"], host="127.0.0.1", port=node.port,
                          username="netops", password=lab.secrets["device_password"],
                          secret=lab.secrets["device_enable"], conn_timeout=10)


def configure(lab: Lab, name: str, lines: list[str]) -> None:
    session = device_session(lab, name)
    try:
        session.enable()
        session.send_config_set(lines)
    finally:
        session.disconnect()
