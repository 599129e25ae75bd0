"""No secret reaches the config store: unknown vendors are refused unless the inventory opts in, and the store's
leak scan stops a device whose masked configuration still holds a known secret or a random-looking token.

run_backup runs with a fake fetch (no device) and a real git store, as in test_backup_unit.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest
import yaml

from runner.errors import ConfigError
from runner.network import backup as backup_mod
from runner.network import masking
from runner.network.backup import BackupResult
from runner.network.collect import Fetch
from runner.network.devices import Device, device_from_vars
from runner.paths import REPO_ROOT

PW, ENABLE = "Pw-Secret-1", "En-Secret-1"
RANDOM_TOKEN = "q7XvR2kLm9PzT4wYb8Nc"  # 20 characters, looks generated (a fixed value: the test is repeatable)
CISCO = "hostname {name}\nenable secret 5 $1$x$y\nusername u password 0 Pw-Secret-1\nntp server 169.254.1.1\n"
VRP = ("sysname {name}\nlocal-user admin password irreversible-cipher Vrp-Cipher-77\n"
       "ntp-service unicast-server 1.1.1.1\n")


def type7(plain: str, seed: int = 13) -> str:
    """Cisco type 7 encoding (public and reversible): what a device shows for `password 7`."""
    xlat = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
    return f"{seed:02d}" + "".join(f"{ord(c) ^ ord(xlat[(seed + i) % len(xlat)]):02X}" for i, c in enumerate(plain))


def device(name: str, device_type: str = "cisco_ios", mask_family: str | None = None) -> Device:
    return Device(name, "127.0.0.1", 22, device_type, "u", PW, ENABLE, mask_family=mask_family)


@pytest.fixture
def configs(answers: dict[str, str]) -> dict[str, str]:
    """Every device answers (set per test), so only masking and scanning can fail it."""
    return answers


def git(store: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(store), *args], capture_output=True, text=True, check=True).stdout


def stored(store: Path) -> set[str]:
    """Paths committed at HEAD."""
    return set(git(store, "ls-tree", "-r", "--name-only", "HEAD").split())


def test_unknown_vendor_is_refused_and_nothing_of_it_is_stored(tmp_path: Path, configs: dict) -> None:
    configs.update(sw1=CISCO.format(name="sw1"), vrp1=VRP.format(name="vrp1"))
    result = backup_mod.run_backup([device("sw1"), device("vrp1", "huawei_vrp")], tmp_path / "s", run_id="R1")
    assert result.status == "partial" and result.exit_code == 2
    assert result.failed == ["vrp1"]
    record = result.devices["vrp1"]
    assert record["error_kind"] == "unmasked" and record["mask_family"] is None
    assert "vrp1" in record["error"] and "'huawei_vrp'" in record["error"]
    assert "network_mask_family: generic" in record["error"] and "masking_rules.yml" in record["error"]
    assert {"running/sw1.cfg", "startup/sw1.cfg"} <= stored(tmp_path / "s")
    assert not [p for p in stored(tmp_path / "s") if "vrp1" in p]
    assert not list((tmp_path / "s").rglob("vrp1*"))
    assert "failed: vrp1" in git(tmp_path / "s", "log", "-1", "--format=%s")
    assert result.warnings == [] and result.devices["sw1"]["mask_family"] == "cisco"


def test_unknown_vendor_opted_in_is_stored_masked_with_a_warning(tmp_path: Path, configs: dict) -> None:
    configs.update(vrp1=VRP.format(name="vrp1"))
    result = backup_mod.run_backup([device("vrp1", "huawei_vrp", mask_family="generic")], tmp_path / "s",
                                   run_id="R1")
    assert result.status == "ok"
    text = (tmp_path / "s" / "running" / "vrp1.cfg").read_text()
    assert "Vrp-Cipher-77" not in text
    assert "local-user admin password irreversible-cipher <removed>" in text and "sysname vrp1" in text
    record = result.devices["vrp1"]
    assert record["mask_family"] == "generic" and len(record["warnings"]) == 1
    assert "vrp1 (huawei_vrp)" in record["warnings"][0] and "generic rules" in record["warnings"][0]
    assert result.warnings == record["warnings"] and result.evidence()["warnings"] == record["warnings"]


def test_a_named_family_for_a_cisco_like_type_is_used_and_warned(tmp_path: Path, configs: dict) -> None:
    configs.update(asa1="hostname asa1\nenable secret 5 $1$asa$AsaHash\nsnmp-server community AsaComm RO\n")
    result = backup_mod.run_backup([device("asa1", "cisco_asa", mask_family="cisco")], tmp_path / "s")
    text = (tmp_path / "s" / "running" / "asa1.cfg").read_text()
    assert "AsaHash" not in text and "AsaComm" not in text and "snmp-server community <removed> RO" in text
    assert result.devices["asa1"]["mask_family"] == "cisco"
    assert "cisco rules" in result.devices["asa1"]["warnings"][0]


@pytest.mark.parametrize(("value", "why"), [
    (RANDOM_TOKEN, "high-entropy token"),
    (PW.upper(), "another letter case"),
    (type7(PW), "type 7"),
])
def test_a_leak_fails_the_device_and_keeps_its_last_good_backup(tmp_path: Path, configs: dict, value: str,
                                                                why: str) -> None:
    # Planted in a description, where no masking rule looks (and not as written: mask_config replaces that).
    store = tmp_path / "s"
    configs.update(sw1=CISCO.format(name="sw1"), sw2=CISCO.format(name="sw2"))
    backup_mod.run_backup([device("sw1"), device("sw2")], store, run_id="R1")
    good = git(store, "show", "HEAD:running/sw1.cfg")
    configs["sw1"] += f"interface Gi0/1\n description owner {value} do not share\n"
    configs["sw2"] += "logging host 169.254.9.9\n"
    result = backup_mod.run_backup([device("sw1"), device("sw2")], store, run_id="R2")
    assert result.status == "partial" and result.failed == ["sw1"]
    record = result.devices["sw1"]
    assert record["error_kind"] == "leak"
    assert why in record["error"] and "line 6" in record["error"] and "running configuration" in record["error"]
    assert "sw1" in record["error"] and value not in record["error"]
    assert (store / "running" / "sw1.cfg").read_text() == good  # untouched on disk and at HEAD
    assert git(store, "show", "HEAD:running/sw1.cfg") == good
    assert "sw1" not in git(store, "show", "--name-only", "--format=", "HEAD")
    assert result.changed == ["sw2"]


def test_a_masking_bug_is_caught_by_the_known_secret_scan(tmp_path: Path, configs: dict,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # A rule that fails to mask (simulated: masking returns its input) must not let the password through.
    monkeypatch.setattr(backup_mod, "mask_config", lambda text, *args, **kwargs: text)
    configs.update(sw1=f"hostname sw1\ninterface Gi0/1\n description pw {PW}\n")
    result = backup_mod.run_backup([device("sw1")], tmp_path / "s", run_id="R1")
    assert result.status == "failed" and result.devices["sw1"]["error_kind"] == "leak"
    error = result.devices["sw1"]["error"]
    assert "line 3" in error and "known inventory/vault secret" in error and PW not in error
    assert not (tmp_path / "s" / "running" / "sw1.cfg").exists()


def test_network_mask_family_is_validated_at_the_edge() -> None:
    base = {"ansible_user": "u", "ansible_password": "p-secret", "netmiko_device_type": "huawei_vrp"}
    assert device_from_vars("r1", base).mask_family is None
    assert device_from_vars("r1", {**base, "network_mask_family": "generic"}).mask_family == "generic"
    assert device_from_vars("r1", {**base, "network_mask_family": "cisco"}).mask_family == "cisco"
    with pytest.raises(ConfigError) as raised:
        device_from_vars("r1", {**base, "network_mask_family": "huawei"})
    text = str(raised.value)
    assert "inventory host r1" in text and "'huawei'" in text
    assert all(name in text for name in masking.family_names())


def test_secret_looking_and_vaulted_host_vars_are_known_secrets() -> None:
    device_ = device_from_vars("r1", {
        "ansible_user": "u", "ansible_password": "{{ vault_pw }}", "vault_pw": "Vaulted-Pw-1",
        "netmiko_device_type": "cisco_ios", "snmp_community": "Comm-From-Vars", "tacacs_key": "Tac-From-Vars",
        "radius_key_port": 1812, "ntp_server": "169.254.1.123", "network_role": "core_switch",
        "short_secret": "abc", "enable_secret_set": "true",
    }, extra_secrets=["Vaulted-Elsewhere"])
    assert device_.secrets[0] == "Vaulted-Pw-1"
    assert {"Comm-From-Vars", "Tac-From-Vars", "Vaulted-Elsewhere"} <= set(device_.secrets)
    assert not {"169.254.1.123", "core_switch", "abc", "true", "1812"} & set(device_.secrets)
    assert "Comm-From-Vars" not in repr(device_)


def _action_module() -> Any:
    path = REPO_ROOT / "collections/ansible_collections/sop/core/plugins/action/sop_network_backup.py"
    spec = importlib.util.spec_from_file_location("sop_network_backup_action", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _HostVars(dict):
    def raw_get(self, name: str) -> dict[str, Any]:
        return self[name]


def test_action_passes_mask_family_and_host_secrets_and_surfaces_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _action_module()
    action = module.ActionModule.__new__(module.ActionModule)
    action._templar = SimpleNamespace(template=lambda value: value)
    shown: list[str] = []
    action._display = SimpleNamespace(display=shown.append)
    action._task = SimpleNamespace(check_mode=False)
    hostvars = _HostVars(x1={"ansible_user": "u", "ansible_password": "p-secret-1",
                             "netmiko_device_type": "huawei_vrp", "network_mask_family": "generic",
                             "snmp_community": "Comm-From-Play", "ntp_server": "169.254.1.123"})
    seen: list[Device] = []

    def fake_run_backup(devices: list[Device], *args: object, **kwargs: object) -> BackupResult:
        seen.extend(devices)
        return BackupResult("R1", "ok", "/s", "abc", {"x1": {"status": "ok"}}, warnings=["x1 (huawei_vrp): generic"])

    monkeypatch.setattr(module, "run_backup", fake_run_backup)
    monkeypatch.setattr(module.ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    monkeypatch.setattr(module.ActionModule, "validate_argument_spec",
                        lambda self, argument_spec=None: (None, {"workers": 16, "timeout": 20}))
    result = action.run(task_vars={"hostvars": hostvars, "ansible_play_hosts_all": ["x1"]})
    assert seen[0].mask_family == "generic" and "Comm-From-Play" in seen[0].secrets
    assert "169.254.1.123" not in seen[0].secrets
    assert result["warnings"] == ["x1 (huawei_vrp): generic"]
    assert result["sop_evidence"]["warnings"] == ["x1 (huawei_vrp): generic"]


def test_the_playbook_failure_task_shows_the_new_messages() -> None:
    plays = yaml.safe_load((REPO_ROOT / "playbooks" / "network_backup.yml").read_text())
    task = next(t for t in plays[0]["tasks"] if t["name"].startswith("Fail each device"))
    message = masking.unmasked_message("vrp1", "huawei_vrp")
    backup = {"failed_devices": ["vrp1"], "sop_evidence": {"devices": {"vrp1": {
        "error_kind": "unmasked", "error": message}}}}
    rendered = jinja2.Environment().from_string(task["ansible.builtin.fail"]["msg"]).render(
        inventory_hostname="vrp1", __network_backup=backup)
    assert "(unmasked)" in rendered and message in rendered


def test_drift_shows_forbidden_lines_of_an_unknown_vendor_masked() -> None:
    from runner.network.drift import check_device

    golden = {"fragments": [{"id": "snmp", "forbid": ["^snmp-server community"], "regex": True}],
              "roles": {"edge": ["snmp"]}}
    vrp = Device("vrp1", "127.0.0.1", 22, "huawei_vrp", "u", PW, role="edge")
    drift = check_device(vrp, Fetch("vrp1", True, {"running": "snmp-server community Vrp-Comm-1 RO\n"}), golden)
    assert drift.status == "drift" and drift.forbidden[0]["line"] == "snmp-server community <removed> RO"


def test_a_device_opted_in_but_not_stored_carries_no_warning(tmp_path: Path, configs: dict) -> None:
    configs.update(vrp1=VRP.format(name="vrp1") + f" description {RANDOM_TOKEN}\n")
    result = backup_mod.run_backup([device("vrp1", "huawei_vrp", mask_family="generic")], tmp_path / "s")
    assert result.devices["vrp1"]["error_kind"] == "leak" and result.devices["vrp1"]["mask_family"] == "generic"
    assert result.devices["vrp1"]["warnings"] == [] and result.warnings == []
