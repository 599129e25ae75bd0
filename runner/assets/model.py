"""What an asset is: its fields, the statuses it moves through and which moves are allowed."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from runner.errors import ConfigError

STATUSES = ("in_stock", "assigned", "maintenance", "returned", "sanitized", "retired")
TYPES = ("laptop", "desktop", "server", "workstation", "tablet", "phone", "monitor", "other")
MEDIA_TYPES = ("hdd", "ssd", "nvme", "usb", "sd", "virtual")

# status -> statuses it may move to (SOP 2: stock -> assigned -> (maintenance) -> returned -> sanitized -> stock)
TRANSITIONS: dict[str, frozenset[str]] = {
    "in_stock": frozenset({"assigned", "maintenance", "retired"}),
    "assigned": frozenset({"maintenance", "returned"}),
    "maintenance": frozenset({"assigned", "in_stock", "returned"}),
    "returned": frozenset({"sanitized", "retired"}),
    "sanitized": frozenset({"in_stock", "retired"}),
    "retired": frozenset(),
}
DATE_FIELDS = ("purchase_date", "assigned_date", "last_maintenance", "next_maintenance_due")
TEXT_FIELDS = ("serial", "make", "model", "hostname", "assignee_name", "assignee_id", "assignee_username",
               "department", "notes")


@dataclass
class Disk:
    model: str = ""
    serial: str = ""
    size_bytes: int = 0
    media_type: str = "hdd"

    def problems(self) -> dict[str, str]:
        out = {}
        if self.media_type not in MEDIA_TYPES:
            out["media_type"] = f"{self.media_type!r} is not one of {', '.join(MEDIA_TYPES)}"
        if not isinstance(self.size_bytes, int) or self.size_bytes < 0:
            out["size_bytes"] = f"{self.size_bytes!r} is not a size in bytes"
        return out


@dataclass
class Asset:
    tag: str
    serial: str = ""
    make: str = ""
    model: str = ""
    type: str = "laptop"
    hostname: str = ""
    assignee_name: str = ""
    assignee_id: str = ""
    assignee_username: str = ""
    department: str = ""
    status: str = "in_stock"
    purchase_date: str = ""
    assigned_date: str = ""
    last_maintenance: str = ""
    next_maintenance_due: str = ""
    notes: str = ""
    disks: list[Disk] = field(default_factory=list)

    def problems(self) -> dict[str, str]:
        """field -> what is wrong with it (empty: valid)."""
        out: dict[str, str] = {}
        if not self.tag or not self.tag.strip() or any(c.isspace() for c in self.tag):
            out["tag"] = f"{self.tag!r}: an asset tag is required and has no spaces"
        if self.status not in STATUSES:
            out["status"] = f"{self.status!r} is not one of {', '.join(STATUSES)}"
        if self.type not in TYPES:
            out["type"] = f"{self.type!r} is not one of {', '.join(TYPES)}"
        for name in DATE_FIELDS:
            value = getattr(self, name)
            if value:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    out[name] = f"{value!r} is not a date (YYYY-MM-DD)"
        for index, disk in enumerate(self.disks):
            for key, why in disk.problems().items():
                out[f"disks.{index}.{key}"] = why
        return out

    def check(self) -> Asset:
        problems = self.problems()
        if problems:
            raise ConfigError(f"asset {self.tag!r}: " + "; ".join(f"{k}: {v}" for k, v in problems.items()))
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Asset:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"asset {data.get('tag')!r}: unknown field(s) {', '.join(unknown)}")
        values = {k: v for k, v in data.items() if k != "disks"}
        for name in (*TEXT_FIELDS, *DATE_FIELDS):
            if name in values and values[name] is not None:
                values[name] = str(values[name])
        disks = []
        disk_fields = {f.name for f in fields(Disk)}
        for index, disk in enumerate(data.get("disks") or []):
            if isinstance(disk, Disk):
                disks.append(disk)
                continue
            if not isinstance(disk, dict) or set(disk) - disk_fields:
                raise ConfigError(f"asset {data.get('tag')!r}: disks.{index}: expected a mapping of "
                                  f"{', '.join(sorted(disk_fields))}")
            disks.append(Disk(**disk))
        return cls(**values, disks=disks)


def allowed(current: str, new: str) -> bool:
    return current == new or new in TRANSITIONS.get(current, frozenset())
