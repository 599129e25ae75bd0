"""Cross-cutting guarantees for every playbook in playbooks/: it parses, and check mode (dry run) works."""

from __future__ import annotations

from pathlib import Path

import pytest
from labtools import ansible_playbook

from runner.lab import Lab
from runner.paths import PLAYBOOKS, REPO_ROOT

ALL = sorted(PLAYBOOKS.glob("*.yml"))
# Dry runs that need a rig of their own, proven where it is built: wipe.yml needs a returned asset whose disk
# is handed to a lab host, provision.yml and return.yml an asset in the register (and its employee's accounts).
ELSEWHERE = {"wipe.yml": ("tests/assets/test_wipe_lab.py", "test_check_mode_passes_every_gate_and_writes_nothing"),
             "provision.yml": ("tests/assets/test_provision_lab.py", "test_check_mode_changes_nothing"),
             "return.yml": ("tests/assets/test_provision_lab.py",
                            "test_return_disables_the_directory_account_and_records_the_condition")}
# What a dry run of each playbook needs beyond --check; the restore gate needs its approvals even in check mode.
EXTRA: dict[str, list[str]] = {
    "restore.yml": ["-e", '{"sop_change_ref": "CHK-1", "sop_approvals": {"it_manager": "A", "data_owner": "B"},'
                          ' "restore_host": "stg-app1"}'],
    # a staging install, announced as an emergency so the dry run does not depend on the clock
    "patch.yml": ["-e", '{"sop_change_ref": "CHK-1", "patch_emergency_reason": "dry run in the test suite",'
                        ' "patch_packages": ["sop-demo-app=1.1"]}'],
}
LIMIT = "stg-app1,core-sw1,localhost"
# Playbooks that act on what another one set up (verifying or restoring a backup needs a backup).
NEEDS_BACKUP = {"backup_verify.yml", "restore.yml"}


@pytest.fixture(scope="module")
def backed_up(lab: Lab) -> None:
    ansible_playbook(PLAYBOOKS / "backup.yml", lab.inventory_path, "--limit", "stg-app1", check=True)


@pytest.mark.parametrize("playbook", ALL, ids=lambda p: p.name)
def test_syntax(playbook: Path, lab: Lab) -> None:
    result = ansible_playbook(playbook, lab.inventory_path, "--syntax-check")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.mark.lab
@pytest.mark.parametrize("playbook", [p for p in ALL if p.name not in ELSEWHERE], ids=lambda p: p.name)
def test_check_mode_runs_clean(playbook: Path, lab: Lab, request: pytest.FixtureRequest) -> None:
    if playbook.name in NEEDS_BACKUP:
        request.getfixturevalue("backed_up")
    result = ansible_playbook(playbook, lab.inventory_path, "--check", "--limit", LIMIT,
                              *EXTRA.get(playbook.name, []))
    output = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    assert "unreachable=1" not in result.stdout and "failed=1" not in result.stdout, output


def test_every_playbook_has_a_dry_run_test() -> None:
    for name, (path, test) in ELSEWHERE.items():
        assert f"def {test}(" in (REPO_ROOT / path).read_text(), f"{name}: its check-mode test {test} is gone"
        assert (PLAYBOOKS / name).is_file()


def test_playbooks_are_documented_in_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    for playbook in ALL:
        assert f"playbooks/{playbook.name}" in readme, f"{playbook.name} missing from README's SOP table"
