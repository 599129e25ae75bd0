"""Appending to the ledger kept in the WORM store, through a local spool.

Every entry is first written to ``<audit dir>/spool/`` (with the names of the run files it covers), then
flushed: the files are uploaded as locked objects, and the entry is sequenced against the store's head and
written create-only as ``ledger/<seq>.json``. A writer that loses the race for a seq re-reads the head,
re-signs and tries the next one, so several controllers build one chain with no lost or duplicated seq.
When the store is down the spool keeps everything and the run goes on; the next append, or
``sop audit sync``, flushes it in order.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.audit import keys, ledger
from runner.audit.events import sha256_bytes, utcnow
from runner.audit.worm import StoreUnavailable, WormStore
from runner.files import write_private

MAX_RACE = 1000


def ledger_key(seq: int) -> str:
    return f"ledger/{seq:012d}.json"


@dataclass
class FlushResult:
    pushed: list[dict[str, Any]] = field(default_factory=list)
    pending: int = 0
    error: str | None = None


class RemoteLedger:
    def __init__(self, root: Path, store: WormStore) -> None:
        self.root = Path(root)
        self.store = store
        self.spool = self.root / "spool"
        self._paths = ledger.LedgerPaths(self.root)
        self._hint = self.root / f".store-head-{sha256_bytes(str(store.url).encode())[:12]}"

    # ---- the store's head ----------------------------------------------------------------------------------
    def _known_head(self) -> tuple[int, bytes | None]:
        """The last entry this controller saw (cached per store), else the store's last one."""
        try:
            cached = json.loads(self._hint.read_text())
            return int(cached["seq"]), str(cached["line"]).encode()
        except (OSError, ValueError, KeyError, TypeError):
            names = self.store.keys_ever("ledger/")
            if not names:
                return 0, None
            seq = int(names[-1].rsplit("/", 1)[1].split(".")[0])
            return seq, (self.store.first(ledger_key(seq)) or b"").rstrip(b"\n")

    def _remember(self, seq: int, line: bytes) -> None:
        write_private(self._hint, json.dumps({"seq": seq, "line": line.decode()}))

    # ---- spool ---------------------------------------------------------------------------------------------
    def _spool(self, item: dict[str, Any]) -> Path:
        self.spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{utcnow().replace(':', '').replace('-', '')}-{os.getpid()}-{os.urandom(3).hex()}.json"
        path = self.spool / name
        write_private(path, json.dumps(item, sort_keys=True), durable=True)
        return path

    def pending(self) -> list[Path]:
        if not self.spool.is_dir():
            return []
        return sorted(p for p in self.spool.iterdir() if p.suffix == ".json")

    def append(
        self, kind: str, run_id: str, hashes: dict[str, Any], *, status: str | None = None,
        files: tuple[str, ...] = (), extra: dict[str, Any] | None = None, flush: bool = True,
    ) -> FlushResult:
        self._spool({"kind": kind, "run_id": run_id, "hashes": hashes, "status": status, "files": list(files),
                     "extra": extra or {}})
        return self.flush() if flush else FlushResult(pending=len(self.pending()))

    # ---- flush ---------------------------------------------------------------------------------------------
    def _upload(self, files: list[str]) -> None:
        for rel in files:
            path = self.root / rel
            if path.is_file():
                self.store.put(rel, path.read_bytes())

    def _push(self, item: dict[str, Any]) -> dict[str, Any]:
        """Sign the entry after the head and write it create-only; on a lost race move on to the next seq."""
        key = keys.signing_key(self.root)
        seq, last = self._known_head()
        for _ in range(MAX_RACE):
            entry = ledger.next_entry(
                last, item["kind"], item["run_id"], item["hashes"], key, status=item.get("status"),
                extra=item.get("extra") or None,
            )
            line = ledger.canonical(entry).encode()
            try:
                version = self.store.put(ledger_key(seq + 1), line + b"\n", create_only=True)
                won = not version or self.store.versions(ledger_key(seq + 1))[:1] == [version]
            except FileExistsError:
                won = False
            if won:
                self._remember(seq + 1, line)
                return entry
            seq, last = seq + 1, (self.store.first(ledger_key(seq + 1)) or b"").rstrip(b"\n")
        raise StoreUnavailable(f"{self.store.url}: could not win a ledger seq in {MAX_RACE} tries")

    def flush(self) -> FlushResult:
        """Push every spooled entry in order; stop (keeping the rest) at the first store failure."""
        result = FlushResult()
        with ledger.locked(ledger.LedgerPaths(self.spool)):
            items = self.pending()
            for index, path in enumerate(items):
                item = json.loads(path.read_text())
                try:
                    self._upload(item.get("files") or [])
                    result.pushed.append(self._push(item))
                except StoreUnavailable as exc:
                    result.error = str(exc)
                    result.pending = len(items) - index
                    return result
                path.unlink()
        return result

    def publish_key(self, public: Any) -> None:
        self.store.put(f"keys/{keys.key_id(public)}.pub", keys.public_pem(public))
