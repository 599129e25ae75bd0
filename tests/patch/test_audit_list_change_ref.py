"""`sop audit list --change-ref CR-...` finds every run of one change (upd6.3)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from runner.cli.audit import list_runs


def _record(audit: Path, run_id: str, change_ref: str | None) -> None:
    run = audit / "runs" / run_id
    run.mkdir(parents=True)
    (run / "record.json").write_text(json.dumps({
        "run_id": run_id, "started": "2026-12-02T05:00:00Z", "status": "success", "change_ref": change_ref,
        "playbook": {"path": "playbooks/patch.yml"}, "hosts": {"stg-app1": {}}, "plays": [], "refusals": []}))


def test_list_filters_by_change_ref(tmp_path: Path) -> None:
    _record(tmp_path, "20261202T050000Z-aaaaaaaa", "CR-1")
    _record(tmp_path, "20261202T050100Z-bbbbbbbb", "CR-2")
    _record(tmp_path, "20261202T050200Z-cccccccc", "CR-1")
    result = CliRunner().invoke(list_runs, ["--audit-dir", str(tmp_path), "--change-ref", "CR-1", "--json"])
    assert result.exit_code == 0, result.output
    ids = [json.loads(line)["run_id"] for line in result.output.splitlines()]
    assert ids == ["20261202T050000Z-aaaaaaaa", "20261202T050200Z-cccccccc"]
