"""``policies/backup.yml``: retention, verification and restore SLA, validated against a schema at load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.paths import POLICIES
from runner.policy.load import read_validated, validate

DEFAULT_PATH = POLICIES / "backup.yml"

_COUNT = {"type": "integer", "minimum": 0}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["backup_policy"],
    "properties": {"backup_policy": {
        "type": "object",
        "additionalProperties": False,
        "required": ["schedule", "retention", "verify", "restore"],
        "properties": {
            "schedule": {
                "type": "object", "additionalProperties": False, "required": ["on_calendar"],
                "description": "When the systemd timer runs the backup (sop4.1: daily).",
                "properties": {
                    "on_calendar": {"type": "string", "minLength": 1, "description": "systemd OnCalendar",
                                    "examples": ["daily", "*-*-* 01:30"]},
                    "randomized_delay_sec": {"type": "integer", "minimum": 0, "maximum": 86400,
                                             "description": "RandomizedDelaySec of the timer",
                                             "examples": [3600]},
                },
            },
            "retention": {
                "type": "object", "additionalProperties": False,
                "required": ["keep_daily", "keep_weekly", "keep_monthly"],
                "description": "restic forget --prune policy applied after every backup.",
                "properties": {"keep_daily": _COUNT, "keep_weekly": _COUNT, "keep_monthly": _COUNT},
            },
            "verify": {
                "type": "object", "additionalProperties": False,
                "required": ["max_snapshot_age_hours", "read_data_subset", "sample_size"],
                "description": "Weekly verification (sop4.2).",
                "properties": {
                    "max_snapshot_age_hours": {"type": "number", "minimum": 0, "examples": [26],
                                               "description": "oldest acceptable latest snapshot"},
                    "read_data_subset": {"type": "string",
                                         "pattern": r"^(\d+(\.\d+)?%|\d+/\d+|\d+[kKmMgGtT]?)$",
                                         "description": "restic check --read-data-subset",
                                         "examples": ["10%"]},
                    "sample_size": {"type": "integer", "minimum": 1, "maximum": 1000, "examples": [5],
                                    "description": "files sampled for the hash spot check and test restore"},
                },
            },
            "restore": {
                "type": "object", "additionalProperties": False, "required": ["sla_hours"],
                "description": "Restores (sop4.3, sop4.4).",
                "properties": {
                    "sla_hours": {"type": "number", "exclusiveMinimum": 0, "examples": [24],
                                  "description": "hours from request to restored data"},
                    "approver_roles": {"type": "array", "minItems": 1, "uniqueItems": True,
                                       "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                                       "examples": [["it_manager", "data_owner"]],
                                       "description": "roles that must each approve a restore"},
                },
            },
        },
    }},
}


def validate_backup_policy(data: Any, source: str) -> dict[str, Any]:
    """Return ``data['backup_policy']`` or raise PolicyError listing every problem with its path."""
    validate(data, SCHEMA, source, "backup policy")
    return data["backup_policy"]


def load_backup_policy(path: str | Path = DEFAULT_PATH) -> dict[str, Any]:
    return read_validated(path, SCHEMA, "backup policy")["backup_policy"]
