"""``policies/sla.yml``: read and validated through the policy loader, then checked for what a schema cannot say."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from runner.errors import PolicyError
from runner.paths import POLICIES
from runner.policy.load import read_validated
from runner.sla.calendar import DAYS, BusinessCalendar

DEFAULT_POLICY = POLICIES / "sla.yml"
SCHEMA = Path(__file__).resolve().parent.parent / "policy" / "schema" / "sla.schema.json"
_DURATION = re.compile(r"^(\d+)(m|h)$")


@dataclass(frozen=True)
class Target:
    respond_s: float | None
    resolve_s: float | None
    clock: str


@dataclass
class Scheme:
    name: str
    title: str
    targets: dict[str, Target]


@dataclass
class SlaPolicy:
    source: str
    calendar: BusinessCalendar
    schemes: dict[str, Scheme]
    default_scheme: str
    mapping: dict[str, str] = field(default_factory=dict)
    pause_states: frozenset[str] = frozenset()
    auto_close_s: float | None = None
    auto_close_clock: str = "wall"

    def scheme(self, name: str | None) -> Scheme:
        name = name or self.default_scheme
        if name not in self.schemes:
            raise PolicyError(f"{self.source}: no SLA scheme {name!r} (known: {', '.join(self.schemes)})")
        return self.schemes[name]

    def priority_in(self, scheme: Scheme, value: str) -> str | None:
        """``value`` as a priority of ``scheme``: itself, or through the mapping (either direction)."""
        if value in scheme.targets:
            return value
        reverse = {v: k for k, v in self.mapping.items()}
        for candidate in (self.mapping.get(value), reverse.get(value)):
            if candidate in scheme.targets:
                return candidate
        return None


def seconds(value: str) -> float:
    number, unit = _DURATION.match(value).groups()  # type: ignore[union-attr]  # the schema checked the form
    return int(number) * (60 if unit == "m" else 3600)


def _calendar(data: dict[str, Any], source: str) -> BusinessCalendar:
    try:
        zone = ZoneInfo(data["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"{source}: calendar.timezone {data['timezone']!r} is not a known timezone") from None
    country = data.get("public_holidays")
    if country and country not in holidays.list_supported_countries():
        raise PolicyError(f"{source}: calendar.public_holidays {country!r} is not a country the holidays "
                          "package knows")
    start, end = (dt.time.fromisoformat(data["working_hours"][k]) for k in ("start", "end"))
    if end <= start:
        raise PolicyError(f"{source}: calendar.working_hours ends ({end}) before it starts ({start})")
    days_off = {dt.date.fromisoformat(d["date"]): d.get("name", "day off") for d in data.get("extra_days_off", [])}
    return BusinessCalendar(zone, frozenset(DAYS.index(d) for d in data["working_days"]), start, end,
                            country, days_off)


def _schemes(data: dict[str, Any]) -> dict[str, Scheme]:
    out = {}
    for name, spec in data.items():
        targets = {prio: Target(seconds(t["respond"]) if "respond" in t else None,
                                seconds(t["resolve"]) if "resolve" in t else None, t.get("clock", spec["clock"]))
                   for prio, t in spec["priorities"].items()}
        out[name] = Scheme(name, spec.get("title", name), targets)
    return out


def load(path: Path | None = None) -> SlaPolicy:
    path = Path(path or DEFAULT_POLICY)
    data = read_validated(path, json.loads(SCHEMA.read_text()), "SLA policy")
    schemes = _schemes(data["schemes"])
    if data["default_scheme"] not in schemes:
        raise PolicyError(f"{path}: default_scheme {data['default_scheme']!r} is not one of the schemes "
                          f"({', '.join(schemes)})")
    known = {p for s in schemes.values() for p in s.targets}
    unknown = sorted({x for pair in data.get("mapping", {}).items() for x in pair} - known)
    if unknown:
        raise PolicyError(f"{path}: mapping names priorities no scheme has: {', '.join(unknown)}")
    auto = data.get("auto_close")
    return SlaPolicy(str(path), _calendar(data["calendar"], str(path)), schemes, data["default_scheme"],
                     dict(data.get("mapping", {})), frozenset(s.lower() for s in data.get("pause_states", [])),
                     seconds(auto["after"]) if auto else None, (auto or {}).get("clock", "wall"))
