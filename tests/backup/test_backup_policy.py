"""policies/backup.yml is schema-validated at load; errors name the file and every bad path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from runner.backup.policy import DEFAULT_PATH, load_backup_policy, validate_backup_policy
from runner.errors import PolicyError
from runner.paths import REPO_ROOT


def test_shipped_policy_loads() -> None:
    policy = load_backup_policy()
    assert policy["verify"]["max_snapshot_age_hours"] == 26
    assert policy["restore"]["sla_hours"] == 24
    assert set(policy["retention"]) == {"keep_daily", "keep_weekly", "keep_monthly"}
    assert policy["restore"]["approver_roles"] == ["it_manager", "data_owner"]


def test_invalid_policy_names_file_and_every_problem(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_PATH.read_text())
    data["backup_policy"]["retention"]["keep_daily"] = "seven"
    data["backup_policy"]["verify"]["read_data_subset"] = "lots"
    data["backup_policy"]["verify"]["surprise"] = 1
    bad = tmp_path / "backup.yml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyError) as caught:
        load_backup_policy(bad)
    message = str(caught.value)
    assert message.startswith(str(bad))
    assert "retention.keep_daily" in message
    assert "verify.read_data_subset" in message
    assert "surprise" in message


def test_missing_section_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="'restore' is a required property"):
        validate_backup_policy({"backup_policy": {"schedule": {"on_calendar": "daily"},
                                                  "retention": {"keep_daily": 1, "keep_weekly": 1,
                                                                "keep_monthly": 1},
                                                  "verify": {"max_snapshot_age_hours": 1,
                                                             "read_data_subset": "1/5", "sample_size": 1}}},
                               "x.yml")
    with pytest.raises(PolicyError, match="cannot read"):
        load_backup_policy(tmp_path / "absent.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("backup_policy: [unclosed\n")
    with pytest.raises(PolicyError, match=str(broken)):
        load_backup_policy(broken)


def test_playbook_fails_on_a_bad_policy_naming_the_file(tmp_path: Path) -> None:
    """The sop_backup_policy action validates at load: the play stops before touching a host."""
    bad = tmp_path / "backup.yml"
    bad.write_text("backup_policy:\n  retention: {keep_daily: -1}\n")
    result = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", "-c", "local",
         "playbooks/backup_verify.yml", "-e", "backup_hosts=localhost", "-e", f"backup_policy_file={bad}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert f"{bad}: invalid backup policy" in out
    assert "retention.keep_daily" in out
    assert "Verify every repository" not in out
