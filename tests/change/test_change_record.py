"""The change record (upd6): written after each install/update run of a change ref, built from sealed runs only,
sealed itself and covered by `sop audit verify`. The lab test (tests/patch) proves it on real patch runs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from runner.audit import AuditStore, verify
from runner.change.record import applies_to, batches, build, directory, stage_timing
from runner.paths import REPO_ROOT

pytestmark = pytest.mark.usefixtures("key_dir")  # a signing key of each test's own (tests/conftest.py)

SOP = str(REPO_ROOT / ".venv" / "bin" / "sop")
PLAYBOOK = Path(__file__).with_name("playbooks") / "six_stages.yml"
GATE = REPO_ROOT / "tests" / "audit" / "playbooks" / "gate.yml"


def _sop(audit: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SOP, *args, "--audit-dir", str(audit)], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, **env})


def _run(audit: Path, playbook: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _sop(audit, "run", str(playbook), "-i", "localhost,", "-q", *args, **env)


def _document(audit: Path, change_ref: str) -> dict:
    return json.loads((directory(audit, change_ref) / "change-record.json").read_text())


def test_written_after_each_run_and_sealed(tmp_path: Path) -> None:
    audit = tmp_path / "audit"
    first = _run(audit, PLAYBOOK, "--change-ref", "CR-T1")
    assert first.returncode == 0, first.stdout + first.stderr
    doc = _document(audit, "CR-T1")
    assert [s["id"] for s in doc["stages"]] == ["upd1", "upd2", "upd3", "upd4", "upd5", "upd6"]
    outcomes = {s["id"]: s["outcome"] for s in doc["stages"]}
    assert outcomes["upd1"] == outcomes["upd3"] == outcomes["upd4"] == "done"
    assert outcomes["upd2"] == "not evidenced by a task" and outcomes["upd6"] == "done (this record)"
    assert doc["plan"][0]["security"] == ["demo-app"] and doc["plan"][0]["host"] == "localhost"
    assert doc["package_changes"] == [{"run_id": doc["runs"][0]["run_id"], "host": "localhost",
                                       "name": "demo-app", "before": "1.0", "after": "1.1"}]
    assert "localhost: a reboot is needed and was not done (reboot policy)" in doc["evaluation"]["follow_ups"]
    assert doc["runs"][0]["ledger_seq"] == 2  # start, end of the one run
    html = (directory(audit, "CR-T1") / "change-record.html").read_text()
    assert "Document and evaluate" in html and "demo-app" in html and "<script" not in html

    second = _run(audit, PLAYBOOK, "--change-ref", "CR-T1", "-e", "six_stages_fail=true")
    assert second.returncode == 7, second.stdout
    doc = _document(audit, "CR-T1")
    assert len(doc["runs"]) == 2 and [r["status"] for r in doc["runs"]] == ["success", "failed"]
    assert doc["evaluation"]["problems"][0]["why"] == "demo-app does not answer on port 8081"
    assert {s["id"]: s["outcome"] for s in doc["stages"]}["upd4"] == "problems"
    assert verify(AuditStore(audit)).ok


def test_a_changed_change_record_fails_verify(tmp_path: Path) -> None:
    audit = tmp_path / "audit"
    assert _run(audit, PLAYBOOK, "--change-ref", "CR-T2").returncode == 0
    path = directory(audit, "CR-T2") / "change-record.md"
    path.write_text(path.read_text().replace("demo-app", "other-app"))
    result = verify(AuditStore(audit))
    assert not result.ok and any("changes/CR-T2/change-record.md" in p for p in result.problems), result.problems


def test_rebuilt_without_a_run_whose_record_no_longer_matches_the_ledger(tmp_path: Path) -> None:
    audit = tmp_path / "audit"
    assert _run(audit, PLAYBOOK, "--change-ref", "CR-T3").returncode == 0
    assert _run(audit, PLAYBOOK, "--change-ref", "CR-T3").returncode == 0
    first = AuditStore(audit).run_ids()[0]
    record = audit / "runs" / first / "record.json"
    record.write_text(record.read_text().replace('"success"', '"failed"', 1))
    rebuilt = _sop(audit, "audit", "change", "CR-T3")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"left out (record does not match the ledger): {first}" in rebuilt.stdout
    doc = _document(audit, "CR-T3")
    assert doc["excluded_runs"] == [first] and len(doc["runs"]) == 1


def test_unknown_change_ref_is_a_clear_error(tmp_path: Path) -> None:
    result = _sop(tmp_path / "audit", "audit", "change", "CR-NONE")
    assert result.returncode != 0 and "no run of change 'CR-NONE'" in result.stderr
    assert "Traceback" not in result.stderr


def test_only_install_update_runs_get_a_change_record(tmp_path: Path) -> None:
    audit = tmp_path / "audit"
    result = _run(audit, GATE, "--change-ref", "CR-G1", "-e", "sop_approved=true ansible_connection=local")
    assert result.returncode == 0, result.stdout
    assert not (audit / "changes").exists()


def test_batches_and_stage_timing_from_the_record() -> None:
    def task(name: str, started: str, hosts: list[str], steps: list[str]) -> dict:
        return {"name": name, "started": started, "sop_steps": steps, "results": [{"host": h} for h in hosts]}

    record = {"change_ref": "CR-X", "ended": "2026-12-01T22:00:30Z", "plays": [
        {"tasks": [task("plan", "2026-12-01T22:00:00Z", ["a", "b", "c"], ["upd1.1"])]},  # not an upd3 play
        {"tasks": [task("start", "2026-12-01T22:00:10Z", ["a"], []),
                   task("apply", "2026-12-01T22:00:12Z", ["a"], ["upd3.1"]),
                   task("start", "2026-12-01T22:00:20Z", ["b", "c"], []),
                   task("apply", "2026-12-01T22:00:21Z", ["b", "c"], ["upd3.1"])]}]}
    assert batches(record) == [["a"], ["b", "c"]]
    one_batch = {"plays": [{"tasks": [task("start", "t", ["a", "b"], []), task("apply", "t", ["a", "b"], ["upd3.1"])]}]}
    assert batches(one_batch) == [["a", "b"]]
    assert stage_timing(record) == {"upd1": 10.0, "upd2": 0.0, "upd3": 17.0, "upd4": 0.0, "upd5": 0.0,
                                    "upd6": 0.0}
    assert applies_to(record) and not applies_to({**record, "change_ref": None})
    assert build("CR-X", [])["outcome"] == "No sealed run of this change."


def test_in_indonesian_with_no_english_headings(tmp_path: Path) -> None:
    audit = tmp_path / "audit"
    assert _run(audit, PLAYBOOK, "--change-ref", "CR-T5", SOP_LANG="id").returncode == 0
    html = (directory(audit, "CR-T5") / "change-record.html").read_text()
    md = (directory(audit, "CR-T5") / "change-record.md").read_text()
    for indonesian in ("Catatan perubahan", "Enam tahap", "Dokumentasi dan evaluasi", "Belum berjalan di produksi.",
                       "perlu reboot dan belum dilakukan"):
        assert indonesian in html and indonesian in md, indonesian
    english = ("Runs of this change", "The six stages", "Document and evaluate", "Open follow-ups",
               "Not live in production", "Package changes", "What went wrong")
    assert not [t for t in english if t in html or t in md]
    doc = _document(audit, "CR-T5")  # the JSON stays language-neutral
    assert doc["outcome"].startswith("Not live in production.")
