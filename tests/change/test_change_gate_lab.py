"""The production change gate on the lab: harden.yml (which patches) refuses to change production hosts
without change ref, IT manager approval and a staged run; with them, and in check mode, it proceeds."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from labtools import ansible_playbook

from runner.lab import Lab
from runner.paths import PLAYBOOKS, REPO_ROOT

pytestmark = pytest.mark.lab
SOP = str(REPO_ROOT / ".venv" / "bin" / "sop")
SSH_STATE = "find /etc/ssh -type f -exec sha256sum {} + | sort"


def _sop_run(lab: Lab, audit_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SOP, "run", "playbooks/harden.yml", "-i", str(lab.inventory_path), "--tags", "SSH-001",
                           "--audit-dir", str(audit_dir), "-q", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=600, check=False)


def test_production_change_needs_ref_approval_and_staging_first(lab: Lab, tmp_path: Path) -> None:
    before = lab.exec("prod-app1", "sh", "-c", SSH_STATE)

    bare = _sop_run(lab, tmp_path, "-l", "prod-app1")
    assert bare.returncode == 5, bare.stdout + bare.stderr
    assert "REFUSED" in bare.stdout and "no change reference" in bare.stdout
    assert "no approval by it_manager" in bare.stdout

    unstaged = _sop_run(lab, tmp_path, "-l", "prod-app1", "--change-ref", "CHG-T1",
                        "--approved-by", "it_manager=Test Manager")
    assert unstaged.returncode == 5, unstaged.stdout
    assert "no successful run of harden.yml under CHG-T1 on staging" in unstaged.stdout

    self_approved = _sop_run(lab, tmp_path, "-l", "prod-app1", "--change-ref", "CHG-T1",
                             "--approved-by", "it_manager=root")
    assert self_approved.returncode == 5 and "segregation of duties" in self_approved.stdout
    assert lab.exec("prod-app1", "sh", "-c", SSH_STATE) == before, "a refused run changed the host"

    dry = _sop_run(lab, tmp_path, "-l", "prod-app1", "--check")
    assert dry.returncode == 0, dry.stdout
    assert lab.exec("prod-app1", "sh", "-c", SSH_STATE) == before

    staged = _sop_run(lab, tmp_path, "-l", "stg-app1", "--change-ref", "CHG-T1")
    assert staged.returncode == 0, staged.stdout

    approved = _sop_run(lab, tmp_path, "-l", "prod-app1", "--change-ref", "CHG-T1",
                        "--approved-by", "it_manager=Test Manager")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert lab.exec("prod-app1", "sh", "-c", SSH_STATE) != before
    assert "permitrootlogin no" in lab.exec("prod-app1", "sshd", "-T")


def test_plain_ansible_playbook_is_gated_too(lab: Lab) -> None:
    """Cron/AWX runs call ansible-playbook directly: the gate works there too (stdin closed, no sop run env)."""
    before = lab.exec("prod-db1", "sh", "-c", SSH_STATE)
    result = ansible_playbook(PLAYBOOKS / "harden.yml", lab.inventory_path, "--limit", "prod-db1",
                              "--tags", "SSH-001")
    assert result.returncode != 0
    assert "REFUSED: harden.yml would change protected hosts (prod-db1)" in result.stdout, result.stdout[-3000:]
    assert lab.exec("prod-db1", "sh", "-c", SSH_STATE) == before
