"""The asset register: schema migrations, the one change API, status rules, due dates."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from runner.assets import Register
from runner.assets.schema import MIGRATIONS, open_db
from runner.errors import ConfigError, RefusedError

LAPTOP = {"serial": "SN-001", "make": "Lenovo", "model": "ThinkPad T14", "type": "laptop",
          "disks": [{"model": "Samsung PM9A1", "serial": "S6EXNX0T1", "size_bytes": 512110190592,
                     "media_type": "nvme"}]}


@pytest.fixture
def register(tmp_path):
    with Register(tmp_path / "state" / "register.sqlite") as reg:
        yield reg


def test_open_creates_wal_register_at_newest_schema(tmp_path):
    path = tmp_path / "a" / "register.sqlite"
    conn = open_db(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "register.sqlite"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    raw.close()
    with pytest.raises(ConfigError, match="newer than this sop"):
        open_db(path)


def test_create_get_and_history(register):
    change = register.apply("LT-0001", "create", LAPTOP, actor="it-officer", run_id="R1")
    assert change.changed and change.before is None and change.history_id
    asset = register.get("LT-0001")
    assert asset.status == "in_stock"
    assert asset.disks[0].serial == "S6EXNX0T1" and asset.disks[0].media_type == "nvme"
    history = register.history("LT-0001")
    assert [h["action"] for h in history] == ["create"]
    assert history[0]["actor"] == "it-officer" and history[0]["run_id"] == "R1"


def test_same_change_twice_changes_nothing(register):
    register.apply("LT-0001", "create", LAPTOP)
    again = register.apply("LT-0001", "update", {"make": "Lenovo"})
    assert not again.changed and again.history_id is None
    assert len(register.history("LT-0001")) == 1


def test_check_mode_writes_nothing(register):
    change = register.apply("LT-0001", "create", LAPTOP, check=True)
    assert change.changed
    assert register.find("LT-0001") is None


def test_status_moves_follow_the_sop(register):
    register.apply("LT-0001", "create", LAPTOP)
    with pytest.raises(RefusedError, match="in_stock to sanitized"):
        register.apply("LT-0001", "sanitize")
    register.apply("LT-0001", "assign", {"assignee_name": "Siti"})
    with pytest.raises(RefusedError, match="assigned to in_stock"):
        register.apply("LT-0001", "restock")
    register.apply("LT-0001", "return")
    with pytest.raises(RefusedError, match="returned to in_stock"):
        register.apply("LT-0001", "restock")
    register.apply("LT-0001", "sanitize")
    register.apply("LT-0001", "restock")
    assert register.get("LT-0001").status == "in_stock"
    assert [h["action"] for h in register.history("LT-0001")] == ["create", "assign", "return", "sanitize",
                                                                   "restock"]


def test_require_status_refuses_without_writing(register):
    register.apply("LT-0001", "create", LAPTOP)
    with pytest.raises(RefusedError, match="needs status returned"):
        register.apply("LT-0001", "update", {"notes": "x"}, require_status=["returned"])
    assert register.get("LT-0001").notes == ""


def test_bad_values_and_unknown_assets(register):
    with pytest.raises(ConfigError, match="next_maintenance_due"):
        register.apply("LT-0001", "create", {**LAPTOP, "next_maintenance_due": "soon"})
    with pytest.raises(ConfigError, match="media_type"):
        register.apply("LT-0001", "create", {"disks": [{"media_type": "floppy"}]})
    with pytest.raises(ConfigError, match="no such asset"):
        register.apply("LT-0404", "assign")
    with pytest.raises(ConfigError, match="unknown field"):
        register.apply("LT-0001", "create", {"colour": "red"})


def test_due_lists_overdue_assets_in_service(register):
    register.apply("LT-0001", "create", {**LAPTOP, "next_maintenance_due": "2025-01-01"})
    register.apply("LT-0002", "create", {**LAPTOP, "serial": "SN-2", "next_maintenance_due": "2099-01-01"})
    register.apply("LT-0003", "create", {**LAPTOP, "serial": "SN-3", "status": "retired",
                                         "next_maintenance_due": "2025-01-01"})
    assert [a.tag for a in register.due(dt.date(2025, 6, 1))] == ["LT-0001"]


def test_many_changes_are_all_or_nothing(register):
    with pytest.raises(ConfigError, match="row 2"):
        register.apply_many([("LT-0001", "import", LAPTOP), ("LT-0002", "import", {"status": "lost"})],
                            labels=["row 1", "row 2"])
    assert register.list() == []
