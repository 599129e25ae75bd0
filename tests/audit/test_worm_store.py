"""The WORM audit store on a moto server of the tests' own: Object Lock, create-only seqs from two
controllers at once, a store outage spooled and flushed, `sop audit sync` of an existing audit dir."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import boto3
import pytest
from audit_helpers import fake_run, sop
from botocore.exceptions import ClientError

from runner.audit import AuditStore, verify
from runner.audit.remote import ledger_key
from runner.audit.source import StoreSource
from runner.audit.worm import WormStore


def s3(endpoint: str) -> object:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def split(url: str) -> tuple[str, str]:
    bucket, _, prefix = url[5:].partition("/")
    return bucket, prefix


def test_locked_objects_cannot_be_deleted_or_overwritten(tmp_path: Path, worm_url: str, moto_endpoint: str) -> None:
    store = AuditStore.configured(tmp_path / "audit", worm_url)
    run_id = fake_run(store)
    client = s3(moto_endpoint)
    bucket, prefix = split(worm_url)
    for rel in (ledger_key(1), f"runs/{run_id}/record.json"):
        head = client.head_object(Bucket=bucket, Key=f"{prefix}/{rel}")
        assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"]
        version = head["VersionId"]
        with pytest.raises(ClientError, match="AccessDenied"):
            client.delete_object(Bucket=bucket, Key=f"{prefix}/{rel}", VersionId=version)
    with pytest.raises(ClientError, match="PreconditionFailed"):
        client.put_object(Bucket=bucket, Key=f"{prefix}/{ledger_key(1)}", Body=b"{}", IfNoneMatch="*")
    # Without the condition S3 adds a version: the chain reads each entry's first version, and the run's
    # record (read at its newest version, as an auditor would) no longer matches the ledger.
    client.put_object(Bucket=bucket, Key=f"{prefix}/{ledger_key(1)}", Body=b'{"forged":1}\n')
    client.put_object(Bucket=bucket, Key=f"{prefix}/runs/{run_id}/record.json", Body=b'{"status":"success"}')
    client.delete_object(Bucket=bucket, Key=f"{prefix}/runs/{run_id}/report.html")  # only a delete marker
    result = verify(None, source=StoreSource(WormStore(worm_url)))
    assert result.problems[:2] == [
        f"{worm_url}/runs/{run_id}/record.json: does not match its hash in ledger entry 2 "
        f"(line 2, end of run {run_id}) (altered)",
        f"{worm_url}/runs/{run_id}/report.html: missing (covered by ledger entry 2 (line 2, end of run {run_id}))",
    ]
    assert result.problems[2].startswith(f"run {run_id}: record.json disagrees with its events.jsonl")
    assert len(result.problems) == 3


def _writer(audit_dir: str, url: str, runs: int) -> None:
    store = AuditStore.configured(Path(audit_dir), url)
    for _ in range(runs):
        fake_run(store)
    assert not store.remote.pending()


def test_two_controllers_appending_at_once_make_one_chain(tmp_path: Path, worm_url: str) -> None:
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_writer, args=(str(tmp_path / f"ctl{i}" / "audit"), worm_url, 50))
               for i in (1, 2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=900)
    assert [w.exitcode for w in writers] == [0, 0]
    worm = WormStore(worm_url)
    assert worm.keys_ever("ledger/") == [ledger_key(seq) for seq in range(1, 201)]
    result = verify(None, source=StoreSource(worm))
    assert result.ok, result.problems
    assert (result.entries, result.runs) == (200, 100)
    entries = [json.loads(worm.first(ledger_key(seq)) or b"{}") for seq in range(1, 201)]
    started = [e["run_id"] for e in entries if e["kind"] == "start"]
    ended = [e["run_id"] for e in entries if e["kind"] == "end"]
    assert len(set(started)) == 100 and sorted(started) == sorted(ended)
    dirs = {p.parents[3].name for p in tmp_path.glob("ctl*/audit/runs/*/record.json")}
    assert dirs == {"ctl1", "ctl2"}


def test_store_outage_spools_and_flushes_losing_nothing(
    tmp_path: Path, worm_url: str, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str
) -> None:
    root = tmp_path / "audit"
    monkeypatch.setenv("SOP_AUDIT_STORE_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    down = AuditStore.configured(root, worm_url)
    run_ids = [fake_run(down), fake_run(down, failed="h1")]
    assert down.flush_error and "unreachable" in down.flush_error
    assert len(down.remote.pending()) == 4
    monkeypatch.setenv("SOP_AUDIT_STORE_ENDPOINT", moto_endpoint)
    up = AuditStore.configured(root, worm_url)
    before = verify(up)
    assert "4 ledger entries not yet flushed to" in before.notes[0], before.notes
    assert before.entries == 0
    cli = sop("audit", "sync", "--audit-dir", str(root), "--store", worm_url)
    assert cli.returncode == 0, cli.stderr
    assert not up.remote.pending()
    after = verify(up)
    assert after.ok and not after.notes, (after.problems, after.notes)
    assert (after.entries, after.runs) == (4, 2)
    fake_run(up)
    assert verify(up).entries == 6
    assert {r for r in StoreSource(WormStore(worm_url)).run_ids()} >= set(run_ids)


def test_sync_pushes_an_existing_local_audit_dir(tmp_path: Path, worm_url: str) -> None:
    root = tmp_path / "audit"
    local = AuditStore(root)
    run_ids = [fake_run(local), fake_run(local)]
    assert verify(local).ok
    cli = sop("audit", "sync", "--audit-dir", str(root), "--store", worm_url)
    assert cli.returncode == 0 and "4 local ledger entries queued, 4 entries written" in cli.stdout, cli.stderr
    again = sop("audit", "sync", "--audit-dir", str(root), "--store", worm_url)
    assert "0 local ledger entries queued" in again.stdout
    result = verify(None, source=StoreSource(WormStore(worm_url)))
    assert result.ok and (result.entries, result.runs) == (4, 2), result.problems
    first = json.loads(WormStore(worm_url).first(ledger_key(1)) or b"{}")
    assert first["origin"]["seq"] == 1 and first["run_id"] in run_ids
