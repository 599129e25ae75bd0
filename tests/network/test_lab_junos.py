"""Junos over NETCONF on the lab (jun-sw1): backed up through the playbook next to the CLI devices, masked,
diffed, failing on its own; skipped by the golden-config drift check."""

from __future__ import annotations

from pathlib import Path

import yaml
from ncclient import manager
from network_helpers import evidence, run
from test_lab_backup import SEED_SECRETS

from runner.lab import Lab
from runner.network.drift import cli_check

JUNOS = "jun-sw1"


def _describe(lab: Lab, interface: str, description: str) -> None:
    """Change an interface description on jun-sw1 the Junos way: edit the candidate, commit."""
    node = next(n for n in lab.devices() if n.name == JUNOS)
    config = (f"<config><configuration><interfaces><interface><name>{interface}</name>"
              f"<description>{description}</description></interface></interfaces></configuration></config>")
    with manager.connect(host="127.0.0.1", port=node.port, username="netops",
                         password=lab.secrets["device_password"], hostkey_verify=False, allow_agent=False,
                         look_for_keys=False, device_params={"name": "junos"}, timeout=10) as session:
        session.edit_config(target="candidate", config=config)
        session.commit()


def test_junos_is_backed_up_over_netconf_masked_and_a_commit_shows_as_diff(lab: Lab, tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = run("network_backup.yml", lab, tmp_path, network_backup_store=str(store))
    assert first.status == "success", first.output_tail
    found = evidence(first, "commit")
    assert found["devices"][JUNOS]["status"] == "ok"
    assert found["devices"][JUNOS]["transport"] == "netconf"
    assert found["devices"]["core-sw1"]["transport"] == "cli"
    text = (store / "running" / f"{JUNOS}.cfg").read_text()
    assert text.startswith(f"<configuration>\n  <system>\n    <host-name>{JUNOS}</host-name>")
    assert "<name>ge-0/0/1</name>" in text and "<vlan-id>100</vlan-id>" in text
    assert "<encrypted-password><removed></encrypted-password>" in text
    assert not (store / "startup" / f"{JUNOS}.cfg").exists()
    assert first.record_path is not None
    record = first.record_path.read_text()
    for secret in (lab.secrets["device_password"], *SEED_SECRETS):
        assert secret not in text, f"running/{JUNOS}.cfg leaks a seeded secret"
        assert secret not in record, "the run record leaks a seeded secret"

    _describe(lab, "ge-0/0/1", "uplink to core-sw1 (moved)")
    try:
        second = run("network_backup.yml", lab, tmp_path, network_backup_store=str(store))
    finally:
        _describe(lab, "ge-0/0/1", "uplink to core-sw1")
    assert second.status == "success", second.output_tail
    found = evidence(second, "commit")
    assert found["changed"] == [JUNOS]
    assert "+      <description>uplink to core-sw1 (moved)</description>" in found["diffs"][JUNOS]
    assert "-      <description>uplink to core-sw1</description>" in found["diffs"][JUNOS]


def test_junos_with_a_wrong_password_fails_alone_as_auth(lab: Lab, tmp_path: Path) -> None:
    override = tmp_path / "override.yml"
    override.write_text(yaml.safe_dump({"all": {"children": {"network": {"hosts": {
        JUNOS: {"ansible_password": "wrong-password-1"}}}}}}))
    store = tmp_path / "store"
    outcome = run("network_backup.yml", lab, tmp_path, inventory=[str(lab.inventory_path), str(override)],
                  network_backup_store=str(store))
    assert outcome.exit_code != 0
    found = evidence(outcome, "commit")
    assert found["status"] == "partial" and found["failed"] == [JUNOS]
    assert found["devices"][JUNOS]["error_kind"] == "auth"
    assert outcome.record is not None and outcome.record["hosts"][JUNOS]["failed"] == 1
    others = sorted(n.name for n in lab.devices() if n.name != JUNOS)
    assert sorted(p.stem for p in (store / "running").glob("*.cfg")) == others
    assert "wrong-password-1" not in (outcome.record_path.read_text() if outcome.record_path else "")


def test_drift_check_reports_junos_skipped_and_does_not_fail(lab: Lab, tmp_path: Path, capsys) -> None:
    code = cli_check(lab.inventory_path, f"{JUNOS},core-sw1", tmp_path)
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{JUNOS} (access_switch): SKIPPED" in out and "over NETCONF (XML)" in out
    assert f"1/1 devices compliant; not checked: {JUNOS}" in out
