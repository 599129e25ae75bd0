"""Network config backup on the lab: every emulated vendor, masking, diffs, failure isolation, drift."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from network_helpers import configure, evidence, git, run

from runner.ansible_run import RunOptions, run_playbook
from runner.audit.store import AuditStore
from runner.audit.verify import verify
from runner.lab import Lab
from runner.network.drift import cli_check
from runner.paths import REPO_ROOT

VENDORS = {"cisco_ios", "arista_eos", "dell_os6", "dell_powerconnect", "brocade_fastiron", "juniper_junos"}
# Seeded secrets that are not inventory credentials (runner/lab/topology.yml), in every vendor's syntax.
SEED_SECRETS = ["sopLabCommunity", "sopLabPsk", "sopLabTacacs", "sopLabRadius", "$6$sopLabJn", "$9$sopLabBgpKey"]


def test_backup_stores_every_device_masked_and_change_shows_as_diff(lab: Lab, tmp_path: Path) -> None:
    store = tmp_path / "store"
    hook_out = tmp_path / "hook.out"
    script = f'echo "changed=$SOP_NETWORK_CHANGED run=$SOP_RUN_ID" > {hook_out}; cat >> {hook_out}'
    hook = ["sh", "-c", script]
    first = run("network_backup.yml", lab, tmp_path, network_backup_store=str(store),
                network_backup_notify_command=hook)
    assert first.status == "success", first.output_tail
    found = evidence(first, "commit")
    devices = {n.name: n.spec["device_type"] for n in lab.devices()}
    assert set(found["devices"]) == set(devices) and found["status"] == "ok"
    assert {devices[n] for n in found["devices"]} == VENDORS
    assert first.run_id in git(store, "log", "-1", "--format=%s")
    secrets = [*lab.secrets.values(), *SEED_SECRETS]
    netconf = {n.name for n in lab.devices() if n.spec.get("transport") == "netconf"}
    assert netconf == {"jun-sw1"}
    assert sorted(p.stem for p in (store / "running").glob("*.cfg")) == sorted(devices)
    assert sorted(p.stem for p in (store / "startup").glob("*.cfg")) == sorted(set(devices) - netconf)
    for kind in ("running", "startup"):
        for name in sorted(set(devices) - netconf) if kind == "startup" else devices:
            text = (store / kind / f"{name}.cfg").read_text()
            assert len(text.splitlines()) > 5, f"{kind}/{name}.cfg is almost empty"
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{kind}/{name}.cfg leaks {len(leaked)} secret(s)"
            assert "<removed>" in text

    configure(lab, "core-sw1", ["logging host 169.254.8.8"])
    try:
        second = run("network_backup.yml", lab, tmp_path, network_backup_store=str(store),
                     network_backup_notify_command=hook)
    finally:
        configure(lab, "core-sw1", ["no logging host 169.254.8.8"])
    assert second.status == "success", second.output_tail
    found = evidence(second, "commit")
    assert found["changed"] == ["core-sw1"]
    assert "+logging host 169.254.8.8" in found["diffs"]["core-sw1"]
    assert "+logging host 169.254.8.8" in git(store, "show", "HEAD", "--", "running/core-sw1.cfg")
    assert second.run_id in git(store, "log", "-1", "--format=%s")
    assert hook_out.read_text().startswith(f"changed=core-sw1 run={second.run_id}")
    assert found["notified"] is True


def test_one_device_down_and_one_with_wrong_credentials(lab: Lab, tmp_path: Path, stopped: list[str]) -> None:
    override = tmp_path / "override.yml"
    override.write_text(yaml.safe_dump({"all": {"children": {"network": {"hosts": {
        "dist-sw2": {"ansible_password": "wrong-password-1"}}}}}}))
    lab.stop("edge-rtr1")
    stopped.append("edge-rtr1")
    store = tmp_path / "store"
    outcome = run("network_backup.yml", lab, tmp_path, inventory=[str(lab.inventory_path), str(override)],
                  network_backup_store=str(store))
    assert outcome.exit_code != 0
    assert outcome.status in {"failed", "partial"}, outcome.status
    found = evidence(outcome, "commit")
    assert found["status"] == "partial"
    assert found["failed"] == ["dist-sw2", "edge-rtr1"]
    assert found["devices"]["dist-sw2"]["error_kind"] == "auth"
    assert found["devices"]["edge-rtr1"]["error_kind"] in {"unreachable", "timeout"}
    hosts = outcome.record["hosts"]
    assert hosts["dist-sw2"]["failed"] == 1 and hosts["edge-rtr1"]["failed"] == 1
    others = sorted(n.name for n in lab.devices() if n.name not in {"dist-sw2", "edge-rtr1"})
    assert sorted(p.stem for p in (store / "running").glob("*.cfg")) == others
    assert "partial" in git(store, "log", "-1", "--format=%s")
    assert "wrong-password-1" not in (outcome.record_path.read_text() if outcome.record_path else "")


def test_golden_config_drift_is_reported_with_the_lines(lab: Lab, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    run("network_backup.yml", lab, tmp_path, network_backup_store=str(store))
    assert cli_check(lab.inventory_path, None, tmp_path, store=store) == 0
    configure(lab, "dist-sw1", ["no ntp server 169.254.1.123", "snmp-server community public RO"])
    try:
        code = cli_check(lab.inventory_path, "dist-sw1,core-sw1", tmp_path, store=store)
    finally:
        configure(lab, "dist-sw1", ["ntp server 169.254.1.123", "no snmp-server community public RO"])
    out = capsys.readouterr().out
    assert code == 1
    assert "dist-sw1 (access_switch): DRIFT" in out and "core-sw1 (core_switch): COMPLIANT" in out
    assert "missing   [ntp] ntp server 169.254.1.123" in out
    assert "forbidden [snmp_no_public] snmp-server community <removed> RO" in out
    assert "core-sw1 (core_switch): COMPLIANT\n  backup ok (last success" in out
    reports = sorted((tmp_path / "checks").glob("network-drift-*/drift.json"))
    assert reports and verify(AuditStore(tmp_path)).ok, "the drift report is sealed in the ledger"
    stored = json.loads(reports[-1].read_text())["devices"]
    assert {d["device"]: d["backup"]["health"] for d in stored}["core-sw1"] == "ok"


def test_check_mode_stores_nothing_and_limit_selects_devices(lab: Lab, tmp_path: Path) -> None:
    store = tmp_path / "store"
    options = {"playbook": str(REPO_ROOT / "playbooks" / "network_backup.yml"),
               "inventory": [str(lab.inventory_path)], "audit_dir": tmp_path / "audit",
               "extra_vars": {"network_backup_store": str(store)}}
    dry = run_playbook(RunOptions(**options, check=True))
    assert dry.exit_code == 0, dry.output_tail
    assert not store.exists()
    limited = run_playbook(RunOptions(**options, limit="dist-sw2,acc-sw5"))
    assert limited.exit_code == 0, limited.output_tail
    assert sorted(p.stem for p in (store / "running").glob("*.cfg")) == ["acc-sw5", "dist-sw2"]
