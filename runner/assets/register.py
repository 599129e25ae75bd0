"""The asset register's one API: every change goes through ``Register.apply`` and leaves a history row.

Actions name the SOP move they record; each action may only move the status the way ``model.TRANSITIONS``
allows (``assign`` needs a device in stock, ``sanitize`` one that was returned...). ``apply`` returns a
``Change`` (before, after, changed) that playbooks put in the run record as evidence, and with
``check=True`` it computes the change without writing it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.assets.model import STATUSES, Asset, Disk, allowed
from runner.assets.schema import open_db
from runner.errors import ConfigError, RefusedError, SopError

# action -> the status it moves to (None: leaves the status alone)
ACTIONS: dict[str, str | None] = {
    "create": None, "update": None, "import": None, "provision": None,
    "assign": "assigned", "maintain": None, "maintenance_start": "maintenance",
    "return": "returned", "sanitize": "sanitized", "restock": "in_stock", "retire": "retired",
}
_COLUMNS = ("serial", "make", "model", "type", "hostname", "assignee_name", "assignee_id", "assignee_username",
            "department", "status", "purchase_date", "assigned_date", "last_maintenance", "next_maintenance_due",
            "notes")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Change:
    tag: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    changed: bool
    history_id: int | None = None
    fields: list[str] = field(default_factory=list)

    def evidence(self) -> dict[str, Any]:
        return {"asset": self.tag, "action": self.action, "changed": self.changed, "fields": self.fields,
                "before": {k: (self.before or {}).get(k) for k in self.fields} if self.before else None,
                "after": {k: self.after.get(k) for k in self.fields} if self.before else self.after,
                "status": self.after.get("status"), "history_id": self.history_id}


class Register:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.conn = open_db(self.path)

    @classmethod
    def configured(cls, path: str | Path | None = None) -> Register:
        from runner.settings import assets_db

        return cls(assets_db(path))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # --- reading ------------------------------------------------------------------------------------------
    def find(self, tag: str) -> Asset | None:
        row = self.conn.execute("SELECT * FROM assets WHERE tag = ?", (tag,)).fetchone()
        if row is None:
            return None
        disks = [Disk(model=d["model"], serial=d["serial"], size_bytes=d["size_bytes"], media_type=d["media_type"])
                 for d in self.conn.execute("SELECT * FROM disks WHERE asset_tag = ? ORDER BY position", (tag,))]
        return Asset(tag=row["tag"], **{c: row[c] for c in _COLUMNS}, disks=disks)

    def find_by_hostname(self, hostname: str) -> Asset | None:
        """The asset in service (in stock, assigned, in maintenance) named ``hostname``; the newest if several."""
        row = self.conn.execute("SELECT tag FROM assets WHERE hostname = ? AND status IN "
                                "('assigned', 'maintenance', 'in_stock') ORDER BY created DESC, tag LIMIT 1",
                                (hostname,)).fetchone()
        return self.get(row["tag"]) if row else None

    def get(self, tag: str) -> Asset:
        asset = self.find(tag)
        if asset is None:
            raise ConfigError(f"{tag!r}: no such asset in the register {self.path}", hint="see `sop assets list`")
        return asset

    def list(self, status: str | None = None) -> list[Asset]:
        if status is not None and status not in STATUSES:
            raise ConfigError(f"--status {status!r}: not one of {', '.join(STATUSES)}")
        query = "SELECT tag FROM assets" + (" WHERE status = ?" if status else "") + " ORDER BY tag"
        return [self.get(r["tag"]) for r in self.conn.execute(query, (status,) if status else ())]

    def due(self, today: dt.date | None = None) -> list[Asset]:
        """Assets in service whose next maintenance is due on or before ``today`` (default: today, UTC)."""
        day = (today or dt.datetime.now(dt.UTC).date()).isoformat()
        rows = self.conn.execute(
            "SELECT tag FROM assets WHERE next_maintenance_due != '' AND next_maintenance_due <= ? "
            "AND status IN ('assigned', 'maintenance', 'in_stock') ORDER BY next_maintenance_due, tag", (day,))
        return [self.get(r["tag"]) for r in rows]

    def history(self, tag: str) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM history WHERE asset_tag = ? ORDER BY id", (tag,))
        return [{**dict(r), "changes": json.loads(r["changes"])} for r in rows]

    def history_between(self, start: str, end: str) -> list[dict[str, Any]]:
        """Every asset's history rows with ``start <= ts < end`` (ISO 8601 UTC, as written by ``apply``)."""
        rows = self.conn.execute("SELECT * FROM history WHERE ts >= ? AND ts < ? ORDER BY ts, id", (start, end))
        return [{**dict(r), "changes": json.loads(r["changes"])} for r in rows]

    # --- the one way to change it -------------------------------------------------------------------------
    def apply(self, tag: str, action: str, changes: dict[str, Any] | None = None, *, actor: str = "",
              run_id: str = "", check: bool = False, require_status: Iterable[str] = ()) -> Change:
        """Create or change asset ``tag`` by ``action``; refuses a move the status rules do not allow."""
        with self._tx():
            change = self._plan(tag, action, dict(changes or {}), tuple(require_status))
            if change.changed and not check:
                change.history_id = self._write(change, actor, run_id)
        return change

    def apply_many(self, items: list[tuple[str, str, dict[str, Any]]], *, actor: str = "", run_id: str = "",
                   check: bool = False, labels: list[str] | None = None) -> list[Change]:
        """Several changes in one transaction: all of them or, on any error, none (the error names the item's
        label, e.g. FILE:LINE)."""
        out = []
        with self._tx():
            for index, (tag, action, changes) in enumerate(items):
                try:
                    change = self._plan(tag, action, dict(changes), ())
                except SopError as exc:
                    if labels is None:
                        raise
                    raise type(exc)(f"{labels[index]}: {exc}", hint="nothing was imported") from None
                if change.changed and not check:
                    change.history_id = self._write(change, actor, run_id)
                out.append(change)
        return out

    def _plan(self, tag: str, action: str, changes: dict[str, Any], require_status: tuple[str, ...]) -> Change:
        if action not in ACTIONS:
            raise ConfigError(f"asset action {action!r}: not one of {', '.join(ACTIONS)}")
        current = self.find(tag)
        if current is None and action not in {"create", "import"}:
            raise ConfigError(f"{tag!r}: no such asset in the register {self.path}", hint="see `sop assets list`")
        if require_status and (current is None or current.status not in require_status):
            raise RefusedError(f"asset {tag}: {action} needs status {' or '.join(require_status)}; "
                               f"it is {current.status if current else 'not registered'}")
        target = ACTIONS[action]
        if target is not None:
            changes["status"] = target
        before = current.as_dict() if current else None
        merged = {**(before or {"tag": tag}), **changes, "tag": tag}
        after = Asset.from_dict(merged).check()
        if current is not None and not allowed(current.status, after.status):
            raise RefusedError(f"asset {tag}: {action} cannot move it from {current.status} to {after.status}")
        after_dict = after.as_dict()
        changed_fields = sorted(k for k in after_dict if before is None or before.get(k) != after_dict[k])
        return Change(tag, action, before, after_dict, bool(changed_fields), fields=changed_fields)

    def _write(self, change: Change, actor: str, run_id: str) -> int:
        after = change.after
        values = [after[c] for c in _COLUMNS]
        ts = _now()
        if change.before is None:
            self.conn.execute(
                f"INSERT INTO assets (tag, {', '.join(_COLUMNS)}, created, updated) "
                f"VALUES (?, {', '.join('?' for _ in _COLUMNS)}, ?, ?)", [change.tag, *values, ts, ts])
        else:
            self.conn.execute(f"UPDATE assets SET {', '.join(f'{c} = ?' for c in _COLUMNS)}, updated = ? WHERE tag = ?",
                              [*values, ts, change.tag])
        if change.before is None or "disks" in change.fields:
            self.conn.execute("DELETE FROM disks WHERE asset_tag = ?", (change.tag,))
            for position, disk in enumerate(after["disks"]):
                self.conn.execute("INSERT INTO disks VALUES (?, ?, ?, ?, ?, ?)",
                                  (change.tag, position, disk["model"], disk["serial"], disk["size_bytes"],
                                   disk["media_type"]))
        diff = {k: [(change.before or {}).get(k), after.get(k)] for k in change.fields}
        cursor = self.conn.execute(
            "INSERT INTO history (asset_tag, ts, action, actor, run_id, changes) VALUES (?, ?, ?, ?, ?, ?)",
            (change.tag, ts, change.action, actor, run_id, json.dumps(diff, sort_keys=True, default=str)))
        return int(cursor.lastrowid or 0)
