"""A run that never started: ansible could not be given what it needs (an inventory that does not parse).

It is recorded like any run -- events, record, reports and signed ledger entries -- with status ``error`` and the
one-line reason, so a scheduled job against a broken inventory leaves a failed run in the evidence, not a gap
and never a success.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.release import __version__ as ansible_version

from runner.audit.events import EventLog, read_events, sha256_file, utcnow
from runner.audit.identity import controller, detect_operator
from runner.audit.record import build_record
from runner.audit.redact import Redactor, collect_secrets
from runner.audit.store import AuditStore, RunFiles


def _header(run_id: str, playbook: Path, settings: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """The run header the audit callback would have written, from the runner's options (redacted)."""
    extra_vars = dict(settings.get("extra_vars") or {})
    return {
        "run_id": run_id,
        "started": utcnow(),
        "entry_point": "sop run",
        "operator": detect_operator(extra_vars=extra_vars),
        "controller": controller(),
        "ansible_version": ansible_version,
        "repository": None,
        "playbook": {"path": str(playbook), "sha256": sha256_file(playbook) if playbook.is_file() else None},
        "inventory": [str(i) for i in settings.get("inventory") or ()],
        "limit": settings.get("limit"),
        "check": bool(settings.get("check")),
        "diff": bool(settings.get("diff")),
        "tags": list(settings.get("tags") or ()),
        "skip_tags": list(settings.get("skip_tags") or ()),
        "change_ref": redactor.scrub(settings["change_ref"]) if settings.get("change_ref") else None,
        "approvals": redactor.redact(dict(settings.get("approvals") or {})),
        "reason": redactor.scrub(settings["reason"]) if settings.get("reason") else None,
        "extra_vars": redactor.redact(extra_vars),
    }


def record_error_run(store: AuditStore, run_id: str, playbook: Path, settings: dict[str, Any],
                     error: str) -> RunFiles:
    """Write a run of status ``error`` (no play ran) and seal it in the ledger; return its files.

    ``settings`` are the runner's options (inventory, limit, check, tags, extra_vars, change_ref, reason, lang ...).
    """
    redactor = Redactor()
    redactor.add_secrets(collect_secrets(dict(settings.get("extra_vars") or {})))
    run = store.run(run_id)
    log = EventLog(run.events)
    log.append("run_start", {"run": _header(run_id, playbook, settings, redactor)}, flush=True)
    store.append("start", run.run_id, {"start_event": log.first_line_sha256 or ""})
    log.append("run_end", {"status": "error", "error": redactor.scrub(error)[:1000]})
    log.close()
    store.finish(run, build_record(read_events(run.events).events), lang=settings.get("lang"))
    return run
