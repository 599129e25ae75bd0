"""The append-only ledger: one signed JSON line per run event, chained by sha256.

Each line is the canonical JSON (sorted keys, no spaces) of an entry:
``{"seq", "ts", "kind", "run_id", "prev", "hashes", "status"?, "key", "pub"?, "new_key"?, "sig"}``. ``prev``
is the sha256 of the previous line's bytes (64 zeros for the first); ``sig`` is the ed25519 signature (base64)
of the canonical JSON of the entry without ``sig``. Entry 1 carries its public key (``pub``, base64 of the raw
key); a ``rotate`` entry carries the next key (``new_key``) and is signed by both keys. The private key is
kept outside the audit directory (runner.audit.keys); ``ledger.pub`` beside the ledger is a copy for
convenience that verify does not trust.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from runner.audit import keys
from runner.audit.events import GENESIS, sha256_bytes, utcnow

KINDS = ("start", "end", "seal", "attach", "rotate")
key_id = keys.key_id


def canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True)
class LedgerPaths:
    root: Path

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.jsonl"

    @property
    def public_key(self) -> Path:
        return self.root / "ledger.pub"

    @property
    def lock(self) -> Path:
        return self.root / ".ledger.lock"


def load_public_key(paths: LedgerPaths) -> Ed25519PublicKey:
    return keys.parse_public(paths.public_key.read_bytes(), str(paths.public_key))


def publish_public_key(paths: LedgerPaths, public: Ed25519PublicKey, *, replace: bool = False) -> None:
    if paths.public_key.exists() and not replace:
        return
    tmp = paths.public_key.with_suffix(f".pub.{os.getpid()}.tmp")
    tmp.write_bytes(keys.public_pem(public))
    tmp.replace(paths.public_key)


@contextlib.contextmanager
def locked(paths: LedgerPaths) -> Iterator[None]:
    paths.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(paths.lock, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def last_line(path: Path) -> bytes | None:
    if not path.exists() or path.stat().st_size == 0:
        return None
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        block = min(size, 8192)
        while True:
            handle.seek(size - block)
            data = handle.read(block)
            body = data[:-1] if data.endswith(b"\n") else data
            cut = body.rfind(b"\n")
            if cut >= 0 or block == size:
                return body[cut + 1 :]
            block = min(size, block * 4)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sign(entry: dict[str, Any], key: Ed25519PrivateKey, field: str = "sig") -> dict[str, Any]:
    unsigned = {k: v for k, v in entry.items() if k not in {"sig", field}}
    return {**unsigned, field: _b64(key.sign(canonical(unsigned).encode()))}


def signature_ok(entry: dict[str, Any], public: Ed25519PublicKey, field: str = "sig") -> bool:
    drop = {"sig", field}
    try:
        signature = base64.b64decode(entry.get(field, ""), validate=True)
        public.verify(signature, canonical({k: v for k, v in entry.items() if k not in drop}).encode())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def entry_public_key(entry: dict[str, Any], field: str = "pub") -> Ed25519PublicKey | None:
    """The public key an entry carries (``pub`` on entry 1, ``new_key.public`` on a rotation)."""
    value = entry.get(field) if field == "pub" else (entry.get("new_key") or {}).get("public")
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(str(value), validate=True))
    except (ValueError, TypeError):
        return None


def next_entry(
    last: bytes | None,
    kind: str,
    run_id: str,
    hashes: dict[str, Any],
    key: Ed25519PrivateKey,
    *,
    status: str | None = None,
    extra: dict[str, Any] | None = None,
    new_key: Ed25519PrivateKey | None = None,
) -> dict[str, Any]:
    """The signed entry that follows the line ``last`` (None: the first entry)."""
    seq, prev = (int(json.loads(last)["seq"]) + 1, sha256_bytes(last)) if last else (1, GENESIS)
    entry: dict[str, Any] = {
        "seq": seq,
        "ts": utcnow(),
        "kind": kind,
        "run_id": run_id,
        "prev": prev,
        "hashes": hashes,
        "key": keys.key_id(key.public_key()),
        **(extra or {}),
    }
    if status:
        entry["status"] = status
    if seq == 1:
        entry["pub"] = _b64(keys.raw_public(key.public_key()))
    if new_key is not None:
        public = new_key.public_key()
        entry["new_key"] = {"id": keys.key_id(public), "public": _b64(keys.raw_public(public))}
        entry = sign(entry, new_key, field="new_sig")
    return sign(entry, key)


def write_line(paths: LedgerPaths, entry: dict[str, Any]) -> None:
    fd = os.open(paths.ledger, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (canonical(entry) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def append(
    root: Path,
    kind: str,
    run_id: str,
    hashes: dict[str, Any],
    *,
    status: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one signed entry to the local ledger (under an exclusive lock) and return it."""
    paths = LedgerPaths(root)
    with locked(paths):
        key = keys.signing_key(root)
        entry = next_entry(last_line(paths.ledger), kind, run_id, hashes, key, status=status, extra=extra)
        write_line(paths, entry)
        publish_public_key(paths, key.public_key())
        return entry


def rotate(root: Path, new: Ed25519PrivateKey) -> dict[str, Any]:
    """Append a ``rotate`` entry signed by the current key and by ``new``; later entries use ``new``."""
    paths = LedgerPaths(root)
    with locked(paths):
        old = keys.signing_key(root)
        entry = next_entry(last_line(paths.ledger), "rotate", "-", {}, old, new_key=new)
        write_line(paths, entry)
        publish_public_key(paths, new.public_key(), replace=True)
        return entry
