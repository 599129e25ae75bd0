"""The playbook on the lab pushes the config store to a bare git remote; a gone remote is a warning, not a failure."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml
from network_helpers import evidence, git, run

from runner.lab import Lab
from runner.network import status


def _task_result(outcome, key: str) -> dict:
    for play in outcome.record["plays"]:
        for task in play["tasks"]:
            for result in task["results"]:
                if key in (result.get("evidence") or {}):
                    return result
    raise AssertionError(f"no result with {key!r}")


def test_lab_inventory_names_the_labs_bare_remote(lab: Lab) -> None:
    inventory = yaml.safe_load(lab.inventory_path.read_text())
    remote = inventory["all"]["children"]["network"]["vars"]["network_backup_remote"]
    assert Path(remote) == lab.config_remote
    assert git(lab.config_remote, "rev-parse", "--is-bare-repository").strip() == "true"


def test_backup_pushes_the_store_and_a_gone_remote_only_warns(lab: Lab, tmp_path: Path) -> None:
    store, remote = tmp_path / "store", tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    first = run("network_backup.yml", lab, tmp_path, network_backup_store=str(store),
                network_backup_remote=str(remote))
    assert first.status == "success", first.output_tail
    found = evidence(first, "commit")
    assert found["push"] == {"remote": str(remote), "ok": True}
    assert git(remote, "rev-parse", "main").strip() == found["commit"]
    names = {n.name for n in lab.devices()}
    assert set(status.load(store)) == names
    pushed_index = git(remote, "show", "main:index/index.html")
    assert all(name in pushed_index for name in names)

    shutil.rmtree(remote)
    second = run("network_backup.yml", lab, tmp_path, network_backup_store=str(store),
                 network_backup_remote=str(remote))
    assert second.status == "success", "a failed push leaves the backup standing: " + second.output_tail
    found = evidence(second, "commit")
    assert found["push"]["ok"] is False and found["status"] == "ok"
    warnings = _task_result(second, "commit").get("warnings", [])
    assert any("not pushed" in w and str(remote) in w for w in warnings), warnings
    assert git(store, "rev-parse", "HEAD").strip() == found["commit"]
