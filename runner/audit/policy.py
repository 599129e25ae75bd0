"""policies/audit.yml: the WORM store's Object Lock retention (COMPLIANCE mode)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from runner.paths import POLICIES
from runner.policy.load import read_yaml, validate

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "store": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"retention_days": {"type": "integer", "minimum": 1}},
        }
    },
}


@cache
def _policy() -> dict[str, Any]:
    path = POLICIES / "audit.yml"
    data = read_yaml(path) if path.exists() else {}
    validate(data, SCHEMA, str(path), "audit policy")
    return data or {}


def retention_days() -> int:
    """COMPLIANCE retention of every object in the WORM store ($SOP_AUDIT_STORE_RETENTION_DAYS overrides)."""
    override = os.environ.get("SOP_AUDIT_STORE_RETENTION_DAYS")
    if override:
        return int(override)
    return int((_policy().get("store") or {}).get("retention_days", 2557))
