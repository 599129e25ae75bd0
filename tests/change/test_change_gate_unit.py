"""The production change gate's decisions, with a real signed ledger in a temporary audit dir."""

from __future__ import annotations

import json
from pathlib import Path

from runner.audit import ledger
from runner.audit.events import sha256_file
from runner.change.gate import GateRequest, decide, normalise_approvals, operator_names

PROD = frozenset({"prod-app1", "prod-db1"})
STAGING = frozenset({"stg-app1"})


def _request(tmp_path: Path, **overrides) -> GateRequest:
    values = {
        "playbook": "harden.yml", "targets": ("prod-app1",), "protected_hosts": PROD, "staging_hosts": STAGING,
        "change_ref": "CHG-7", "approvals": {"it_manager": "Budi"}, "approver_roles": ("it_manager",),
        "operator_names": frozenset({"root"}), "check_mode": False, "require_staging": True,
        "audit_dir": tmp_path,
    }
    return GateRequest(**{**values, **overrides})


def _sealed_run(audit_dir: Path, run_id: str, **record) -> Path:
    run_dir = audit_dir / "runs" / run_id
    run_dir.mkdir(parents=True)
    base = {"playbook": {"path": "/x/playbooks/harden.yml"}, "change_ref": "CHG-7", "status": "success",
            "check": False, "hosts": {"stg-app1": {}}}
    (run_dir / "record.json").write_text(json.dumps({**base, **record}))
    (run_dir / "events.jsonl").write_text("")
    ledger.append(audit_dir, "end", run_id, {"record": sha256_file(run_dir / "record.json")}, status="success")
    return run_dir / "record.json"


def test_staging_only_runs_need_nothing(tmp_path: Path) -> None:
    decision = decide(_request(tmp_path, targets=("stg-app1",), change_ref="", approvals={}))
    assert decision.allowed and decision.protected_targets == []


def test_check_mode_on_production_needs_nothing(tmp_path: Path) -> None:
    assert decide(_request(tmp_path, check_mode=True, change_ref="", approvals={})).allowed


def test_refuses_without_change_ref_and_approval(tmp_path: Path) -> None:
    decision = decide(_request(tmp_path, change_ref="", approvals={}))
    assert not decision.allowed
    assert any("no change reference" in r for r in decision.reasons)
    assert any("no approval by it_manager" in r for r in decision.reasons)
    assert decision.message("harden.yml").startswith("REFUSED: harden.yml would change protected hosts (prod-app1)")


def test_refuses_an_operator_approving_their_own_change(tmp_path: Path) -> None:
    _sealed_run(tmp_path, "20261121T000000Z-aaaaaaaa")
    decision = decide(_request(tmp_path, approvals={"it_manager": "Root"}))
    assert not decision.allowed and "segregation of duties" in decision.reasons[0]


def test_refuses_without_staging_evidence(tmp_path: Path) -> None:
    decision = decide(_request(tmp_path))
    assert not decision.allowed and "no successful run of harden.yml under CHG-7 on staging" in decision.reasons[0]


def test_allows_with_a_sealed_staging_run(tmp_path: Path) -> None:
    _sealed_run(tmp_path, "20261121T000000Z-aaaaaaaa")
    decision = decide(_request(tmp_path))
    assert decision.allowed and decision.staging_run == "20261121T000000Z-aaaaaaaa"


def test_staging_evidence_must_match_ref_playbook_hosts_status_and_mode(tmp_path: Path) -> None:
    _sealed_run(tmp_path, "20261121T000001Z-aaaaaaa1", change_ref="CHG-8")
    _sealed_run(tmp_path, "20261121T000002Z-aaaaaaa2", playbook={"path": "/x/playbooks/backup.yml"})
    _sealed_run(tmp_path, "20261121T000003Z-aaaaaaa3", status="failed")
    _sealed_run(tmp_path, "20261121T000004Z-aaaaaaa4", check=True)
    _sealed_run(tmp_path, "20261121T000005Z-aaaaaaa5", hosts={"stg-app1": {}, "prod-app1": {}})
    assert not decide(_request(tmp_path)).allowed


def test_a_record_altered_after_sealing_is_no_evidence(tmp_path: Path) -> None:
    record = _sealed_run(tmp_path, "20261121T000000Z-aaaaaaaa", status="failed")
    record.write_text(record.read_text().replace('"failed"', '"success"'))
    assert not decide(_request(tmp_path)).allowed


def test_a_run_without_ledger_entry_is_no_evidence(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "20261121T000000Z-aaaaaaaa"
    run_dir.mkdir(parents=True)
    (run_dir / "record.json").write_text(json.dumps({
        "playbook": {"path": "harden.yml"}, "change_ref": "CHG-7", "status": "success", "check": False,
        "hosts": {"stg-app1": {}}}))
    assert not decide(_request(tmp_path)).allowed


def test_approvals_merge_and_normalise() -> None:
    merged = normalise_approvals('{"IT-Manager": "Ani"}', {"data owner": "Budi"}, {"it_manager": " Citra "}, None)
    assert merged == {"it_manager": "Citra", "data_owner": "Budi"}


def test_operator_names_ignore_empty_fields() -> None:
    assert operator_names({"user": "Ani", "os_user": "root", "sudo_user": None}) == frozenset({"ani", "root"})


def test_staging_success_counts_only_within_its_validity(tmp_path: Path) -> None:
    """policies/patching.yml staging.valid_hours: an older staging success is no evidence (upd2.3)."""
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    old = (now - dt.timedelta(hours=10)).isoformat()
    _sealed_run(tmp_path, "20261121T000000Z-aaaaaaaa", ended=old)
    assert decide(_request(tmp_path, staging_max_age_hours=24)).allowed
    refused = decide(_request(tmp_path, staging_max_age_hours=5))
    assert not refused.allowed and "within the last 5 h" in refused.reasons[0]
