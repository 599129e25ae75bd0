"""The config store beyond the configurations: per-device status, the static HTML index, pushing to a remote."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from runner.audit.gitstore import commit_problems
from runner.network import backup as backup_mod
from runner.network import status
from runner.network.devices import Device

DEVICES = [Device("sw1", "127.0.0.1", 1, "cisco_ios", "u", "Pw-Secret-1"),
           Device("sw2", "127.0.0.1", 2, "arista_eos", "u", "Pw-Secret-1")]


@pytest.fixture
def configs(answers: dict[str, str | Exception]) -> dict[str, str | Exception]:
    answers.update(sw1="hostname sw1\nusername u password 0 Pw-Secret-1\n",
                   sw2="hostname sw2\nsnmp-server community Comm1 ro\n")
    return answers


def git(path: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, check=True).stdout


def test_status_tracks_last_success_failure_and_failing_since(tmp_path: Path, configs: dict) -> None:
    store = tmp_path / "store"
    backup_mod.run_backup(DEVICES, store, run_id="R1")
    configs["sw2"] = TimeoutError("no answer in 20 s")
    backup_mod.run_backup(DEVICES, store, run_id="R2")
    third = backup_mod.run_backup(DEVICES, store, run_id="R3")
    entry = status.load(store)["sw2"]
    assert entry["last_success"]["run_id"] == "R1"
    assert entry["last_failure"]["run_id"] == "R3" and entry["last_failure"]["error_kind"] == "timeout"
    assert entry["consecutive_failures"] == 2
    assert status.health(entry) == "failing"
    assert "failing since" in status.describe("sw2", entry) and "timeout" in status.describe("sw2", entry)
    assert status.health(status.load(store)["sw1"]) == "ok"
    # The status is committed with the run: the record's commit id pins it.
    assert json.loads(git(store, "show", f"{third.commit}:status.json"))["run_id"] == "R3"

    configs["sw2"] = "hostname sw2\n"
    backup_mod.run_backup(DEVICES, store, run_id="R4")
    entry = status.load(store)["sw2"]
    assert entry["consecutive_failures"] == 0 and "failing_since" not in entry
    assert entry["last_success"]["run_id"] == "R4" and entry["last_change"]["run_id"] == "R4"
    assert entry["last_failure"]["run_id"] == "R3", "the last failure stays on record"


def test_failing_since_is_the_first_failure_of_the_streak(tmp_path: Path, configs: dict) -> None:
    store = tmp_path / "store"
    configs["sw2"] = TimeoutError("no answer in 20 s")
    backup_mod.run_backup(DEVICES, store, run_id="R1")
    first = status.load(store)["sw2"]["failing_since"]
    data = json.loads((store / "status.json").read_text())
    data["devices"]["sw2"]["failing_since"] = "2026-01-01T00:00:00Z"  # as if the streak began long ago
    (store / "status.json").write_text(json.dumps(data))
    backup_mod.run_backup(DEVICES, store, run_id="R2")
    assert first != "2026-01-01T00:00:00Z"
    assert status.load(store)["sw2"]["failing_since"] == "2026-01-01T00:00:00Z"


def test_index_lists_devices_links_diffs_and_holds_no_secret(tmp_path: Path, configs: dict) -> None:
    store = tmp_path / "store"
    backup_mod.run_backup(DEVICES, store, run_id="R1")
    configs["sw1"] += "logging host 169.254.9.9\n"
    configs["sw2"] = TimeoutError("no answer in 20 s")
    result = backup_mod.run_backup(DEVICES, store, run_id="R2")
    html = (store / "index" / "index.html").read_text()
    assert "sw1" in html and "sw2" in html and 'href="changes/sw1.html"' in html
    index = json.loads((store / "index" / "index.json").read_text())
    health = {d["name"]: d["health"] for d in index["devices"]}
    assert health == {"sw1": "ok", "sw2": "failing"} and index["counts"]["failing"] == 1
    changes = json.loads((store / "index" / "changes" / "sw1.json").read_text())["changes"]
    assert [c["run_id"] for c in changes] == ["R2", "R1"], "newest first, the first backup included"
    assert "+logging host 169.254.9.9" in changes[0]["diff"]
    assert "+logging host 169.254.9.9" in (store / "index" / "changes" / "sw1.html").read_text()
    for path in (store / "index").rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "Pw-Secret-1" not in text and "Comm1" not in text, path
    # Index and status are committed with the run: the tree is what the commit pins (audit verify's check).
    assert commit_problems(str(store), result.commit) == []
    assert result.changed == ["sw1"], "the index and the status are not device changes"


def test_changes_page_keeps_the_last_diffs_only(tmp_path: Path, configs: dict, monkeypatch) -> None:
    monkeypatch.setattr("runner.network.index.KEEP_CHANGES", 3)
    store = tmp_path / "store"
    for n in range(5):
        configs["sw1"] += f"logging host 169.254.9.{n}\n"
        backup_mod.run_backup(DEVICES, store, run_id=f"R{n}")
    changes = json.loads((store / "index" / "changes" / "sw1.json").read_text())["changes"]
    assert [c["run_id"] for c in changes] == ["R4", "R3", "R2"]


def test_push_to_a_bare_remote_and_a_clean_failure_when_it_is_gone(tmp_path: Path, configs: dict) -> None:
    store, remote = tmp_path / "store", tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    first = backup_mod.run_backup(DEVICES, store, run_id="R1", remote=str(remote))
    assert first.push == {"remote": str(remote), "ok": True}
    assert git(remote, "rev-parse", "main").strip() == first.commit
    assert "hostname sw1" in git(remote, "show", "main:running/sw1.cfg")

    shutil.rmtree(remote)
    configs["sw1"] += "logging host 169.254.9.9\n"
    second = backup_mod.run_backup(DEVICES, store, run_id="R2", remote=str(remote))
    assert second.status == "ok" and second.exit_code == 0, "a failed push does not fail the backup"
    assert second.push is not None and second.push["ok"] is False and second.push["error"]
    assert "push FAILED" in second.summary()
    assert git(store, "rev-parse", "HEAD").strip() == second.commit, "the local commit stands"
    assert second.evidence()["push"] == second.push


def test_push_refuses_a_diverged_remote_without_forcing(tmp_path: Path, configs: dict) -> None:
    store, remote = tmp_path / "store", tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(remote), str(other)], check=True, capture_output=True)
    (other / "x").write_text("someone else's history\n")
    git(other, "add", "x")
    git(other, "-c", "user.name=x", "-c", "user.email=x@localhost", "commit", "-qm", "other")
    git(other, "push", "-q", "origin", "HEAD:main")
    theirs = git(remote, "rev-parse", "main").strip()
    result = backup_mod.run_backup(DEVICES, store, run_id="R1", remote=str(remote))
    assert result.push is not None and result.push["ok"] is False
    assert git(remote, "rev-parse", "main").strip() == theirs, "the remote's history was not overwritten"


def test_remote_credentials_never_reach_the_result(tmp_path: Path, configs: dict) -> None:
    remote = "http://netops:Tok3n-Value@127.0.0.1:9/configs.git"  # port 9 (discard): nothing listens
    result = backup_mod.run_backup(DEVICES, tmp_path / "store", run_id="R1", remote=remote)
    assert result.push is not None and result.push["ok"] is False
    text = json.dumps(result.evidence()) + result.summary()
    text += (tmp_path / "store" / "index" / "index.html").read_text()
    assert "Tok3n-Value" not in text and "http://****@127.0.0.1:9/configs.git" in text
