"""The view of a run record an auditor reads: plain words, failures first, one section per SOP step."""

from __future__ import annotations

import difflib
from typing import Any

from runner.audit.failure import failure_reason
from runner.errors import PolicyError
from runner.policy.refs import SopStep, iso_controls, sop_steps

STATUS_TEXT = {
    "success": "Completed successfully",
    "failed": "Completed with failures",
    "unreachable": "Some hosts could not be reached",
    "refused": "Refused by a safety gate (nothing past the gate was done)",
    "error": "Did not run: an error stopped it before any host was touched",
    "aborted": "Aborted before completion (partial record)",
    "running": "Still running (partial record)",
}
RESULT_TEXT = {"ok": "done", "failed": "FAILED", "unreachable": "UNREACHABLE", "skipped": "skipped"}
# How strongly a task evidences its SOP steps (docs/tagging.md): a tag says "configures" (a prerequisite was set)
# or "verifies" (a check proved the outcome); any other task evidencing a step performed the step's action.
LEVELS = ("configured", "performed", "verified")
OUTCOME_TEXT = {"verified": "verified", "performed": "performed",
                "configured": "configured (a prerequisite was set; the step itself is not evidenced here)"}


def evidence_level(tags: list[str] | tuple[str, ...]) -> str:
    if "verifies" in tags:
        return "verified"
    return "configured" if "configures" in tags else "performed"


def _policy() -> tuple[dict[str, SopStep], dict[str, str]]:
    """The SOP steps and ISO controls (runner.policy.refs); empty when the policies cannot be read, so a
    broken policy file never costs a run its report."""
    try:
        return sop_steps(), iso_controls()
    except PolicyError:
        return {}, {}


def diff_text(diff: Any) -> str | None:
    """A module's diff (before/after, or prepared text) as unified-diff text; None when there is none."""
    if not diff:
        return None
    parts: list[str] = []
    for item in diff if isinstance(diff, list) else [diff]:
        if not isinstance(item, dict):
            parts.append(str(item))
        elif isinstance(item.get("prepared"), str):
            parts.append(item["prepared"])
        elif "before" in item or "after" in item:
            before, after = str(item.get("before") or ""), str(item.get("after") or "")
            parts.append("".join(difflib.unified_diff(
                before.splitlines(keepends=True), after.splitlines(keepends=True),
                fromfile=str(item.get("before_header") or "before"), tofile=str(item.get("after_header") or "after"))))
    text = "\n".join(p.rstrip("\n") for p in parts if p)
    return text or None


def _result_line(play: dict[str, Any], task: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    status = result["status"]
    if result.get("ignored"):
        status_text = "failed (ignored)"
    else:
        status_text = RESULT_TEXT.get(status, status) + (" + changed" if result.get("changed") else "")
    return {
        "play": play.get("name"),
        "task": task.get("name"),
        "action": task.get("action"),
        "host": result["host"],
        "status": status,
        "status_text": status_text,
        "changed": result.get("changed"),
        "msg": _plain_msg(result.get("msg")),
        "reason": _reason(result),
        "diff": diff_text(result.get("diff")),
        "stderr": result.get("stderr"),
        "evidence": result.get("evidence"),
        "duration_s": result.get("duration_s"),
        "items": result.get("items"),
        "gate": task.get("gate"),
        "sop_steps": task.get("sop_steps") or [],
        "iso_controls": task.get("iso_controls") or [],
        "level": evidence_level(task.get("tags") or []),
    }


def _reason(result: dict[str, Any]) -> str | None:
    """Why a failed task failed (records before schema 1.0's ``reason`` field: derived from what they hold)."""
    if result["status"] not in {"failed", "unreachable"}:
        return None
    return result.get("reason") or failure_reason(result)


def _plain_msg(msg: Any) -> Any:
    return "not applicable here (its condition was not met)" if msg == "Conditional result was False" else msg


def _lines(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _result_line(play, task, result)
        for play in record.get("plays", [])
        for task in play.get("tasks", [])
        for result in task["results"]
    ]


def _sop_sections(record: dict[str, Any], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    steps, controls = _policy()
    sections: dict[str, dict[str, Any]] = {}
    for line in lines:
        for step in line["sop_steps"]:
            info = steps.get(step)
            section = sections.setdefault(
                step,
                {
                    "id": step,
                    "en": info.en if info else "(step text not found in policies/sops.yml)",
                    "sop": info.sop if info else None,
                    "sop_title": info.sop_title if info else None,
                    "controls": {},
                    "lines": [],
                },
            )
            section["lines"].append(line)
            for cid in line["iso_controls"]:
                section["controls"][cid] = controls.get(cid, "")
    for section in sections.values():
        statuses = {
            ln["status"]
            for ln in section["lines"]
            if not (ln["status"] == "failed" and "ignored" in ln["status_text"])
        }
        section["outcome"] = _outcome(section["lines"], statuses)
        section["hosts"] = sorted({ln["host"] for ln in section["lines"]})
    return sorted(sections.values(), key=lambda s: (s["sop"] or "", s["id"]))


def _outcome(lines: list[dict[str, Any]], statuses: set[str]) -> str:
    """not done: failures | verified | performed | configured | skipped: the strongest evidence that succeeded."""
    if statuses & {"failed", "unreachable"}:
        return "not done: failures"
    done = [ln["level"] for ln in lines if ln["status"] == "ok"]
    if not done:
        return "skipped"
    return OUTCOME_TEXT[max(done, key=LEVELS.index)]


def run_model(record: dict[str, Any]) -> dict[str, Any]:
    """Everything the run templates show, derived from the record alone (the record is included as is)."""
    lines = _lines(record)
    problems = [
        ln for ln in lines if ln["status"] in {"failed", "unreachable"} and "ignored" not in ln["status_text"]
    ]
    operator = record.get("operator") or {}
    playbook = record.get("playbook") or {}
    return {
        "report": "run",
        "title": f"Run {record.get('run_id')}: {(playbook.get('path') or '?').rsplit('/', 1)[-1]}",
        "status": record.get("status"),
        "status_text": STATUS_TEXT.get(str(record.get("status")), str(record.get("status"))),
        "check": record.get("check"),
        "operator_text": _operator_text(operator, record.get("entry_point")),
        "refusals": record.get("refusals") or [],
        "problems": problems,
        "changes": [ln for ln in lines if ln["changed"] and ln["status"] == "ok"],
        "hosts": record.get("hosts") or {},
        "sop_sections": _sop_sections(record, lines),
        "lines": lines,
        "untagged": sum(1 for ln in lines if not ln["sop_steps"]),
        "record": record,
    }


def _operator_text(operator: dict[str, Any], entry_point: Any) -> str:
    who = operator.get("user") or operator.get("os_user") or "unknown"
    source = operator.get("source") or "unknown"
    parts = [f"{who} ({source}"]
    if operator.get("system") and operator.get("system") != source:
        parts.append(f", {operator['system']}")
    if operator.get("job_id"):
        parts.append(f", job {operator['job_id']}")
    parts.append(f") via {entry_point or 'unknown entry point'}")
    return "".join(parts)
