"""Audit evidence of every run: events, run record, signed hash-chained ledger, verification, redaction."""

from __future__ import annotations

from runner.audit.record import SCHEMA_VERSION, build_record, validate
from runner.audit.redact import PLACEHOLDER, Redactor
from runner.audit.store import AuditStore, RunFiles, new_run_id
from runner.audit.verify import VerifyResult, verify

__all__ = [
    "PLACEHOLDER",
    "SCHEMA_VERSION",
    "AuditStore",
    "Redactor",
    "RunFiles",
    "VerifyResult",
    "build_record",
    "new_run_id",
    "validate",
    "verify",
]
