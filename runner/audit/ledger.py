"""The append-only ledger: one signed JSON line per run event (start, end, seal), chained by sha256.

Each line is the canonical JSON (sorted keys, no spaces) of an entry:
``{"seq", "ts", "kind", "run_id", "prev", "hashes", "status"?, "key", "sig"}``. ``prev`` is the sha256 of the
previous line's bytes (64 zeros for the first); ``sig`` is the ed25519 signature (base64) of the canonical
JSON
of the entry without ``sig``. The private key is created on first use (0600, ``keys/ledger.key``); its public
part is published as ``ledger.pub`` beside the ledger.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from runner.audit.events import GENESIS, sha256_bytes, utcnow

KINDS = ("start", "end", "seal")


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
    def private_key(self) -> Path:
        return self.root / "keys" / "ledger.key"

    @property
    def lock(self) -> Path:
        return self.root / ".ledger.lock"


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_or_create_key(paths: LedgerPaths) -> Ed25519PrivateKey:
    """The signing key; created with mode 0600 on first use, its public part written to ledger.pub."""
    if paths.private_key.exists():
        key = serialization.load_pem_private_key(paths.private_key.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{paths.private_key}: not an ed25519 key")
    else:
        paths.private_key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(paths.private_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another run created it a moment ago
            return load_or_create_key(paths)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    if not paths.public_key.exists():
        pub = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        tmp = paths.public_key.with_suffix(".pub.tmp")
        tmp.write_bytes(pub)
        tmp.replace(paths.public_key)
    return key


def load_public_key(paths: LedgerPaths) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(paths.public_key.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{paths.public_key}: not an ed25519 public key")
    return key


@contextlib.contextmanager
def _locked(paths: LedgerPaths) -> Iterator[None]:
    paths.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(paths.lock, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _last_line(path: Path) -> bytes | None:
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


def sign(entry: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    unsigned = {k: v for k, v in entry.items() if k != "sig"}
    signature = key.sign(canonical(unsigned).encode())
    return {**unsigned, "sig": base64.b64encode(signature).decode()}


def signature_ok(entry: dict[str, Any], public: Ed25519PublicKey) -> bool:
    try:
        signature = base64.b64decode(entry.get("sig", ""), validate=True)
        public.verify(signature, canonical({k: v for k, v in entry.items() if k != "sig"}).encode())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def append(
    root: Path, kind: str, run_id: str, hashes: dict[str, str], *, status: str | None = None
) -> dict[str, Any]:
    """Append one signed entry (under an exclusive lock) and return it."""
    paths = LedgerPaths(root)
    with _locked(paths):
        key = load_or_create_key(paths)
        last = _last_line(paths.ledger)
        if last:
            seq = int(json.loads(last)["seq"]) + 1
            prev = sha256_bytes(last)
        else:
            seq, prev = 1, GENESIS
        entry: dict[str, Any] = {
            "seq": seq,
            "ts": utcnow(),
            "kind": kind,
            "run_id": run_id,
            "prev": prev,
            "hashes": hashes,
            "key": key_id(key.public_key()),
        }
        if status:
            entry["status"] = status
        entry = sign(entry, key)
        fd = os.open(paths.ledger, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (canonical(entry) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return entry
