"""`sop audit sync`: push a local audit directory into the WORM store, and flush the spool.

Each local ledger entry not pushed yet is appended to the store's chain (re-sequenced there, since other
controllers share it, and signed with the current key), naming the local entry it copies in ``origin``
(its seq and line hash), together with the files it covers. The local ledger is uploaded as
``imports/<chain>/ledger.jsonl`` too, so its own signatures stay checkable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.audit import anchor
from runner.audit.events import sha256_bytes
from runner.audit.remote import FlushResult, RemoteLedger
from runner.audit.store import hash_file_name

MARK = ".store-synced"


@dataclass
class SyncResult:
    copied: int
    flushed: FlushResult


def _covered_files(entry: dict[str, Any]) -> tuple[str, ...]:
    run_id = entry.get("run_id")
    if entry.get("kind") == "start":
        return (f"runs/{run_id}/events.jsonl",)
    if entry.get("kind") == "attach":
        return tuple(str(k) for k in entry.get("hashes") or {})
    if entry.get("kind") in ("end", "seal"):
        return tuple(f"runs/{run_id}/{hash_file_name(k)}" for k in entry.get("hashes") or {})
    return ()


def sync(root: Path, remote: RemoteLedger) -> SyncResult:
    ledger_path = Path(root) / "ledger.jsonl"
    lines = ledger_path.read_bytes().splitlines() if ledger_path.exists() else []
    mark = Path(root) / MARK
    done = int(mark.read_text()) if mark.exists() else 0
    copied = 0
    if lines:
        remote.store.put(f"imports/{anchor.chain_id(lines[0])}/ledger.jsonl", ledger_path.read_bytes())
    for number, raw in enumerate(lines[done:], start=done + 1):
        entry = json.loads(raw)
        if entry.get("kind") != "rotate":  # the local key history stays in the imported ledger copy
            origin = {"chain": anchor.chain_id(lines[0]), "seq": entry["seq"], "hash": sha256_bytes(raw)}
            remote.append(
                entry["kind"], entry["run_id"], entry.get("hashes") or {}, status=entry.get("status"),
                files=_covered_files(entry), extra={"origin": origin}, flush=False,
            )
            copied += 1
        mark.write_text(str(number))  # after spooling: a crash re-spools at most one entry
    return SyncResult(copied, remote.flush())
