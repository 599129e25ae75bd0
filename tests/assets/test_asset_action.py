"""sop.core.sop_asset from a playbook (through `sop run`): changes land in the register and in the run record."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from runner.assets import Register
from runner.paths import REPO_ROOT

PLAYBOOK = Path(__file__).with_name("playbooks") / "asset_change.yml"


def _sop_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOP_ASSETS_DB": str(tmp_path / "register.sqlite"), "SOP_AUDIT_DIR": str(tmp_path / "audit"),
           "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "sop"), "run", str(PLAYBOOK), "-i", "localhost,",
                           "-e", "ansible_connection=local", "-e", "ansible_python_interpreter=" +
                           str(REPO_ROOT / ".venv" / "bin" / "python"), "-q", *args],
                          cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=300, check=False)


def test_playbook_changes_register_with_evidence_and_check_mode_writes_nothing(tmp_path):
    dry = _sop_run(tmp_path, "--check")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    with Register(tmp_path / "register.sqlite") as register:
        assert register.find("LT-PB1") is None
    run = _sop_run(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    with Register(tmp_path / "register.sqlite") as register:
        asset = register.get("LT-PB1")
        assert asset.next_maintenance_due == "2025-04-02"
        history = register.history("LT-PB1")
    assert [h["action"] for h in history] == ["create", "maintain"]
    runs = sorted((tmp_path / "audit" / "runs").glob("*/record.json"))
    record = json.loads(runs[-1].read_text())
    text = json.dumps(record)
    assert '"asset_change"' in text and "next_maintenance_due" in text
    assert history[0]["run_id"] == record["run_id"]
