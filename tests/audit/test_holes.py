"""The six ways to change history that used to pass `sop audit verify`: each now fails, naming what changed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from audit_helpers import clean_env, fake_run, sop
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runner.audit import AuditStore, keys, ledger, verify
from runner.audit.events import sha256_file
from runner.audit.source import StoreSource
from runner.audit.store import render_reports, run_hashes
from runner.audit.worm import WormStore
from runner.check.engine import CheckResult, write_reports

CHECK_ID = "20240531T100000Z-check"


def resign(store: AuditStore, key: Ed25519PrivateKey, edit: dict[str, dict[str, str]] | None = None) -> None:
    """Rewrite the whole ledger signed with ``key`` (what someone holding a key can do); ``edit`` replaces
    the hashes of the closing entries of some runs."""
    lines = store.ledger_paths.ledger.read_bytes().splitlines()
    out: list[bytes] = []
    for raw in lines:
        old = json.loads(raw)
        hashes = (edit or {}).get(old["run_id"], old["hashes"]) if old["kind"] == "end" else old["hashes"]
        entry = ledger.next_entry(out[-1] if out else None, old["kind"], old["run_id"], hashes, key,
                                  status=old.get("status"))
        out.append(ledger.canonical(entry).encode())
    store.ledger_paths.ledger.write_bytes(b"".join(line + b"\n" for line in out))


def run_order(store: AuditStore) -> list[str]:
    """Run ids in the order the ledger started them (ids of one second do not sort by time)."""
    entries = [json.loads(x) for x in store.ledger_paths.ledger.read_bytes().splitlines()]
    return [e["run_id"] for e in entries if e["kind"] == "start"]


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    store = AuditStore(tmp_path / "audit")
    fake_run(store)
    fake_run(store, failed="h2")
    fake_run(store)
    assert verify(store).ok
    return store


@pytest.mark.parametrize("name", ["check.json", "check.html", "check.md", "check-junit.xml"])
def test_edited_check_result_is_named(store: AuditStore, name: str) -> None:
    results = [
        {"host": "h1", "control": f"c{i}", "title": f"control {i}", "status": "fail", "message": "weak",
         "seen": 1, "required": 2}
        for i in range(3)
    ]
    run = {"run_id": store.run_ids()[-1], "status": "success"}
    write_reports(CheckResult(CHECK_ID, "2024-05-31T10:00:00Z", 1.0, {"h1": ["linux"]}, results, [], run),
                  store.root)
    assert verify(store).ok
    target = store.root / "checks" / CHECK_ID / name
    text = target.read_text()
    edited = text.replace('"fail"', '"pass"') if name == "check.json" else text.replace("fail", "pass", 3)
    assert edited != text
    target.write_text(edited)
    result = verify(store, seal=False)
    assert not result.ok
    assert any(f"checks/{CHECK_ID}/{name}: does not match its hash" in p for p in result.problems), (
        result.problems
    )


@pytest.mark.parametrize("fmt", ["html", "md", "json"])
def test_edited_report_is_named_by_path(store: AuditStore, fmt: str) -> None:
    run = store.run(run_order(store)[1])
    path = run.report(fmt)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    result = verify(store, seal=False)
    assert result.problems == [
        f"{store.root}/runs/{run.run_id}/report.{fmt}: does not match its hash in ledger entry 4 "
        f"(line 4, end of run {run.run_id}) (altered)"
    ]


def test_rerendered_report_is_sealed_by_an_attach_entry(store: AuditStore) -> None:
    run_id = store.run_ids()[0]
    result = subprocess.run([str(Path(".venv/bin/sop").resolve()), "report", run_id, "--audit-dir", str(store.root)],
                            capture_output=True, text=True, env=clean_env(), check=False)
    assert result.returncode == 0, result.stderr
    entries = [json.loads(x) for x in store.ledger_paths.ledger.read_bytes().splitlines()]
    assert entries[-1]["kind"] == "attach" and f"runs/{run_id}/report.html" in entries[-1]["hashes"]
    assert verify(store).ok


def test_deleting_the_newest_run_is_named_against_the_anchor(
    store: AuditStore, worm_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOP_AUDIT_ANCHOR", worm_url.replace("/sop", "/anchors"))
    fake_run(store)
    fake_run(store)  # 5 runs, 10 entries; the head anchored after each
    assert verify(store).anchor.startswith("seq 10 ")
    victims = run_order(store)[-2:]
    for run_id in victims:
        shutil.rmtree(store.run(run_id).dir)
    lines = store.ledger_paths.ledger.read_bytes().splitlines(keepends=True)
    store.ledger_paths.ledger.write_bytes(b"".join(lines[:6]))
    result = verify(store, seal=False)
    assert not result.ok
    assert result.problems[0].startswith(
        "ledger entries 7-10 are missing: the ledger ends at entry 6, but its anchor (seq 10 at "
    ), result.problems


def test_history_resigned_with_a_new_key_fails_the_pinned_key(store: AuditStore) -> None:
    attacker = Ed25519PrivateKey.generate()
    resign(store, attacker)
    store.ledger_paths.public_key.write_bytes(keys.public_pem(attacker.public_key()))
    result = verify(store, seal=False)
    assert not result.ok
    assert result.problems[0].startswith(
        f"ledger entry 1 (line 1, start of run {run_order(store)[0]}): signed by key "
        f"{keys.key_id(attacker.public_key())} (fingerprint {keys.fingerprint(attacker.public_key())}), "
        "which is not a pinned key"
    ), result.problems
    assert any("ledger.pub" in p and "replaced" in p for p in result.problems), result.problems


def test_replaced_ledger_pub_alone_is_named(store: AuditStore) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    store.ledger_paths.public_key.write_bytes(keys.public_pem(other))
    result = verify(store, seal=False)
    assert result.problems == [
        f"{store.root}/ledger.pub: key {keys.key_id(other)} (fingerprint {keys.fingerprint(other)}) is neither "
        f"pinned nor rotated to from a pinned key (replaced; pins from {keys.key_dir() / 'ledger.pub'})"
    ]


def test_pinned_key_on_the_command_line(store: AuditStore, tmp_path: Path) -> None:
    own = keys.fingerprint(keys.signing_key().public_key())
    assert verify(store, trusted=(own,)).ok
    stranger = Ed25519PrivateKey.generate().public_key()
    pem = tmp_path / "auditor.pub"
    pem.write_bytes(keys.public_pem(stranger))
    result = verify(store, seal=False, trusted=(str(pem),))
    assert "which is not a pinned key (pins from --trusted-key" in result.problems[0]
    cli = sop("audit", "verify", "--audit-dir", str(store.root), "--trusted-key", keys.fingerprint(stranger))
    assert cli.returncode == 6 and "not a pinned key" in cli.stderr, cli.stderr
    cli = sop("audit", "verify", "--audit-dir", str(store.root), "--trusted-key", own)
    assert cli.returncode == 0 and cli.stdout.startswith("note: no anchor configured"), cli.stdout + cli.stderr


def test_record_rewritten_against_its_events_is_named(store: AuditStore) -> None:
    """With the signing key: the failed run's record says success, reports re-rendered, chain re-signed."""
    run = store.run(run_order(store)[1])
    record = json.loads(run.record.read_text())
    assert record["status"] == "failed"
    record["status"] = "success"
    record["hosts"]["h2"] |= {"failed": 0, "ok": 1, "status": "changed"}
    run.record.write_text(json.dumps(record, indent=2) + "\n")
    render_reports(run, record)
    resign(store, keys.signing_key(), {run.run_id: run_hashes(run)})
    result = verify(store, seal=False)
    assert result.problems == [
        f"run {run.run_id}: record.json disagrees with its events.jsonl in hosts, status "
        "(hosts.h2.failed: record says 0, events say 1)"
    ], result.problems


def test_run_on_a_throwaway_controller_verifies_from_the_store(tmp_path: Path, worm_url: str) -> None:
    controller = tmp_path / "awx-job-42" / "audit"
    store = AuditStore.configured(controller, worm_url)
    run_ids = [fake_run(store), fake_run(store, failed="h1")]
    assert not store.remote.pending()
    shutil.rmtree(controller.parent)
    result = verify(None, source=StoreSource(WormStore(worm_url)))
    assert result.ok, result.problems
    assert (result.entries, result.runs) == (4, 2)
    cli = sop("audit", "verify", "--store", worm_url, "--audit-dir", str(tmp_path / "elsewhere"))
    assert cli.returncode == 0 and f"OK: 4 ledger entries, 2 runs (0 aborted) in {worm_url}" in cli.stdout, (
        cli.stdout + cli.stderr
    )
    listing = WormStore(worm_url).keys_ever("runs/")
    for run_id in run_ids:
        for name in ("events.jsonl", "record.json", "report.html", "report.md", "report.json"):
            assert f"runs/{run_id}/{name}" in listing


def test_network_store_commit_is_checked(tmp_path: Path) -> None:
    repo = tmp_path / "network-configs"
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@x", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "sw1.cfg").write_text("hostname sw1\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "backup"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    store = AuditStore(tmp_path / "audit")
    run_id = fake_run(store, evidence={"store": str(repo), "commit": commit, "status": "ok"})
    assert verify(store).ok
    (repo / "sw1.cfg").write_text("hostname sw1\nenable secret 0 changed\n")
    result = verify(store, seal=False)
    assert result.problems[0] == (
        f"run {run_id}: network config store {repo}: sw1.cfg differs from the last commit (edited outside a "
        "backup run)"
    )
    subprocess.run([*git, "commit", "-qa", "--amend", "-m", "backup"], check=True)
    result = verify(store, seal=False)
    assert result.problems[0] == (
        f"run {run_id}: network config store {repo}: commit {commit[:12]} is no longer in the history of HEAD "
        "(history rewritten)"
    )


def test_record_hash_still_covers_record_and_events(store: AuditStore) -> None:
    run = store.run(run_order(store)[0])
    entry = json.loads(store.ledger_paths.ledger.read_bytes().splitlines()[1])
    assert entry["hashes"]["record"] == sha256_file(run.record)
    assert set(entry["hashes"]) == {"record", "events", "report.html", "report.md", "report.json"}
