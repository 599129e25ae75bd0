"""Questions other SOPs ask of the audit trail, answered only from records sealed in the signed ledger."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from runner.audit import ledger
from runner.audit.events import sha256_file
from runner.audit.store import AuditStore


def _sealed_hashes(store: AuditStore) -> dict[str, str]:
    """run id -> record sha256, for ledger entries whose signature verifies."""
    paths = store.ledger_paths
    if not paths.ledger.exists() or not paths.public_key.exists():
        return {}
    public = ledger.load_public_key(paths)
    sealed: dict[str, str] = {}
    for line in paths.ledger.read_text().splitlines():
        try:
            entry: dict[str, Any] = json.loads(line)
        except ValueError:
            continue
        record_hash = (entry.get("hashes") or {}).get("record")
        if entry.get("kind") in {"end", "seal"} and record_hash and ledger.signature_ok(entry, public):
            sealed[entry["run_id"]] = record_hash
    return sealed


def _age_hours(record: dict[str, Any], now: dt.datetime) -> float | None:
    try:
        ended = dt.datetime.fromisoformat(str(record.get("ended") or record.get("started")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (now - ended).total_seconds() / 3600


def find_sealed_run(audit_dir: Path, *, playbook: str, change_ref: str, hosts: frozenset[str],
                    max_age_hours: float | None = None, now: dt.datetime | None = None) -> str | None:
    """The newest successful, applied (not check mode) run of ``playbook`` (file name) under ``change_ref`` that
    reached at least one of ``hosts`` and only those, whose record file still matches its signed ledger entry
    (and, with ``max_age_hours``, that ended at most that long ago: a staging success stays valid that long)."""
    now = now or dt.datetime.now(dt.UTC)
    store = AuditStore(audit_dir)
    sealed = _sealed_hashes(store)
    for run_id in reversed(store.run_ids()):
        run = store.run(run_id)
        if run_id not in sealed or not run.record.exists() or sha256_file(run.record) != sealed[run_id]:
            continue
        record = json.loads(run.record.read_text())
        ran_on = set(record.get("hosts") or {})
        if (Path((record.get("playbook") or {}).get("path", "")).name == playbook
                and record.get("change_ref") == change_ref and record.get("status") == "success"
                and not record.get("check") and ran_on and ran_on <= hosts):
            age = _age_hours(record, now)
            if max_age_hours is not None and (age is None or age > max_age_hours):
                continue
            return run_id
    return None
