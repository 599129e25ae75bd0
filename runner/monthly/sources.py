"""What one month's evidence is, read once: the ledger (verified first), the sealed run records, the sealed
check and change documents, sanitization certificates and the asset register.

Only what still matches the signed ledger counts; a run record or document that does not is named in
``unsealed`` and left out of every figure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.audit import AuditStore, verify
from runner.audit.events import sha256_bytes
from runner.audit.evidence import attached_digests, sealed_records
from runner.monthly.period import Month


@dataclass
class Ledger:
    ok: bool
    entries: int
    head: str | None
    problems: list[str]


@dataclass
class MonthEvidence:
    root: Path
    month: Month
    ledger: Ledger
    runs: list[dict[str, Any]] = field(default_factory=list)  # sealed run records started in the month
    previous_runs: list[dict[str, Any]] = field(default_factory=list)  # ... in the month before
    checks: list[dict[str, Any]] = field(default_factory=list)  # sealed check.json of the month
    previous_checks: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # sealed change records with a run in the month
    certificates: list[dict[str, Any]] = field(default_factory=list)  # sealed sanitization certificates
    unsealed: list[str] = field(default_factory=list)  # what was left out: does not match the ledger


def _ledger(store: AuditStore) -> Ledger:
    if not store.ledger_paths.ledger.exists():
        return Ledger(False, 0, None, [f"{store.ledger_paths.ledger}: no audit ledger"])
    result = verify(store, seal=False)
    return Ledger(result.ok, result.entries, result.head, list(result.problems))


def _sealed_documents(root: Path, pattern: str, digests: dict[str, str],
                      unsealed: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(relative path, JSON) of the files matching ``pattern`` whose bytes match their newest ledger hash."""
    found = []
    for path in sorted(root.glob(pattern)):
        rel = str(path.relative_to(root))
        data = path.read_bytes()
        if digests.get(rel) != sha256_bytes(data):
            unsealed.append(rel)
            continue
        try:
            found.append((rel, json.loads(data)))
        except ValueError:
            unsealed.append(rel)
    return found


def collect(root: Path, month: Month) -> MonthEvidence:
    store = AuditStore(root)
    evidence = MonthEvidence(Path(root), month, _ledger(store))
    previous = month.previous()
    for run_id, record, seq in sealed_records(store):
        started = record.get("started")
        if month.contains(started):
            if seq is None:
                evidence.unsealed.append(f"runs/{run_id}/record.json")
            else:
                evidence.runs.append(record)
        elif seq is not None and previous.contains(started):
            evidence.previous_runs.append(record)
    digests = attached_digests(root)
    for rel, doc in _sealed_documents(root, "checks/check-*/check.json", digests, evidence.unsealed):
        doc["_path"] = rel
        if month.contains(doc.get("started")):
            evidence.checks.append(doc)
        elif previous.contains(doc.get("started")):
            evidence.previous_checks.append(doc)
    month_runs = {r.get("run_id") for r in evidence.runs}
    for rel, doc in _sealed_documents(root, "changes/*/change-record.json", digests, evidence.unsealed):
        if month_runs & {r.get("run_id") for r in doc.get("runs") or []}:
            evidence.changes.append({**doc, "_path": rel})
    for rel, doc in _sealed_documents(root, "assets/certificates/*/*/certificate.json", digests, evidence.unsealed):
        if month.contains(doc.get("end") or doc.get("start")):
            evidence.certificates.append({**doc, "_path": rel})
    # the month's own figures only: a stale unsealed file from another month is not this report's business
    evidence.unsealed = [u for u in evidence.unsealed if not u.startswith("checks/") or _in_month(root, u, month)]
    return evidence


def _in_month(root: Path, rel: str, month: Month) -> bool:
    try:
        return month.contains(json.loads((root / rel).read_bytes()).get("started"))
    except (OSError, ValueError, AttributeError):
        return True  # unreadable: shown, so nobody misses it
