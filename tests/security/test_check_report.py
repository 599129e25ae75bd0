"""The baseline check report at a glance: a score per host, a control x host matrix, readable seen/required."""

from __future__ import annotations

import json
from pathlib import Path

from runner.check.report import matrix, render_reports, scores


def _row(host: str, control: str, status: str, seen, required) -> dict:
    return {"host": host, "control": control, "title": f"title of {control}", "severity": "high", "status": status,
            "message": f"{control} on {host}", "seen": seen, "required": required, "sop_steps": ["sop5.1"],
            "iso": ["8.5"]}


DOC = {"check_id": "20261202T000000Z-abcd", "started": "2026-12-02T00:00:00", "duration_s": 1.5,
       "counts": {"pass": 3, "fail": 2, "waived": 1, "not_applicable": 1}, "exit_code": 1, "hosts": ["h1", "h2"],
       "waiver_files": [], "collection_run": {"run_id": "R", "status": "success"},
       "results": [_row("h1", "SSH-001", "fail", {"passwordauthentication": "yes"}, {"passwordauthentication": "no"}),
                   _row("h2", "SSH-001", "pass", {"passwordauthentication": "no"}, {"passwordauthentication": "no"}),
                   _row("h1", "PWD-002", "pass", [["pass_max_days", 90]], {"pass_max_days": 90}),
                   _row("h2", "PWD-002", "waived", {}, {"pass_max_days": 90}),
                   _row("h1", "AV-001", "pass", {"clamav": {"active": True}}, {"clamav": {"active": True}}),
                   _row("h2", "AV-001", "fail", {"clamav": {"active": False}}, {"clamav": {"active": True}}),
                   _row("h2", "MFA-001", "not_applicable", None, None)]}


def test_scores_count_only_judged_controls() -> None:
    got = scores(DOC)
    assert got["h1"]["score_pct"] == 66.7 and (got["h1"]["pass"], got["h1"]["fail"]) == (2, 1)
    assert got["h2"]["score_pct"] == 50.0, "1 pass of 2 judged; the waiver and n/a do not count"
    assert (got["h2"]["waived"], got["h2"]["not_applicable"]) == (1, 1)


def test_matrix_has_failing_controls_first_and_a_cell_per_host() -> None:
    rows = matrix(DOC)
    assert [r["control"] for r in rows[:2]] == ["AV-001", "SSH-001"]
    assert {r["control"]: r["cells"] for r in rows}["MFA-001"] == ["", "not_applicable"]


def test_reports_show_scores_matrix_and_key_value_findings(tmp_path: Path) -> None:
    paths = render_reports(DOC, tmp_path)
    html, md = paths["html"].read_text(), paths["md"].read_text()
    assert "Compliance per host" in html and "66.7 %" in html and "Controls &times; hosts" in html
    assert "clamav.active: False" in html and "{&#34;clamav" not in html and '{"clamav' not in html
    assert "| h2 | 50.0 % | 1 | 1 | 0 | 1 | 1 |" in md
    assert "| SSH-001 title of SSH-001 | fail | pass |" in md
    data = json.loads(paths["json"].read_text())
    assert "scores" not in data and len(data["results"]) == 7, "the JSON stays the check's own document"
