"""The asset register's SQLite file: opened in WAL mode, brought to the newest schema by numbered migrations.

``PRAGMA user_version`` holds the number of migrations applied; each migration runs once, in its own
transaction, so a register written by an older version is upgraded in place and never rebuilt.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from runner.errors import ConfigError

MIGRATIONS: tuple[str, ...] = (
    # 1: assets, their disks, and the history of every change
    """
    CREATE TABLE assets (
        tag TEXT PRIMARY KEY,
        serial TEXT NOT NULL DEFAULT '',
        make TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        type TEXT NOT NULL DEFAULT 'laptop',
        hostname TEXT NOT NULL DEFAULT '',
        assignee_name TEXT NOT NULL DEFAULT '',
        assignee_id TEXT NOT NULL DEFAULT '',
        assignee_username TEXT NOT NULL DEFAULT '',
        department TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'in_stock',
        purchase_date TEXT NOT NULL DEFAULT '',
        assigned_date TEXT NOT NULL DEFAULT '',
        last_maintenance TEXT NOT NULL DEFAULT '',
        next_maintenance_due TEXT NOT NULL DEFAULT '',
        notes TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE disks (
        asset_tag TEXT NOT NULL REFERENCES assets(tag) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        model TEXT NOT NULL DEFAULT '',
        serial TEXT NOT NULL DEFAULT '',
        size_bytes INTEGER NOT NULL DEFAULT 0,
        media_type TEXT NOT NULL DEFAULT 'hdd',
        PRIMARY KEY (asset_tag, position)
    );
    CREATE TABLE history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        asset_tag TEXT NOT NULL,
        ts TEXT NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL DEFAULT '',
        run_id TEXT NOT NULL DEFAULT '',
        changes TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX history_by_asset ON history(asset_tag, id);
    """,
)


def open_db(path: Path) -> sqlite3.Connection:
    """The register at ``path`` (created 0600 in a 0700 directory), migrated to the newest schema."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            path.touch(mode=0o600)
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"{path}: cannot open the asset register: {exc}") from None
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    migrate(conn, path)
    return conn


def migrate(conn: sqlite3.Connection, path: Path | str = "register") -> int:
    """Apply the migrations not yet applied; returns the schema version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise ConfigError(f"{path}: asset register schema {version} is newer than this sop ({len(MIGRATIONS)})",
                          hint="upgrade sop-as-code")
    for number in range(version, len(MIGRATIONS)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number + 1}")
        except sqlite3.Error:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
