"""Questions other SOPs ask of the audit trail, answered only from records sealed in the signed ledger."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runner.audit import ledger
from runner.audit.events import sha256_bytes
from runner.audit.store import AuditStore


def _sealed_entries(store: AuditStore) -> dict[str, tuple[str, int]]:
    """run id -> (record sha256, ledger seq), for closing ledger entries whose signature verifies."""
    paths = store.ledger_paths
    if not paths.ledger.exists() or not paths.public_key.exists():
        return {}
    public = ledger.load_public_key(paths)
    sealed: dict[str, tuple[str, int]] = {}
    for line in paths.ledger.read_text().splitlines():
        try:
            entry: dict[str, Any] = json.loads(line)
        except ValueError:
            continue
        record_hash = (entry.get("hashes") or {}).get("record")
        if entry.get("kind") in {"end", "seal"} and record_hash and ledger.signature_ok(entry, public):
            sealed[entry["run_id"]] = (record_hash, int(entry.get("seq") or 0))
    return sealed


def unsealed_or_changed(files: list[Path], root: Path) -> dict[Path, str]:
    """Of ``files`` (under ``root``), those whose sha256 is not the newest ``attach`` entry's for them:
    path -> ``unsealed`` (never attached) or ``changed`` (altered since)."""
    from runner.audit.events import sha256_file

    digests, out = attached_digests(root), {}
    for path in files:
        try:
            rel = str(Path(path).resolve().relative_to(Path(root).resolve()))
        except ValueError:
            out[path] = "unsealed"
            continue
        if rel not in digests:
            out[path] = "unsealed"
        elif digests[rel] != sha256_file(path):
            out[path] = "changed"
    return out


def attached_digests(root: Path) -> dict[str, str]:
    """Relative path -> the newest sha256 an ``attach`` entry holds for it (files sealed after their run)."""
    ledger_file = Path(root) / "ledger.jsonl"
    digests: dict[str, str] = {}
    try:
        lines = ledger_file.read_bytes().splitlines()
    except OSError:
        return digests
    for raw in lines:
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("kind") == "attach":
            digests.update({str(k): str(v) for k, v in (entry.get("hashes") or {}).items()})
    return digests


def sealed_records(store: AuditStore, *, newest_first: bool = False
                   ) -> Iterator[tuple[str, dict[str, Any], int | None]]:
    """Every closed run's id and record (oldest first) with the seq of the signed ledger entry it still matches
    (None: not sealed, or the file no longer matches its entry)."""
    sealed = _sealed_entries(store)
    run_ids = store.run_ids()
    for run_id in reversed(run_ids) if newest_first else run_ids:
        try:
            data = store.run(run_id).record.read_bytes()
            record = json.loads(data)
        except (OSError, ValueError):
            continue
        digest, seq = sealed.get(run_id, (None, None))
        yield run_id, record, seq if digest == sha256_bytes(data) else None


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
    for run_id, record, seq in sealed_records(AuditStore(audit_dir), newest_first=True):
        ran_on = set(record.get("hosts") or {})
        if (seq is not None and Path((record.get("playbook") or {}).get("path", "")).name == playbook
                and record.get("change_ref") == change_ref and record.get("status") == "success"
                and not record.get("check") and ran_on and ran_on <= hosts):
            age = _age_hours(record, now)
            if max_age_hours is not None and (age is None or age > max_age_hours):
                continue
            return run_id
    return None
