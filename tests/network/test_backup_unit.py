"""run_backup with a fake fetch: git store, a commit per run naming the run id, diffs, hook, partial."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import ConfigError
from runner.network import backup as backup_mod
from runner.network.collect import classify, clean
from runner.network.devices import Device, device_from_vars, load_devices

DEVICES = [Device("sw1", "127.0.0.1", 1, "cisco_ios", "u", "Pw-Secret-1", "En-Secret-1"),
           Device("sw2", "127.0.0.1", 2, "arista_eos", "u", "Pw-Secret-1", "En-Secret-1")]


@pytest.fixture
def configs(answers: dict[str, str | Exception]) -> dict[str, str | Exception]:
    answers.update(sw1="hostname sw1\nenable secret 5 $1$x$y\nusername u password 0 Pw-Secret-1\n",
                   sw2="hostname sw2\nsnmp-server community Comm1 ro\n")
    return answers


def git(store: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(store), *args], capture_output=True, text=True, check=True).stdout


def test_first_run_stores_masked_configs_and_commits_with_run_id(tmp_path: Path, configs: dict) -> None:
    result = backup_mod.run_backup(DEVICES, tmp_path / "store", run_id="RUN-1")
    assert result.status == "ok" and result.exit_code == 0
    stored = (tmp_path / "store" / "running" / "sw1.cfg").read_text()
    assert "$1$x$y" not in stored and "Pw-Secret-1" not in stored
    assert "Comm1" not in (tmp_path / "store" / "startup" / "sw2.cfg").read_text()
    assert "RUN-1" in git(tmp_path / "store", "log", "-1", "--format=%s")


def test_change_shows_as_unified_diff_and_fires_hook(tmp_path: Path, configs: dict) -> None:
    store = tmp_path / "store"
    backup_mod.run_backup(DEVICES, store, run_id="RUN-1")
    configs["sw1"] += "logging host 169.254.9.9\n"
    marker = tmp_path / "hook.out"
    hook = ["sh", "-c", f'echo "$SOP_RUN_ID $SOP_NETWORK_CHANGED" > {marker}; cat >> {marker}']
    result = backup_mod.run_backup(DEVICES, store, run_id="RUN-2", notify=hook)
    assert result.changed == ["sw1"]
    assert "+logging host 169.254.9.9" in result.diffs["sw1"]
    assert result.notified
    assert marker.read_text().startswith("RUN-2 sw1")
    assert "+logging host 169.254.9.9" in marker.read_text()
    unchanged = backup_mod.run_backup(DEVICES, store, run_id="RUN-3", notify=hook)
    assert unchanged.changed == [] and not unchanged.notified
    assert len(git(store, "log", "--format=%s").splitlines()) == 4  # init + 3 runs, one commit each


def test_failed_device_is_isolated_and_run_is_partial(tmp_path: Path, configs: dict) -> None:
    store = tmp_path / "store"
    backup_mod.run_backup(DEVICES, store, run_id="RUN-1")
    configs["sw2"] = TimeoutError("timed out")
    configs["sw1"] += "ntp server 169.254.1.1\n"
    result = backup_mod.run_backup(DEVICES, store, run_id="RUN-2")
    assert result.status == "partial" and result.exit_code != 0
    assert result.failed == ["sw2"] and result.devices["sw2"]["error_kind"] == "timeout"
    assert result.changed == ["sw1"]
    assert (store / "running" / "sw2.cfg").exists()  # the last good backup is kept
    assert "failed: sw2" in git(store, "log", "-1", "--format=%s")
    configs["sw1"] = ConnectionRefusedError("refused")
    assert backup_mod.run_backup(DEVICES, store, run_id="RUN-3").status == "failed"


def test_error_classification_and_cleaning() -> None:
    assert classify(Exception("Authentication to device failed.")) == "auth"
    assert classify(Exception("TCP connection to device failed.")) == "unreachable"
    assert classify(TimeoutError("timed out")) == "timeout"
    raw = "Building configuration...\n\nCurrent configuration : 12 bytes\nhostname a\n"
    assert clean(raw) == "hostname a\n"


def test_inventory_vars_are_required_and_references_resolved() -> None:
    device = device_from_vars("r1", {"ansible_host": "127.0.0.1", "ansible_user": "u",
                                     "ansible_password": "{{ vault_pw }}", "vault_pw": "Vaulted-1",
                                     "netmiko_device_type": "cisco_ios"})
    assert device.password == "Vaulted-1"
    assert "Vaulted-1" not in repr(device)
    with pytest.raises(ConfigError, match="netmiko_device_type"):
        device_from_vars("r2", {"ansible_user": "u", "ansible_password": "p"})


def test_vaulted_inventory_credentials_are_decrypted(tmp_path: Path) -> None:
    venv = Path(sys.executable).parent
    password_file = tmp_path / "vault-pass"
    password_file.write_text("unit-vault-pass\n")
    encrypted = subprocess.run([str(venv / "ansible-vault"), "encrypt_string", "--vault-password-file",
                                str(password_file), "Vaulted-Device-Pw", "--name", "ansible_password"],
                               capture_output=True, text=True, check=True).stdout
    body = "\n".join("          " + line for line in encrypted.splitlines())
    inventory = tmp_path / "inv.yml"
    inventory.write_text("all:\n  children:\n    network:\n      hosts:\n        r1:\n"
                         "          ansible_host: 127.0.0.1\n          ansible_user: netops\n"
                         f"          netmiko_device_type: cisco_ios\n{body}\n")
    code = ("from runner.network.devices import load_devices; "
            f"print(load_devices({str(inventory)!r})[0].password == 'Vaulted-Device-Pw')")
    env = {**os.environ, "ANSIBLE_VAULT_PASSWORD_FILE": str(password_file)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.stdout.strip() == "True", result.stderr[-500:]
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.returncode != 0 and "Vaulted-Device-Pw" not in result.stdout + result.stderr


def test_inventory_without_network_devices_is_a_clear_error(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yml"
    inventory.write_text("all:\n  hosts:\n    web1: {ansible_host: 127.0.0.1}\n")
    with pytest.raises(ConfigError, match="no hosts in group 'network'"):
        load_devices(str(inventory))
