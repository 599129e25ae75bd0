"""Real runs on the lab recorded into the WORM store (the tests' own moto): `sop run` and plain
ansible-playbook on a throw-away controller directory, then verified from the store alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from audit_helpers import PLAYBOOKS, ansible_playbook, clean_env, sop

from runner.audit.worm import WormStore

pytestmark = pytest.mark.lab


def test_runs_on_an_ephemeral_controller_verify_from_the_store(
    lab_inventory: Path, tmp_path: Path, worm_url: str
) -> None:
    controller = tmp_path / "ee-container" / "audit"
    env = clean_env(SOP_AUDIT_STORE=worm_url, SOP_AUDIT_DIR=str(controller))
    failed = sop("run", str(PLAYBOOKS / "failed.yml"), "-i", str(lab_inventory), "--limit", "stg-app1",
                 "--audit-dir", str(controller), env=env)
    assert failed.returncode == 7, failed.stdout + failed.stderr
    plain = ansible_playbook(PLAYBOOKS / "ok.yml", lab_inventory, "--limit", "ws-lt01", env=env)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert not list((controller / "spool").glob("*.json")), "everything reached the store"
    shutil.rmtree(controller.parent)
    out = sop("audit", "verify", "--store", worm_url, "--audit-dir", str(tmp_path / "other"), env=env)
    assert out.returncode == 0 and "OK: 4 ledger entries, 2 runs" in out.stdout, out.stdout + out.stderr
    store = WormStore(worm_url)
    records = [json.loads(store.get(k) or b"{}") for k in store.keys_ever("runs/") if k.endswith("record.json")]
    assert sorted(r["status"] for r in records) == ["failed", "success"]
    assert {r["entry_point"] for r in records} == {"sop run", "ansible-playbook"}
