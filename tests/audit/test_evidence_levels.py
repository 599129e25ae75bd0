"""A step's outcome in the run report says how strong its evidence is: configured, performed or verified."""

from __future__ import annotations

from runner.report.model import evidence_level, run_model
from runner.report.render import render_text


def _task(name: str, tags: list[str], status: str = "ok") -> dict:
    steps = [t for t in tags if t.startswith(("sop", "pti."))]
    return {"id": name, "name": name, "action": "ansible.builtin.command", "tags": tags, "sop_steps": steps,
            "iso_controls": [], "results": [{"host": "h1", "status": status, "changed": False}]}


def _sections(*tasks: dict) -> dict[str, str]:
    record = {"run_id": "20261202T000000Z-abcdef01", "status": "success",
              "plays": [{"name": "p", "tasks": list(tasks)}]}
    return {s["id"]: s["outcome"] for s in run_model(record)["sop_sections"]}


def test_levels_come_from_the_task_tags() -> None:
    assert evidence_level(["sop5.5", "configures"]) == "configured"
    assert evidence_level(["verifies", "sop5.5"]) == "verified"
    assert evidence_level(["sop4.1"]) == "performed"


def test_a_prerequisite_alone_is_not_reported_as_done() -> None:
    outcome = _sections(_task("Keep the journal on disk", ["configures", "pti.C.2", "sop5.5"]))
    assert outcome["pti.C.2"].startswith("configured (a prerequisite was set")
    assert "done" not in outcome["pti.C.2"]


def test_the_strongest_successful_evidence_wins_and_failures_still_show() -> None:
    outcome = _sections(_task("Load the policy", ["configures", "sop4.2"]), _task("Verify", ["verifies", "sop4.2"]),
                        _task("Back up", ["sop4.1"]), _task("Check", ["verifies", "sop5.1"], status="failed"))
    assert outcome == {"sop4.2": "verified", "sop4.1": "performed", "sop5.1": "not done: failures"}


def test_the_report_shows_the_level() -> None:
    record = {"run_id": "20261202T000000Z-abcdef01", "status": "success",
              "plays": [{"name": "p", "tasks": [_task("Keep the journal on disk", ["configures", "pti.C.2"])]}]}
    text = render_text(run_model(record), template="run", fmt="md")
    assert "pti.C.2" in text and "configured (a prerequisite was set" in text
