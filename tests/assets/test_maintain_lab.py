"""playbooks/maintain.yml on the lab (SOP 2.4 quarterly devices, SOP 3.4 weekly servers): the checks land in the
run record (SMART recorded as not verifiable in a container, never as a pass), old temporary files go within the
policy's limits, the register gets the next due dates by group, and `sop assets due` shows an overdue device."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from runner.assets import Register
from runner.lab import Lab
from runner.paths import REPO_ROOT

pytestmark = pytest.mark.lab
SOP = str(REPO_ROOT / ".venv" / "bin" / "sop")
OLD, NEW = "/var/tmp/sop-maintenance-old.log", "/var/tmp/sop-maintenance-new.log"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("maintain")
    return {**os.environ, "SOP_ASSETS_DB": str(work / "register.sqlite"), "SOP_AUDIT_DIR": str(work / "audit")}


def _maintain(lab: Lab, env: dict[str, str], limit: str, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([SOP, "run", "playbooks/maintain.yml", "-i", str(lab.inventory_path), "-l", limit, "-q",
                             *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False,
                            env=env)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return result


def _changed(result: subprocess.CompletedProcess[str]) -> int:
    return int(re.search(r"changed=(\d+)", result.stdout).group(1))


def _evidence(env: dict[str, str]) -> dict[str, dict]:
    """host -> the maintenance evidence of the newest run's record."""
    record = json.loads(sorted(Path(env["SOP_AUDIT_DIR"]).glob("runs/*/record.json"))[-1].read_text())
    return {result["host"]: result["evidence"]["maintenance"] for play in record["plays"] for task in play["tasks"]
            for result in task["results"] if "maintenance" in (result.get("evidence") or {})}


@pytest.fixture(scope="module")
def maintained(lab: Lab, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    with Register(Path(env["SOP_ASSETS_DB"])) as register:
        register.apply("LT-0300", "create", {"hostname": "ws-lt01", "status": "assigned", "assignee_name": "Andi",
                                             "next_maintenance_due": "2026-01-01"}, actor="test")
    lab.exec("ws-lt01", "sh", "-c", f"echo old > {OLD} && touch -d '30 days ago' {OLD} && echo new > {NEW}")
    dry = _maintain(lab, env, "ws-lt01,stg-app1", "--check")
    assert lab.exec("ws-lt01", "ls", OLD).strip() == OLD, "check mode removed a file"
    with Register(Path(env["SOP_ASSETS_DB"])) as register:
        assert register.get("LT-0300").next_maintenance_due == "2026-01-01" and register.find("stg-app1") is None
    assert _changed(dry) >= 1
    return _maintain(lab, env, "ws-lt01,stg-app1")


def test_next_due_dates_follow_the_groups_cadence(maintained, env: dict[str, str]) -> None:
    today = dt.datetime.now(dt.UTC).date()
    with Register(Path(env["SOP_ASSETS_DB"])) as register:
        laptop, server = register.get("LT-0300"), register.get("stg-app1")
    assert laptop.last_maintenance == today.isoformat()
    assert laptop.next_maintenance_due == (today + dt.timedelta(days=90)).isoformat()
    assert (server.type, server.hostname) == ("server", "stg-app1")
    assert server.next_maintenance_due == (today + dt.timedelta(days=7)).isoformat()


def test_checks_are_recorded_and_smart_is_not_faked(maintained, env: dict[str, str]) -> None:
    found = _evidence(env)
    assert set(found) == {"ws-lt01", "stg-app1"}
    findings = found["ws-lt01"]["findings"]
    assert findings["smart"].startswith("not verifiable here (a ") and "container" in findings["smart"]
    assert findings["updates_pending"] >= 0 and "pass=" in findings["baseline"]
    assert findings["health"]["disk"][0]["path"] == "/" and findings["temporary_files_removed"] >= 1
    assert found["stg-app1"]["cadence_days"] == 7 and found["stg-app1"]["register"]["action"] == "create"


def test_old_temporary_files_go_recent_ones_stay(lab: Lab, maintained) -> None:
    assert lab.exec("ws-lt01", "sh", "-c", f"ls {OLD} 2>&1; true").strip().endswith("No such file or directory")
    assert lab.exec("ws-lt01", "cat", NEW).strip() == "new"


def test_second_run_the_same_day_changes_nothing(lab: Lab, maintained, env: dict[str, str]) -> None:
    assert _changed(_maintain(lab, env, "ws-lt01,stg-app1")) == 0


def test_due_lists_an_overdue_device(lab: Lab, maintained, env: dict[str, str]) -> None:
    _maintain(lab, env, "ws-lt02", "-e", "maintain_date=2025-01-01")
    due = subprocess.run([SOP, "assets", "due"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    line = next(line for line in due.splitlines() if line.startswith("ws-lt02"))
    assert "2025-04-01" in line and "OVERDUE by" in line
    assert "LT-0300" not in due and "stg-app1" not in due
