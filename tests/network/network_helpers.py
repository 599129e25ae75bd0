"""Helpers of the network SOP lab tests (the session `lab` fixture is in tests/conftest.py)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

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


def junos_seed(secrets: dict[str, str]) -> str:
    """The lab topology's jun-sw1 seed (<configuration> XML) with ``secrets`` filled in."""
    from runner.lab.instance import TOPOLOGY

    device = next(d for d in yaml.safe_load(TOPOLOGY.read_text())["devices"] if d["name"] == "jun-sw1")
    return device["config_xml"].format(**secrets)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@contextmanager
def fake_devices(spec: list[dict[str, Any]], workdir: Path) -> Iterator[None]:
    """One runner.lab.fakeswitch process serving ``spec`` on 127.0.0.1 (no podman), until the block ends."""
    spec_file = workdir / "fake-devices.json"
    spec_file.touch(mode=0o600)
    spec_file.write_text(json.dumps(spec))
    log = workdir / "fake-devices.log"
    with log.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "runner.lab.fakeswitch", "--spec", str(spec_file),
                                    "--listen", "127.0.0.1"], cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                                   stderr=stderr, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        deadline = time.monotonic() + 30
        while not all(_listening(d["port"]) for d in spec):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"fake devices did not start: {log.read_text()[-800:]}")
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False
