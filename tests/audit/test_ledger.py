"""The ledger: hash chain, signatures, and verify naming the first broken entry (no ansible needed)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from audit_helpers import fake_run

from runner.audit import AuditStore, verify
from runner.audit.events import read_events


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    store = AuditStore(tmp_path / "audit")
    for _ in range(3):
        fake_run(store)
    return store


def lines(store: AuditStore) -> list[bytes]:
    return store.ledger_paths.ledger.read_bytes().splitlines(keepends=True)


def write(store: AuditStore, parts: list[bytes]) -> None:
    store.ledger_paths.ledger.write_bytes(b"".join(parts))


def test_clean_ledger_verifies_and_key_is_private(store: AuditStore, key_dir: Path) -> None:
    result = verify(store)
    assert result.ok, result.problems
    assert result.entries == 6 and result.runs == 3
    assert stat.S_IMODE(os.stat(key_dir / "ledger.key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(key_dir).st_mode) == 0o700
    assert not [p for p in store.root.rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]
    assert store.ledger_paths.public_key.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    entries = [json.loads(x) for x in lines(store)]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert all(e["sig"] and e["prev"] for e in entries)


def test_every_flipped_byte_is_detected(store: AuditStore) -> None:
    original = store.ledger_paths.ledger.read_bytes()
    line_of = [original[:i].count(b"\n") + 1 for i in range(len(original))]
    for index in range(len(original)):
        flipped = bytearray(original)
        flipped[index] ^= 0x01
        store.ledger_paths.ledger.write_bytes(bytes(flipped))
        result = verify(store, seal=False)
        assert not result.ok, f"flip at byte {index} not detected"
        first = result.problems[0]
        assert f"line {line_of[index]}" in first or f"entry {line_of[index]}" in first, (index, first)
    store.ledger_paths.ledger.write_bytes(original)
    assert verify(store).ok


@pytest.mark.parametrize("victim", [0, 2, 5])
def test_deleted_entry_is_named(store: AuditStore, victim: int) -> None:
    parts = lines(store)
    del parts[victim]
    write(store, parts)
    result = verify(store, seal=False)
    assert not result.ok
    if victim < 5:
        assert result.problems[0].startswith(f"ledger entry {victim + 1} is missing"), result.problems
    else:  # the last entry: its run's final record exists without an end entry
        assert "end entry is missing" in result.problems[0]


def test_reordered_entries_are_named(store: AuditStore) -> None:
    parts = lines(store)
    parts[2], parts[3] = parts[3], parts[2]
    write(store, parts)
    result = verify(store, seal=False)
    assert not result.ok
    assert result.problems[0].startswith("ledger entry 3 is out of order"), result.problems


def test_inserted_entries_are_named(store: AuditStore) -> None:
    parts = lines(store)
    write(store, [*parts[:2], parts[1], *parts[2:]])  # a replayed copy of entry 2
    result = verify(store, seal=False)
    assert "entry 2 appears more than once" in result.problems[0], result.problems
    forged = json.loads(parts[3])
    forged["status"] = "refused"
    forged["seq"] = 4
    write(
        store,
        [*parts[:3], json.dumps(forged, sort_keys=True, separators=(",", ":")).encode() + b"\n", *parts[3:]],
    )
    result = verify(store, seal=False)
    assert "line 4" in result.problems[0] and "signature" in result.problems[0], result.problems


def test_altered_record_and_unledgered_run_are_named(store: AuditStore) -> None:
    run_ids = store.run_ids()
    record = store.run(run_ids[1]).record
    record.write_text(record.read_text().replace('"CR-1"', '"CR-2"'))
    result = verify(store, seal=False)
    assert f"run {run_ids[1]}" in result.problems[0] and "record" in result.problems[0], result.problems
    record.write_text(record.read_text().replace('"CR-2"', '"CR-1"'))
    assert verify(store).ok
    extra = store.runs_dir / "20990101T000000Z-deadbeef"
    extra.mkdir()
    (extra / "record.json").write_text("{}")
    result = verify(store, seal=False)
    assert "20990101T000000Z-deadbeef" in result.problems[0] and "no ledger entry" in result.problems[0]


def test_partial_run_is_sealed_as_aborted(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "audit")
    fake_run(store)
    run_id = fake_run(store, finish=False)
    with store.run(run_id).events.open("a") as handle:
        handle.write('{"seq": 99, "torn')  # a line torn by kill -9
    assert store.load(store.run(run_id))["status"] == "running"
    result = verify(store)
    assert result.ok, result.problems
    assert result.sealed == [run_id]
    record = json.loads(store.run(run_id).record.read_text())
    assert record["status"] == "aborted" and record["sealed_by"] == "sop audit verify"
    assert record["plays"][0]["tasks"][0]["results"], "the flushed results survive"
    assert store.run(run_id).report("html").exists()
    again = verify(store)
    assert again.ok and not again.sealed and run_id in again.aborted


def test_events_chain_and_torn_tail(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "audit")
    run_id = fake_run(store)
    path = store.run(run_id).events
    read = read_events(path)
    assert read.chain_break is None and not read.torn_tail and len(read.events) == 6
    data = path.read_bytes().replace(b'"h1"', b'"hX"', 1)
    path.write_bytes(data + b'{"torn')
    read = read_events(path)
    assert read.torn_tail and read.chain_break == 5


def test_partial_run_of_another_controller_is_not_sealed(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "audit")
    run_id = fake_run(store, finish=False, controller_host="other-controller")
    result = verify(store)
    assert result.ok and result.running == [run_id] and not result.sealed
    assert not store.run(run_id).record.exists()
