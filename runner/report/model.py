"""The view of a run record an auditor reads: plain words, failures first, one section per SOP step."""

from __future__ import annotations

import difflib
from typing import Any

from runner.audit.failure import failure_reason
from runner.errors import PolicyError
from runner.policy.refs import SopStep, iso_controls, sop_steps
from runner.report.i18n import N_, labels

# Fixed English texts of the view (and of report.json, which stays English): marked with N_, the templates
# show them in the report's language (the `tr` filter).
STATUS_TEXT = {
    "success": N_("Completed successfully"),
    "failed": N_("Completed with failures"),
    "unreachable": N_("Some hosts could not be reached"),
    "refused": N_("Refused by a safety gate (nothing past the gate was done)"),
    "error": N_("Did not run: an error stopped it before any host was touched"),
    "aborted": N_("Aborted before completion (partial record)"),
    "running": N_("Still running (partial record)"),
}
RUN_STATUS = labels("run_status", {"success": N_("success"), "failed": N_("failed"), "unreachable": N_("unreachable"),
                                   "refused": N_("refused"), "error": N_("error"), "aborted": N_("aborted"),
                                   "running": N_("running")})
RESULT_TEXT = {"ok": N_("done"), "failed": N_("FAILED"), "unreachable": N_("UNREACHABLE"), "skipped": N_("skipped")}
CHANGED_TEXT = {"ok": N_("done + changed"), "failed": N_("FAILED + changed")}
IGNORED_TEXT = N_("failed (ignored)")
NOT_APPLICABLE_TEXT = N_("not applicable here (its condition was not met)")
NO_STEP_TEXT = N_("(step text not found in policies/sops.yml)")
HOST_STATUS = labels("host_status", {"ok": N_("ok"), "changed": N_("changed"), "failed": N_("failed"),
                                     "unreachable": N_("unreachable")})
# How strongly a task evidences its SOP steps (docs/tagging.md): a tag says "configures" (a prerequisite was set)
# or "verifies" (a check proved the outcome); any other task evidencing a step performed the step's action.
LEVELS = ("configured", "performed", "verified")
OUTCOME_TEXT = {"verified": N_("verified"), "performed": N_("performed"),
                "configured": N_("configured (a prerequisite was set; the step itself is not evidenced here)")}
NOT_DONE_TEXT, SKIPPED_TEXT = N_("not done: failures"), N_("skipped")


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
    status_text = _status_text(status, bool(result.get("changed")), bool(result.get("ignored")))
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


def _status_text(status: str, changed: bool, ignored: bool) -> str:
    if ignored:
        return IGNORED_TEXT
    text = RESULT_TEXT.get(status, status)
    return CHANGED_TEXT.get(status, f"{text} + changed") if changed else text


def _reason(result: dict[str, Any]) -> str | None:
    """Why a failed task failed (records before schema 1.0's ``reason`` field: derived from what they hold)."""
    if result["status"] not in {"failed", "unreachable"}:
        return None
    return result.get("reason") or failure_reason(result)


def _plain_msg(msg: Any) -> Any:
    return NOT_APPLICABLE_TEXT if msg == "Conditional result was False" else msg


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
                    "en": info.en if info else NO_STEP_TEXT,
                    "id_short": info.id_short if info else None,
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
            if not (ln["status"] == "failed" and ln["status_text"] == IGNORED_TEXT)
        }
        section["outcome"] = _outcome(section["lines"], statuses)
        section["hosts"] = sorted({ln["host"] for ln in section["lines"]})
    return sorted(sections.values(), key=lambda s: (s["sop"] or "", s["id"]))


def _outcome(lines: list[dict[str, Any]], statuses: set[str]) -> str:
    """not done: failures | verified | performed | configured | skipped: the strongest evidence that succeeded."""
    if statuses & {"failed", "unreachable"}:
        return NOT_DONE_TEXT
    done = [ln["level"] for ln in lines if ln["status"] == "ok"]
    if not done:
        return SKIPPED_TEXT
    return OUTCOME_TEXT[max(done, key=LEVELS.index)]


def run_model(record: dict[str, Any]) -> dict[str, Any]:
    """Everything the run templates show, derived from the record alone (the record is included as is)."""
    lines = _lines(record)
    problems = [
        ln for ln in lines if ln["status"] in {"failed", "unreachable"} and ln["status_text"] != IGNORED_TEXT
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
