"""The monthly report from a synthetic month written the way the audit callback writes runs (real ledger, real
asset register, real SLA evaluation). Every figure is compared with a count made here from the inputs; the lab
test (test_monthly_lab.py) does the same on runs made on the lab."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audit"))
from audit_helpers import fake_run

from runner.assets.register import Register
from runner.audit import AuditStore
from runner.files import write_json_private
from runner.monthly.period import Month
from runner.monthly.report import build, monthly
from runner.paths import REPO_ROOT

JAKARTA = ZoneInfo("Asia/Jakarta")
SOP = str(REPO_ROOT / ".venv" / "bin" / "sop")
GENERIC = REPO_ROOT / "tests" / "sla" / "exports" / "generic.csv"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOP_AUDIT_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("SOP_ASSETS_DB", str(tmp_path / "assets" / "register.sqlite"))
    for name in ("SOP_AUDIT_KEY", "SOP_AUDIT_KEY_FILE", "SOP_AUDIT_TRUSTED_KEYS", "SOP_AUDIT_STORE",
                 "SOP_AUDIT_ANCHOR", "SOP_LANG"):
        monkeypatch.delenv(name, raising=False)


def _this_month() -> Month:
    now = dt.datetime.now(JAKARTA)
    return Month(now.year, now.month, JAKARTA)


def _at(month: Month, day: int, hour: int = 10) -> str:
    return dt.datetime(month.year, month.month, day, hour, tzinfo=JAKARTA).astimezone(dt.UTC).isoformat()


def _task(name: str, tags: list[str]) -> dict:
    steps = [t for t in tags if not t.startswith("iso") and t not in ("configures", "verifies")]
    return {"id": "t1", "name": name, "action": "x", "tags": tags, "sop_steps": steps, "iso_controls": []}


BACKUP_TASK = _task("Back up now | sop4.1", ["sop4.1", "iso8.13"])
VERIFY_TASK = _task("Verify | sop4.2", ["sop4.2", "verifies", "iso8.13"])
JOURNAL_TASK = _task("Persistent journal | pti.C.2", ["pti.C.2", "configures"])


def _backup(repos: dict[str, str]) -> dict:
    return {"host": None, "status": "ok", "hooks": [], "finished": "2026-12-01T00:00:00Z",
            "repositories": [{"repository": r, "status": s, "snapshot_id": f"{r}0123456789"} for r, s in repos.items()]}


@pytest.fixture
def month_audit(tmp_path: Path) -> tuple[Path, Month]:
    """A month: 3 backup runs (one cloud failure), a verification, a run that only configured a step, a run the
    month before, and a security check document."""
    root, month = tmp_path / "audit", _this_month()
    store = AuditStore(root)
    fake_run(store, hosts=("h1", "h2"), started=_at(month, 1), playbook="/p/backup.yml", task=BACKUP_TASK,
             evidence=_backup({"local": "ok", "cloud": "ok"}), change_ref=None)
    fake_run(store, hosts=("h1",), started=_at(month, 2), playbook="/p/backup.yml", task=BACKUP_TASK,
             evidence=_backup({"local": "ok", "cloud": "failed"}), change_ref=None)
    fake_run(store, hosts=("h1", "h2"), started=_at(month, 2, 11), playbook="/p/backup_verify.yml",
             task=VERIFY_TASK, change_ref=None,
             evidence={"verdict": "pass", "finished": _at(month, 2, 11),
                       "repositories": [{"repository": "local", "verdict": "pass"}]})
    fake_run(store, hosts=("h1",), started=_at(month, 3), playbook="/p/harden.yml", task=JOURNAL_TASK,
             evidence={"x": 1}, change_ref=None)
    fake_run(store, hosts=("h1",), failed="h1", started=_at(month, 3, 12), playbook="/p/backup.yml",
             task=BACKUP_TASK, evidence=_backup({"local": "failed"}), change_ref=None)
    before = month.previous()
    fake_run(store, hosts=("h1", "h2"), started=_at(before, 5), playbook="/p/backup.yml", task=BACKUP_TASK,
             evidence=_backup({"local": "ok"}), change_ref=None)
    _check(root, month, "check-a", {"h1": ["pass", "fail", "pass", "pass"], "h2": ["pass"] * 4})
    _check(root, before, "check-b", {"h1": ["pass", "fail", "fail", "pass"]})
    return root, month


def _check(root: Path, month: Month, check_id: str, statuses: dict[str, list[str]]) -> None:
    results = [{"host": h, "control": f"C{i}", "title": f"control {i}", "status": s, "severity": "high",
                "message": "", "seen": None, "required": None}
               for h, row in statuses.items() for i, s in enumerate(row)]
    doc = {"check_id": check_id, "started": _at(month, 4), "hosts": {h: ["linux"] for h in statuses},
           "results": results, "collection_run": {"run_id": None}}
    path = root / "checks" / check_id / "check.json"
    path.parent.mkdir(parents=True)
    write_json_private(path, doc)
    AuditStore(root).attach("-", {"json": path})


def test_backup_figures_equal_a_count_of_the_inputs(month_audit: tuple[Path, Month]) -> None:
    root, month = month_audit
    doc = build(root, month)
    repos = {(r["host"], r["repository"]): (r["ok"], r["failed"]) for r in doc["sections"]["backups"]["repositories"]}
    # month: run 1 h1+h2 local ok, cloud ok; run 2 h1 local ok, cloud failed; run 5 h1 local failed
    assert repos == {("h1", "local"): (2, 1), ("h1", "cloud"): (1, 1), ("h2", "local"): (1, 0),
                     ("h2", "cloud"): (1, 0)}
    assert len(doc["sections"]["backups"]["failures"]) == 2
    assert {v["verdict"] for v in doc["sections"]["backups"]["verifications"]} == {"pass"}
    assert doc["headline"]["runs"] == 5 and doc["headline"]["problem_runs"] == 1  # the month before is not counted
    failed = doc["sections"]["incidents"]["runs"]
    assert [r["playbook"] for r in failed] == ["backup.yml"] and failed[0]["status"] == "failed"


def test_configured_evidence_never_counts(month_audit: tuple[Path, Month]) -> None:
    root, month = month_audit
    steps = {r["step"]: r for r in build(root, month)["sop_steps"]}
    assert (steps["sop4.1"]["performed"], steps["sop4.2"]["verified"]) == (2, 1)  # the failed backup: not done
    assert steps["pti.C.2"]["performed"] == steps["pti.C.2"]["verified"] == 0
    assert len(steps["pti.C.2"]["configured_only"]) == 1


def test_security_scores_and_trend_against_the_previous_month(month_audit: tuple[Path, Month]) -> None:
    root, month = month_audit
    security = build(root, month)["sections"]["security"]
    hosts = {h["host"]: (h["score_pct"], h["previous_pct"], h["trend"]) for h in security["hosts"]}
    assert hosts == {"h1": (75.0, 50.0, 25.0), "h2": (100.0, None, None)}
    assert [(c["control"], c["hosts"]) for c in security["failed_controls"]] == [("C1", ["h1"])]


def test_sections_without_a_source_say_no_data(month_audit: tuple[Path, Month]) -> None:
    root, month = month_audit
    sections = build(root, month)["sections"]
    for name in ("support", "devices", "patches", "network"):
        assert sections[name]["data"] is False and sections[name]["why"], name


def test_asset_register_section(month_audit: tuple[Path, Month], tmp_path: Path) -> None:
    root, month = month_audit
    with Register.configured() as register:
        for tag in ("LT-1", "LT-2", "LT-3"):
            register.apply(tag, "create", {"serial": tag, "next_maintenance_due": "2000-01-01"})
        register.apply("LT-1", "assign", {"assignee_name": "Dewi"}, run_id="20260101T000000Z-aaaaaaaa")
    devices = build(root, month)["sections"]["devices"]
    assert devices["total"] == 3 and devices["by_status"] == {"assigned": 1, "in_stock": 2}
    assert [h["tag"] for h in devices["handovers"]] == ["LT-1"]
    assert sorted(a["tag"] for a in devices["overdue"]) == ["LT-1", "LT-2", "LT-3"]


def test_support_figures_from_a_ticket_export(month_audit: tuple[Path, Month]) -> None:
    """November 2026 of tests/sla/exports/generic.csv, by hand: created in November are T1 (P2, answered Tue 08:30
    after Mon 16:00 = 1h30 business > 1h: breached by 30 min, solved 5 h later: met), T2 (P3, 30 min; 40 h net of a
    24 h pause: met), T3 (P1 on a Saturday, wall clock: met, met), T5 (P2 on a Saturday: 20 business minutes, met).
    Rows that cannot be read are listed whatever their month: T7 (line 8, bad date), T8 (line 9, unknown
    priority), T9 (line 10, solved before created)."""
    root, _ = month_audit
    november = Month(2026, 11, JAKARTA)
    support = build(root, november, tickets=GENERIC)["sections"]["support"]
    assert support["counts"]["evaluated"] == 4 and support["counts"]["breached"] == 1
    assert [(b["ticket"], b["response"]["margin_s"]) for b in support["breaches"]] == [("T1", -1800)]
    per = {p["priority"]: (p["tickets"], p["response"]["compliance_pct"]) for p in support["per_priority"]}
    assert per == {"P1": (1, 100.0), "P2": (2, 50.0), "P3": (1, 100.0)}
    assert {m["where"] for m in support["malformed"]} == {"line 8", "line 9", "line 10"}


def test_written_sealed_and_verified(month_audit: tuple[Path, Month]) -> None:
    root, month = month_audit
    report = monthly(root, month.label, lang="en", pdf=False)
    assert set(report.paths) == {"html", "md", "json"}
    html = report.paths["html"].read_text()
    assert "<svg" in html and "<script" not in html and "Backup status" in html
    assert f'href="../../runs/{report.document["sections"]["backups"]["failures"][0]["run_id"]}/report.html"' in html
    from runner.audit import verify

    assert verify(AuditStore(root), seal=False).ok
    report.paths["md"].write_text("altered\n")
    result = verify(AuditStore(root), seal=False)
    assert any(f"reports/monthly-{month.label}/monthly-{month.label}-en.md" in p for p in result.problems)


def test_a_tampered_run_is_left_out_and_the_broken_ledger_is_on_top(month_audit: tuple[Path, Month]) -> None:
    root, month = month_audit
    first = next(r["run_id"] for r in AuditStore(root).records() if r["started"] == _at(month, 1))
    record = root / "runs" / first / "record.json"
    record.write_text(record.read_text().replace('"h2"', '"hx"'))
    result = subprocess.run([SOP, "report", "monthly", month.label, "--audit-dir", str(root), "--no-pdf"],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1 and "LEDGER BROKEN" in result.stdout, result.stdout + result.stderr
    doc = json.loads(next(p for p in (root / "reports").rglob("*.json")).read_text())
    assert f"runs/{first}/record.json" in doc["unsealed"] and doc["headline"]["runs"] == 4
    md = next((root / "reports").rglob("*.md")).read_text()
    assert md.index("does NOT verify") < md.index("The month at a glance")


def test_indonesian_has_no_english_section_titles(month_audit: tuple[Path, Month]) -> None:
    root, month = month_audit
    english = ("Support requests", "Device status", "Security baseline", "Security incidents", "Backup status",
               "Patch compliance", "Network", "The month at a glance", "Evidence integrity")
    indonesian = ("Permintaan dukungan", "Status perangkat", "Baseline keamanan", "Insiden keamanan",
                  "Status cadangan data", "Kepatuhan pembaruan", "Jaringan", "Sekilas bulan ini", "Integritas bukti")
    id_html = monthly(root, month.label, lang="id", pdf=False).paths["html"].read_text()
    en_html = monthly(root, month.label, lang="en", pdf=False).paths["html"].read_text()
    assert all(t in id_html for t in indonesian) and all(t in en_html for t in english)
    assert not [t for t in english if f">{t}<" in id_html]
    assert not [t for t in indonesian if t in en_html]
    assert '<html lang="id">' in id_html


def test_bad_month_and_bad_language_are_one_clear_line(tmp_path: Path) -> None:
    for args, needle in ((["2026-13"], "expected YYYY-MM"), (["2026-11", "--lang", "fr"], "'fr': not one of en, id")):
        result = subprocess.run([SOP, "report", "monthly", *args, "--audit-dir", str(tmp_path)],
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode != 0 and needle in result.stderr and "Traceback" not in result.stderr


def test_delivery_command_gets_the_files(month_audit: tuple[Path, Month], tmp_path: Path) -> None:
    root, month = month_audit
    sink = tmp_path / "delivered.txt"
    script = tmp_path / "deliver.sh"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {sink}\n')
    script.chmod(0o755)
    result = subprocess.run([SOP, "report", "monthly", month.label, "--audit-dir", str(root), "--no-pdf",
                             "--deliver-command", str(script)], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "delivered by" in result.stdout
    assert sorted(Path(p).suffix for p in sink.read_text().split()) == [".html", ".json", ".md"]
