"""``policies/patching.yml``: maintenance windows, batches, staging validity, reboots, validation, holds.

Validated against a schema at load (runner.policy.load, like every policy), then a logical pass (a timezone that
exists, a window that ends after it starts). Errors are one line naming the file, the line and each problem.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runner.errors import PolicyError
from runner.paths import POLICIES
from runner.policy.load import read_yaml_lines, validate

DEFAULT_PATH = POLICIES / "patching.yml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$", "examples": ["22:00"]}
_SECONDS = {"type": "integer", "minimum": 0, "maximum": 86400}
_BATCH = {"oneOf": [{"type": "integer", "minimum": 1},
                    {"type": "string", "pattern": r"^([1-9]\d?|100)%$"}],
          "description": "a host count or a percentage of the play's hosts", "examples": [1, "30%"]}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["patching_policy"],
    "properties": {"patching_policy": {
        "type": "object",
        "additionalProperties": False,
        "required": ["timezone", "windows", "batches", "staging", "reboot", "validation"],
        "properties": {
            "timezone": {"type": "string", "minLength": 1, "examples": ["Asia/Jakarta"],
                         "description": "IANA time zone the windows are written in"},
            "windows": {
                "type": "array", "minItems": 1,
                "description": "Maintenance windows (upd1.3, upd3.1): a run outside every one is refused unless "
                               "it is an emergency with a reason.",
                "items": {"type": "object", "additionalProperties": False, "required": ["days", "start", "end"],
                          "properties": {"days": {"type": "array", "minItems": 1, "uniqueItems": True,
                                                  "items": {"enum": list(DAYS)}},
                                         "start": _HHMM, "end": _HHMM}},
            },
            "batches": {
                "type": "object", "additionalProperties": False, "required": ["serial", "max_fail_percentage"],
                "description": "Production rollout in serial batches (upd3.1).",
                "properties": {
                    "serial": {"type": "array", "minItems": 1, "items": _BATCH,
                               "examples": [[1, "30%", "100%"]], "description": "Ansible serial, as a list"},
                    "max_fail_percentage": {"type": "integer", "minimum": 0, "maximum": 100, "examples": [0],
                                            "description": "a batch failing more than this stops the rollout"},
                },
            },
            "staging": {
                "type": "object", "additionalProperties": False, "required": ["valid_hours"],
                "description": "Staging first (upd2.3).",
                "properties": {"valid_hours": {"type": "number", "exclusiveMinimum": 0, "examples": [168],
                                               "description": "how long a sealed staging success counts"}},
            },
            "reboot": {
                "type": "object", "additionalProperties": False, "required": ["policy"],
                "description": "Reboots after the update (upd5.1).",
                "properties": {"policy": {"enum": ["never", "if_required", "always"]},
                               "timeout_s": {**_SECONDS, "minimum": 30, "examples": [600]}},
            },
            "validation": {
                "type": "object", "additionalProperties": False, "required": ["settle_s", "retries", "delay_s"],
                "description": "Re-validation after go-live (upd5.2): bounded retries and total time.",
                "properties": {"settle_s": {**_SECONDS, "maximum": 3600, "examples": [60]},
                               "retries": {"type": "integer", "minimum": 0, "maximum": 20, "examples": [3]},
                               "delay_s": {**_SECONDS, "maximum": 600, "examples": [10]}},
            },
            "holds": {"type": "array", "uniqueItems": True,
                      "items": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9+.\-]+$"},
                      "description": "packages held (never upgraded) during a patch run",
                      "examples": [["mariadb-server"]]},
            "announce": {
                "type": "object", "additionalProperties": False,
                "description": "Maintenance announcement before execution (motd + wall + hook).",
                "properties": {
                    "lead_minutes": {"type": "integer", "minimum": 0, "maximum": 10080},
                    "hook": {"type": "object", "additionalProperties": False,
                             "properties": {"command": {"type": "string", "minLength": 1},
                                            "webhook": {"type": "string", "pattern": "^https?://"}}},
                },
            },
            "reboot_packages": {"type": "array", "items": {"type": "string", "minLength": 1},
                                "description": "package name globs whose update needs a reboot",
                                "examples": [["linux-image-*", "libc6"]]},
        },
    }},
}


def validate_patching_policy(data: Any, source: str,
                             lines: dict[tuple[str, ...], int] | None = None) -> dict[str, Any]:
    """Return ``data['patching_policy']`` or raise PolicyError naming every problem (and its line)."""
    validate(data, SCHEMA, source, "patching policy", lines)
    policy = data["patching_policy"]
    problems: list[tuple[tuple[str, ...], str]] = []
    try:
        ZoneInfo(policy["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        problems.append((("timezone",), f"unknown time zone {policy['timezone']!r}"))
    for index, window in enumerate(policy["windows"]):
        if window["end"] <= window["start"]:
            problems.append((("windows", str(index), "end"),
                             f"window ends ({window['end']}) before it starts ({window['start']}); "
                             "split a window that crosses midnight in two"))
    if problems:
        lines = lines or {}
        text = "; ".join(f"at '{'.'.join(where)}'"
                         + (f" (line {lines[('patching_policy', *where)]})" if ("patching_policy", *where) in lines
                            else "") + f": {msg}" for where, msg in problems)
        raise PolicyError(f"{source}: invalid patching policy: {text}")
    return policy


def load_patching_policy(path: str | Path = DEFAULT_PATH) -> dict[str, Any]:
    data, lines = read_yaml_lines(Path(path))  # the lines also name the problems of the logical pass
    return validate_patching_policy(data, str(path), lines)


def window_status(policy: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    """Whether ``now`` (UTC by default) is inside a maintenance window, in the policy's time zone."""
    zone = ZoneInfo(policy["timezone"])
    local = (now or dt.datetime.now(dt.UTC)).astimezone(zone)
    day, hhmm = DAYS[local.weekday()], local.strftime("%H:%M")
    inside = [w for w in policy["windows"] if day in w["days"] and w["start"] <= hhmm <= w["end"]]
    return {"inside": bool(inside), "local_time": local.isoformat(timespec="seconds"),
            "timezone": policy["timezone"], "day": day,
            "window": (f"{'/'.join(inside[0]['days'])} {inside[0]['start']}-{inside[0]['end']}" if inside else None),
            "windows": [f"{'/'.join(w['days'])} {w['start']}-{w['end']}" for w in policy["windows"]]}
