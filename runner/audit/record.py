"""The run record: the events of a run folded into one JSON document (schema: run-record.schema.json)."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "1.0"
SCHEMA_ID = "https://sop-as-code.example/schemas/run-record/1.0"
SCHEMA_PATH = Path(__file__).with_name("run-record.schema.json")
GATE_TAG = "sop_gate"

# Final statuses, by precedence when several apply.
STATUSES = ("running", "error", "aborted", "refused", "failed", "unreachable", "success")
HOST_COUNTERS = ("ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored")


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    fmt = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return round((fmt(end) - fmt(start)).total_seconds(), 3)


def _host_totals_from_results(plays: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    for play in plays:
        for task in play["tasks"]:
            for result in task["results"]:
                counters = totals.setdefault(result["host"], dict.fromkeys(HOST_COUNTERS, 0))
                status = result["status"]
                if status in counters:
                    counters[status] += 1
                if result.get("changed") and status == "ok":
                    counters["changed"] += 1
    return totals


def overall_status(hosts: dict[str, dict[str, int]], refusals: list[dict[str, Any]]) -> str:
    if refusals:
        return "refused"
    if any(h.get("failed") for h in hosts.values()):
        return "failed"
    if any(h.get("unreachable") for h in hosts.values()):
        return "unreachable"
    return "success"


def _host_status(counters: dict[str, int]) -> str:
    if counters.get("unreachable"):
        return "unreachable"
    if counters.get("failed"):
        return "failed"
    if counters.get("changed"):
        return "changed"
    return "ok"


class _Fold:
    """Accumulates events into plays, tasks, results and refusals."""

    def __init__(self) -> None:
        self.header: dict[str, Any] = {}
        self.plays: list[dict[str, Any]] = []
        self.tasks: dict[str, dict[str, Any]] = {}
        self.refusals: list[dict[str, Any]] = []
        self.stats: dict[str, Any] | None = None
        self.end: dict[str, Any] | None = None

    def add(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "run_start":
            self.header = event["run"]
        elif kind == "play_start":
            self.plays.append({**event["play"], "started": event["ts"], "tasks": []})
        elif kind == "task_start":
            task = {**event["task"], "started": event["ts"], "results": []}
            self.tasks[task["id"]] = task
            if self.plays:
                self.plays[-1]["tasks"].append(task)
        elif kind == "result":
            self._result(event)
        elif kind == "stats":
            self.stats = event
        elif kind == "run_end":
            self.end = event

    def _result(self, event: dict[str, Any]) -> None:
        task = self.tasks.get(event["task_id"])
        if task is None:
            return
        result = {k: v for k, v in event.items() if k not in {"seq", "prev", "type", "task_id"}}
        task["results"].append(result)
        if GATE_TAG in task.get("tags", []) and result["status"] == "failed" and not result.get("ignored"):
            self.refusals.append(
                {
                    "task": task["name"],
                    "host": result["host"],
                    "msg": result.get("msg") or "refused",
                    "sop_steps": task.get("sop_steps", []),
                }
            )

    def hosts(self) -> dict[str, dict[str, Any]]:
        source = self.stats["hosts"] if self.stats else _host_totals_from_results(self.plays)
        hosts: dict[str, dict[str, Any]] = {h: dict(c) for h, c in source.items()}
        for counters in hosts.values():
            counters["status"] = _host_status(counters)
        return hosts


def build_record(
    events: list[dict[str, Any]], *, seal_status: str | None = None, abort_reason: str | None = None
) -> dict[str, Any]:
    """Fold events into a record. Without a run_end event the status is ``seal_status`` or ``running``."""
    fold = _Fold()
    for event in events:
        fold.add(event)
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        **fold.header,
        "plays": fold.plays,
        "refusals": fold.refusals,
        "hosts": fold.hosts(),
        "evidence": (fold.stats or {}).get("evidence") or {},
    }
    if fold.end is not None:
        record["status"] = fold.end["status"]
        record["ended"] = fold.end["ts"]
        abort_reason = fold.end.get("abort_reason")
        if fold.end.get("error"):
            record["error"] = fold.end["error"]
    else:
        record["status"] = seal_status or "running"
        record["ended"] = events[-1]["ts"] if events and seal_status else None
    if abort_reason:
        record["abort_reason"] = abort_reason
    record["duration_s"] = _seconds(record.get("started"), record.get("ended"))
    record["event_count"] = len(events)
    return record


def final_status(record: dict[str, Any]) -> str:
    return overall_status(record["hosts"], record["refusals"])


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def validate(record: dict[str, Any]) -> list[str]:
    """Schema errors of ``record`` (empty when valid), each with its JSON path."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
    ]
