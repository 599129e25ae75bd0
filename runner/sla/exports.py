"""Reading ticket exports (CSV or JSON) of GLPI, Zammad, osTicket or a generic CSV into tickets.

A row that cannot be read (a bad date, an unknown priority, a solution before the creation...) becomes a
:class:`RowError` naming its line (CSV) or item (JSON) and the field; the other rows are still read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runner.errors import ConfigError, PolicyError
from runner.paths import POLICIES
from runner.policy.load import read_validated
from runner.sla.calendar import Interval

DEFAULT_MAPPINGS = POLICIES / "ticket_exports.yml"
SCHEMA = Path(__file__).resolve().parent.parent / "policy" / "schema" / "ticket_exports.schema.json"
_HMS = re.compile(r"^(?:(\d+)\s*d(?:ays?)?\s*)?(\d+):([0-5]\d)(?::([0-5]\d))?$")


@dataclass
class Ticket:
    where: str  # "line 7" / "item 3": for the report, so an auditor finds the row in the export
    id: str
    title: str
    priority: str  # the export's value, as read
    status: str  # open | paused | solved | closed
    created: dt.datetime
    first_response: dt.datetime | None = None
    response_seconds: float | None = None
    solved: dt.datetime | None = None
    closed: dt.datetime | None = None
    paused_seconds: float = 0.0
    pauses: list[Interval] = field(default_factory=list)
    reopened: bool = False
    has_response_column: bool = True


@dataclass
class RowError:
    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}"


@dataclass
class ExportMapping:
    name: str
    title: str
    columns: dict[str, str]
    priorities: dict[str, str]
    statuses: dict[str, str]
    timezone: ZoneInfo
    date_formats: list[str]
    delimiter: str = ","


def load_mappings(path: Path | None = None) -> dict[str, ExportMapping]:
    path = Path(path or DEFAULT_MAPPINGS)
    data = read_validated(path, json.loads(SCHEMA.read_text()), "ticket export mappings")
    out = {}
    for name, spec in data.items():
        try:
            zone = ZoneInfo(spec.get("timezone", "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            raise PolicyError(f"{path}: {name}.timezone {spec.get('timezone')!r} is not a known timezone") from None
        out[name] = ExportMapping(name, spec.get("title", name), spec["columns"],
                             {k.lower(): v for k, v in spec["priorities"].items()},
                             {k.lower(): v for k, v in spec.get("statuses", {}).items()}, zone,
                             list(spec.get("date_formats", [])), spec.get("delimiter", ","))
    return out


class _Bad(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def _date(value: str, mapping: ExportMapping, name: str) -> dt.datetime | None:
    text = (value or "").strip()
    if not text:
        return None
    parsed: dt.datetime | None = None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in mapping.date_formats:
            try:
                parsed = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise _Bad(name, f"{text!r} is not a date ({', '.join(['ISO 8601', *mapping.date_formats])})")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=mapping.timezone)


def _duration(value: str, name: str) -> float | None:
    text = (value or "").strip()
    if not text:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    match = _HMS.match(text)
    if not match:
        raise _Bad(name, f"{text!r} is not a duration (seconds, or [N days] H:MM[:SS])")
    days, hours, minutes, secs = (int(g or 0) for g in match.groups())
    return float(((days * 24 + hours) * 60 + minutes) * 60 + secs)


def _pauses(value: str, mapping: ExportMapping) -> list[Interval]:
    out = []
    for part in filter(None, (p.strip() for p in (value or "").split(";"))):
        start, sep, end = part.partition("/")
        first, last = _date(start, mapping, "pauses"), _date(end, mapping, "pauses") if sep else None
        if first is None or last is None or last < first:
            raise _Bad("pauses", f"{part!r} is not an interval start/end")
        out.append((first, last))
    return out


def _ticket(row: Mapping[str, Any], mapping: ExportMapping, where: str) -> Ticket:
    cols = mapping.columns

    def get(name: str) -> str:
        value = row.get(cols[name]) if name in cols else None
        return "" if value is None else str(value).strip()

    ident = get("id")
    if not ident:
        raise _Bad("id", "empty")
    priority = get("priority")
    if priority.lower() not in mapping.priorities:
        raise _Bad("priority", f"{priority!r} is not a priority of the {mapping.name} mapping "
                               f"({', '.join(sorted(mapping.priorities))})")
    created = _date(get("created"), mapping, "created")
    if created is None:
        raise _Bad("created", "empty")
    ticket = Ticket(where, ident, get("title"), priority, mapping.statuses.get(get("status").lower(), "open"),
                    created, first_response=_date(get("first_response"), mapping, "first_response"),
                    response_seconds=_duration(get("response_seconds"), "response_seconds"),
                    solved=_date(get("solved"), mapping, "solved"), closed=_date(get("closed"), mapping, "closed"),
                    paused_seconds=_duration(get("paused_seconds"), "paused_seconds") or 0.0,
                    pauses=_pauses(get("pauses"), mapping),
                    reopened=get("reopened").lower() in ("1", "true", "yes", "ya"),
                    has_response_column=bool({"first_response", "response_seconds"} & set(cols)))
    for name in ("first_response", "solved", "closed"):
        moment = getattr(ticket, name)
        if moment is not None and moment < created:
            raise _Bad(name, f"{moment.isoformat()} is before the ticket was created ({created.isoformat()})")
    return ticket


def _rows(path: Path, mapping: ExportMapping) -> Iterator[tuple[str, Mapping[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the export: {exc}") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: line {exc.lineno}: not valid JSON: {exc.msg}") from None
        items = data.get("tickets", data.get("data")) if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise ConfigError(f"{path}: expected a list of tickets (or {{\"tickets\": [...]}})")
        for index, item in enumerate(items, 1):
            yield f"item {index}", item if isinstance(item, dict) else {}
        return
    reader = csv.DictReader(io.StringIO(text), delimiter=mapping.delimiter)
    missing = [c for k, c in mapping.columns.items() if k in ("id", "priority", "created")
               and c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(f"{path}: line 1: the {mapping.name} mapping needs column(s) {', '.join(missing)}; "
                          f"the header has {', '.join(reader.fieldnames or []) or 'nothing'}",
                          hint="pick the export's tool with --source, or pass --mapping FILE")
    for row in reader:
        yield f"line {reader.line_num}", row


def read_export(path: Path, mapping: ExportMapping) -> tuple[list[Ticket], list[RowError]]:
    """Every row as a ticket or an error; nothing is dropped."""
    tickets, errors = [], []
    for where, row in _rows(Path(path), mapping):
        try:
            tickets.append(_ticket(row, mapping, where))
        except _Bad as bad:
            errors.append(RowError(where, bad.field, str(bad)))
    return tickets, errors
