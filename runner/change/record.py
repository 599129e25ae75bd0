"""The change record of one change ref (install/update SOP upd6.1-6.3; ISO/IEC 27001:2022 8.32): every sealed run
of the change (staging, production, retries) folded into one document, in the six stages of the SOP.

Built only from run records whose hash matches their signed ledger entry, rewritten after each run of the change
(``AuditStore.finish``) under ``<audit dir>/changes/<change ref>/`` and sealed there by an ``attach`` entry, so
``sop audit verify`` covers it. ``sop audit change CR`` rebuilds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runner.audit.events import utcnow
from runner.audit.evidence import sealed_records
from runner.audit.store import AuditStore
from runner.monthly.period import parse_time
from runner.report.i18n import message, text
from runner.report.model import run_model
from runner.report.render import render

# Titles, what they cover and the stage outcomes are msgids: the templates translate them (change.po).
STAGES = (
    ("upd1", "Plan", "need, impact (pending updates, reboot, restarts), schedule, approval, announcement"),
    ("upd2", "Prepare", "pre-change backup, packages signed and scanned for malware, staging first"),
    ("upd3", "Execute", "the change in batches, every package's version before and after, apt history"),
    ("upd4", "Validate", "functional and security checks, stakeholder acceptance before production"),
    ("upd5", "Go live and monitor", "reboot if needed, re-validation after settling, rollback on failure"),
    ("upd6", "Document and evaluate", "this record, the evaluation, the archive in the signed ledger"),
)
FORMATS = ("json", "md", "html")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def applies_to(record: dict[str, Any]) -> bool:
    """An install/update run: it has a change ref and a task evidencing upd3 (execute)."""
    return bool(record.get("change_ref")) and any(
        step.startswith("upd3.") for task in _tasks(record) for step in task.get("sop_steps") or [])


def directory(root: Path, change_ref: str) -> Path:
    return Path(root) / "changes" / (_UNSAFE.sub("_", change_ref).lstrip(".") or "_")


def _tasks(record: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for play in record.get("plays") or []:
        yield from play.get("tasks") or []


def _stage_of(task: dict[str, Any]) -> str | None:
    stages = sorted({s.split(".", 1)[0] for s in task.get("sop_steps") or [] if s.startswith("upd")})
    return stages[0] if stages else None


def _seconds_between(start: str | None, end: str | None) -> float:
    began, ended = parse_time(start), parse_time(end)
    return max(0.0, (ended - began).total_seconds()) if began and ended else 0.0


def stage_timing(record: dict[str, Any]) -> dict[str, float]:
    """Wall-clock seconds per stage: each task lasts until the next task starts (the last until the run ends)."""
    tasks = [t for t in _tasks(record) if t.get("started")]
    ends = [t["started"] for t in tasks[1:]] + [record.get("ended")]
    timing = {stage: 0.0 for stage, *_ in STAGES}
    for task, end in zip(tasks, ends, strict=True):
        stage = _stage_of(task)
        if stage:
            timing[stage] += _seconds_between(task["started"], end)
    return {k: round(v, 1) for k, v in timing.items()}


def batches(record: dict[str, Any]) -> list[list[str]]:
    """The hosts of each batch of the plays that execute the change (upd3): with ``serial``, a play's first task
    starts again for every batch; a play run as one batch has its tasks once."""
    found: list[list[str]] = []
    for play in record.get("plays") or []:
        tasks = play.get("tasks") or []
        if not any(_stage_of(t) == "upd3" for t in tasks):
            continue
        first = tasks[0].get("name")
        for index, task in enumerate(tasks):
            if index == 0 or task.get("name") == first:
                found.append([])
            for result in task.get("results") or []:
                if result["host"] not in found[-1]:
                    found[-1].append(result["host"])
    return [b for b in found if b]


def _scope(record: dict[str, Any]) -> str:
    """production (the change gate protected a target), staging (it protected none), or not gated."""
    gates = [line["evidence"]["change_gate"] for line in _evidence(record, "change_gate")]
    if any(gate.get("protected_targets") for gate in gates):
        return "production"
    return "staging" if gates else "not gated"


def _lines(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's result lines as the run report shows them (computed once per record)."""
    if "_lines" not in record:
        model = run_model(record)
        record["_lines"], record["_problems"] = model["lines"], model["problems"]
    return record["_lines"]


def _problems(record: dict[str, Any]) -> list[dict[str, Any]]:
    _lines(record)
    return record["_problems"]


def _evidence(record: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Result lines whose evidence is of ``kind`` (a ``kind`` value, or a top-level key such as change_gate)."""
    lines = []
    for line in _lines(record):
        evidence = line.get("evidence")
        if isinstance(evidence, dict) and (evidence.get("kind") == kind or kind in evidence):
            lines.append(line)
    return lines


def _change_facts(record: dict[str, Any]) -> dict[str, Any]:
    for value in (record.get("evidence") or {}).values():
        if isinstance(value, dict) and isinstance(value.get("patch_change"), dict):
            return value["patch_change"]
    return {}


def _run_summary(record: dict[str, Any], ledger_seq: dict[str, int]) -> dict[str, Any]:
    facts = _change_facts(record)
    operator = record.get("operator") or {}
    return {
        "run_id": record.get("run_id"), "started": record.get("started"), "ended": record.get("ended"),
        "duration_s": record.get("duration_s"), "status": record.get("status"), "check": bool(record.get("check")),
        "scope": _scope(record), "limit": record.get("limit"), "hosts": sorted(record.get("hosts") or {}),
        "operator": operator.get("user") or operator.get("os_user"), "approvals": record.get("approvals") or {},
        "reason": record.get("reason"), "mode": facts.get("mode"), "packages": facts.get("packages") or [],
        "window": (facts.get("window") or {}).get("window"), "emergency_reason": facts.get("emergency_reason"),
        "playbook": ((record.get("playbook") or {}).get("path") or "").rsplit("/", 1)[-1],
        "ledger_seq": ledger_seq.get(str(record.get("run_id"))), "timing": stage_timing(record),
        "batches": batches(record),
    }


def _host_lines(record: dict[str, Any], kind: str, *keys: str) -> list[dict[str, Any]]:
    rows = []
    for line in _evidence(record, kind):
        evidence = line["evidence"]
        rows.append({"run_id": record.get("run_id"), "host": line["host"], "task": line["task"],
                     "status": line["status"], "msg": line.get("reason") or line.get("msg"),
                     **{k: evidence.get(k) for k in keys}})
    return rows


def _named_tasks(record: dict[str, Any], stage_step: str, words: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"run_id": record.get("run_id"), "host": ln["host"], "task": ln["task"], "status": ln["status_text"],
             "msg": ln.get("reason") or ln.get("msg")}
            for ln in _lines(record)
            if stage_step in ln["sop_steps"] and any(w in (ln["task"] or "").lower() for w in words)]


def _sections(record: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    gate = [{"run_id": record.get("run_id"), **ln["evidence"]["change_gate"], "msg": ln.get("msg")}
            for ln in _evidence(record, "change_gate")]
    applied = _host_lines(record, "patch_apply", "changes", "history", "reboot_required")
    return {
        "plan": _host_lines(record, "patch_plan", "pending", "security", "other", "reboot_required", "services",
                            "source_problems"),
        "announcement": _named_tasks(record, "upd1.3", ("announce", "notify")),
        "backups": _host_lines(record, "repositories", "status", "repositories"),
        "scans": _host_lines(record, "patch_download", "scan"),
        "gate": gate,
        "applied": applied,
        "package_changes": [{"run_id": row["run_id"], "host": row["host"], **change}
                            for row in applied for change in row.get("changes") or []],
        "validations": _host_lines(record, "patch_validate", "passed", "results")
        + _host_lines(record, "security_baseline_check", "summary"),
        "reboots": _named_tasks(record, "upd5.1", ("reboot",)),
        "rollbacks": _host_lines(record, "patch_rollback", "changes", "downgrade_impossible")
        + _named_tasks(record, "upd5.3", ("restore",)),
    }


def _stage_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per stage: every task result that evidences it, run by run, and its total time."""
    rows = []
    for stage, title, what in STAGES:
        lines = [{"run_id": r.get("run_id"), **ln} for r in records for ln in _lines(r)
                 if any(s.split(".", 1)[0] == stage for s in ln["sop_steps"])]
        failed = [ln for ln in lines
                  if ln["status"] in {"failed", "unreachable"} and "ignored" not in ln["status_text"]]
        done = [ln for ln in lines if ln["status"] == "ok"]
        outcome = "problems" if failed else "done" if done else "not evidenced by a task"
        if stage == "upd6":
            outcome = "done (this record)"
        rows.append({"id": stage, "title": title, "what": what, "outcome": outcome,
                     "seconds": round(sum(r["timing_all"].get(stage, 0.0) for r in records), 1),
                     "lines": [{k: ln.get(k) for k in ("run_id", "task", "host", "status", "status_text", "msg",
                                                       "reason", "sop_steps")} for ln in lines]})
    return rows


def _evaluation(records: list[dict[str, Any]], runs: list[dict[str, Any]],
                sections: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    problems = [{"run_id": r.get("run_id"), "host": ln["host"], "task": ln["task"], "why": ln["reason"] or ln["msg"]}
                for r in records for ln in _problems(r)]
    refusals = [{"run_id": r.get("run_id"), **g} for r in records for g in r.get("refusals") or []]
    rolled_back = sorted({row["host"] for row in sections["rollbacks"] if row["status"] == "ok"})
    follow_ups = [message("%(host)s: rolled back; find and fix the cause before the change is tried again",
                          host=host) for host in rolled_back]
    applied = [run for run in runs if not run["check"]]
    if applied and not any(run["scope"] == "production" and run["status"] == "success" for run in applied):
        follow_ups.append(message("production is not patched yet under this change (staging only, or production "
                                  "failed or was refused)"))
    rebooted = {row["host"] for row in sections["reboots"] if row["status"].startswith("done")}
    for row in sections["applied"]:
        if row.get("reboot_required") and row["changes"] and row["host"] not in rebooted:
            follow_ups.append(message("%(host)s: a reboot is needed and was not done (reboot policy)",
                                      host=row["host"]))
    unique = list({text(m): m for m in follow_ups}.values())
    return {"problems": problems, "refusals": refusals, "rolled_back": rolled_back,
            "follow_ups": [text(m) for m in unique], "follow_up_messages": unique}


def _outcome(runs: list[dict[str, Any]], evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """The sentences at the top of the record: how far the change got."""
    applied = [run for run in runs if not run["check"]]
    if not applied:
        return [message("Dry runs only: nothing was changed.") if runs else message("No sealed run of this change.")]
    done = sorted({h for run in applied if run["status"] == "success" for h in run["hosts"]})
    production = [run for run in applied if run["scope"] == "production" and run["status"] == "success"]
    parts = [message("Live in production on %(hosts)s.", hosts=", ".join(sorted({h for r in production
                                                                                 for h in r["hosts"]})))
             if production else message("Not live in production.")]
    if done and not production:
        parts.append(message("Applied on %(hosts)s.", hosts=", ".join(done)))
    if evaluation["rolled_back"]:
        parts.append(message("Rolled back on %(hosts)s.", hosts=", ".join(evaluation["rolled_back"])))
    if evaluation["refusals"]:
        parts.append(message("%(n)s refusal(s) by a safety gate.", n=len(evaluation["refusals"])))
    return parts


def build(change_ref: str, records: list[dict[str, Any]], ledger_seq: dict[str, int] | None = None,
          excluded: Iterable[str] = ()) -> dict[str, Any]:
    """The change record document of ``records`` (the sealed runs of ``change_ref``, oldest first)."""
    records = [dict(r, timing_all=stage_timing(r)) for r in records]  # copies: _lines() caches in them
    runs = [_run_summary(r, ledger_seq or {}) for r in records]
    sections: dict[str, list[dict[str, Any]]] = {name: [] for name in _sections({})}
    for record in records:
        for name, rows in _sections(record).items():
            sections.setdefault(name, []).extend(rows)
    evaluation = _evaluation(records, runs, sections)
    outcome = _outcome(runs, evaluation)
    return {
        "report": "change", "title": f"Change record {change_ref}", "change_ref": change_ref,
        "generated": utcnow(), "outcome": " ".join(text(m) for m in outcome), "outcome_messages": outcome,
        "runs": runs,
        "excluded_runs": sorted(excluded), "stages": _stage_rows(records), **sections, "evaluation": evaluation,
    }


def write(store: AuditStore, change_ref: str, run_id: str = "-", lang: str | None = None) -> dict[str, Path]:
    """Rebuild the change record of ``change_ref`` from the sealed runs, write (in ``lang``, default
    settings.language()) and seal it."""
    sealed, seqs, unsealed = [], {}, []
    for run, record, seq in sealed_records(store):
        if record.get("change_ref") != change_ref:
            continue
        if seq is None:
            unsealed.append(run)
        else:
            sealed.append(record)
            seqs[run] = seq
    document = build(change_ref, sealed, seqs, excluded=unsealed)
    paths = render(document, directory(store.root, change_ref), template="change", basename="change-record",
                   formats=FORMATS, lang=lang)
    store.attach(run_id, paths)
    return paths


def update_after(store: AuditStore, record: dict[str, Any]) -> dict[str, Path] | None:
    """After a run closed: rewrite its change's record when it was an install/update run."""
    if not applies_to(record):
        return None
    return write(store, str(record["change_ref"]), str(record.get("run_id") or "-"))
