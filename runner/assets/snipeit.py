"""CSV import/export with Snipe-IT's importer column names, so a team can move between Snipe-IT and this register.

Snipe-IT's asset importer matches CSV headers case-insensitively (app/Importer/import_mappings.md): "Asset Tag",
"Serial Number", "Model name", "Manufacturer", "Category", "Full Name", "Username", "Status", "Purchase Date",
"Notes", "Item Name"; any other header is imported into the Snipe-IT custom field of that name. The fields
Snipe-IT has no built-in column for travel as custom fields: "Employee Number", "Department", "Hostname",
"Next Audit Date" (Snipe-IT's own next-audit field name) and the first disk's "Disk Model", "Disk Serial",
"Disk Size", "Disk Media" (create these custom fields in Snipe-IT to keep them). docs/sops/sop2-assets.md
lists the mapping.

An import is all or nothing: every row is checked first and the first problem is reported as
``FILE:LINE: field "COLUMN": what is wrong``; nothing is written unless every row is valid.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.assets.model import MEDIA_TYPES, STATUSES, TYPES, Asset, Disk
from runner.errors import ConfigError

# (CSV column, Asset field); the disk columns map to disks[0]
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Asset Tag", "tag"),
    ("Serial Number", "serial"),
    ("Manufacturer", "make"),
    ("Model name", "model"),
    ("Category", "type"),
    ("Item Name", "hostname"),
    ("Full Name", "assignee_name"),
    ("Username", "assignee_username"),
    ("Employee Number", "assignee_id"),
    ("Department", "department"),
    ("Status", "status"),
    ("Purchase Date", "purchase_date"),
    ("Next Audit Date", "next_maintenance_due"),
    ("Notes", "notes"),
    ("Disk Model", "disk.model"),
    ("Disk Serial", "disk.serial"),
    ("Disk Size", "disk.size_bytes"),
    ("Disk Media", "disk.media_type"),
)
REQUIRED = ("Asset Tag",)
# Our statuses as Snipe-IT status labels (create these labels in Snipe-IT); on import Snipe-IT's default
# labels are understood too.
STATUS_LABELS = {"in_stock": "In Stock", "assigned": "Assigned", "maintenance": "Maintenance",
                 "returned": "Returned", "sanitized": "Sanitized", "retired": "Retired"}
SNIPEIT_DEFAULT_LABELS = {"ready to deploy": "in_stock", "deployed": "assigned", "pending": "in_stock",
                          "out for repair": "maintenance", "out for diagnostics": "maintenance",
                          "archived": "retired", "broken - not fixable": "retired", "lost/stolen": "retired"}
CATEGORY_NAMES = {"laptop": "Laptops", "desktop": "Desktops", "server": "Servers", "workstation": "Workstations",
                  "tablet": "Tablets", "phone": "Mobile Phones", "monitor": "Monitors", "other": "Misc"}


def _status(value: str) -> str | None:
    key = value.strip().lower()
    by_label = {v.lower(): k for k, v in STATUS_LABELS.items()}
    return (key.replace(" ", "_") if key.replace(" ", "_") in STATUSES else None) or by_label.get(key) or \
        SNIPEIT_DEFAULT_LABELS.get(key)


def _category(value: str) -> str | None:
    key = value.strip().lower()
    by_name = {v.lower(): k for k, v in CATEGORY_NAMES.items()}
    return key if key in TYPES else by_name.get(key) or by_name.get(key.rstrip("s") + "s")


def _fail(source: str, line: int, column: str, why: str) -> ConfigError:
    return ConfigError(f'{source}:{line}: field "{column}": {why}', hint="nothing was imported")


@dataclass(frozen=True)
class Row:
    """One CSV row: the line it came from and the fields it sets (empty cells set nothing)."""

    line: int
    tag: str
    fields: dict[str, Any]


def parse(text: str, source: str = "<csv>") -> list[Row]:
    """Every row; raises ConfigError naming the file, line and column of the first bad field."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = {h.strip().lower(): h for h in reader.fieldnames or []}
    for column in REQUIRED:
        if column.lower() not in headers:
            raise ConfigError(f'{source}:1: field "{column}": missing column (header has: '
                              f'{", ".join(reader.fieldnames or []) or "nothing"})', hint="nothing was imported")
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            raise _fail(source, line, "(row)", f"{len(row[None]) if row[None] else 0} value(s) more than the header")
        values = {h.strip().lower(): (v or "").strip() for h, v in row.items() if h is not None}
        if not any(values.values()):
            continue
        row_fields = _row_fields(values, source, line)
        tag = str(row_fields.pop("tag"))
        if tag in seen:
            raise _fail(source, line, "Asset Tag", f"{tag!r} already on line {seen[tag]}")
        seen[tag] = line
        rows.append(Row(line, tag, row_fields))
    return rows


def _size(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _media(value: str) -> str | None:
    return value.lower() if value.lower() in MEDIA_TYPES else None


# field -> (converter returning None for a bad value, what a good value looks like)
_CONVERT: dict[str, tuple[Callable[[str], Any], str]] = {
    "status": (_status, f"a status ({', '.join(STATUS_LABELS.values())} or a Snipe-IT default label)"),
    "type": (_category, f"a category ({', '.join(CATEGORY_NAMES.values())})"),
    "disk.size_bytes": (_size, "a size in bytes"),
    "disk.media_type": (_media, f"one of {', '.join(MEDIA_TYPES)}"),
}


def _row_fields(values: dict[str, str], source: str, line: int) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    disk: dict[str, Any] = {}
    for column, name in COLUMNS:
        value = values.get(column.lower(), "")
        if not value:
            continue
        convert, expected = _CONVERT.get(name, (str, ""))
        converted = convert(value)
        if converted is None:
            raise _fail(source, line, column, f"{value!r} is not {expected}")
        if name.startswith("disk."):
            disk[name[5:]] = converted
        else:
            fields[name] = converted
    if "tag" not in fields:
        raise _fail(source, line, "Asset Tag", "empty: every row needs an asset tag")
    if disk:
        fields["disks"] = [Disk(**disk)]
    asset = Asset.from_dict(fields)
    by_field = {name.replace("disk.", "disks.0."): column for column, name in COLUMNS}
    for name, why in asset.problems().items():
        raise _fail(source, line, by_field.get(name, name), why)
    return fields


def read(path: Path) -> list[Row]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})", hint="nothing was imported") from None
    return parse(text, str(path))


def export(assets: list[Asset]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c for c, _ in COLUMNS])
    for asset in assets:
        data = asset.as_dict()
        disk = data["disks"][0] if data["disks"] else {}
        row = []
        for _, name in COLUMNS:
            if name == "status":
                row.append(STATUS_LABELS[asset.status])
            elif name == "type":
                row.append(CATEGORY_NAMES[asset.type])
            elif name.startswith("disk."):
                value = disk.get(name[5:], "")
                row.append("" if value in ("", 0) and name != "disk.media_type" else str(value) if disk else "")
            else:
                row.append(str(data[name]))
        writer.writerow(row)
    return out.getvalue()
