"""Where verify reads the evidence from: the local audit directory, or the WORM store alone."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from runner.audit.remote import ledger_key
from runner.audit.store import RUN_ID
from runner.audit.worm import WormStore


class Source(Protocol):
    name: str

    def ledger(self) -> bytes | None: ...

    def read(self, rel: str) -> bytes | None: ...

    def run_ids(self) -> list[str]: ...

    def files(self, rel_prefix: str) -> list[str]: ...


class LocalSource:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.name = str(self.root)

    def ledger(self) -> bytes | None:
        path = self.root / "ledger.jsonl"
        return path.read_bytes() if path.exists() else None

    def read(self, rel: str) -> bytes | None:
        path = self.root / rel
        return path.read_bytes() if path.is_file() else None

    def run_ids(self) -> list[str]:
        runs = self.root / "runs"
        if not runs.is_dir():
            return []
        return sorted(p.name for p in runs.iterdir() if p.is_dir() and RUN_ID.match(p.name))

    def files(self, rel_prefix: str) -> list[str]:
        base = self.root / rel_prefix
        if not base.is_dir():
            return []
        return sorted(
            str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file() and not p.name.endswith(".tmp")
        )


class StoreSource:
    """The WORM store: the ledger is the first version of each ``ledger/<seq>.json``, in seq order."""

    def __init__(self, store: WormStore) -> None:
        self.store = store
        self.name = str(store.url)

    def ledger(self) -> bytes | None:
        firsts = self.store.first_versions("ledger/")
        if not firsts:
            return None
        lines = []
        for seq in range(1, int(next(reversed(firsts)).rsplit("/", 1)[1].split(".")[0]) + 1):
            version = firsts.get(ledger_key(seq))
            data = self.store.get(ledger_key(seq), version) if version else None
            lines.append(data if data is not None else b'{"missing":true}\n')
        return b"".join(lines)

    def read(self, rel: str) -> bytes | None:
        return self.store.get(rel)

    def run_ids(self) -> list[str]:
        return sorted({n.split("/")[1] for n in self.store.keys_ever("runs/") if RUN_ID.match(n.split("/")[1])})

    def files(self, rel_prefix: str) -> list[str]:
        return self.store.keys_ever(rel_prefix)
