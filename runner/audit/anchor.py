"""Anchors: the ledger head (seq and line hash), signed, published where the controller cannot rewrite it.

After each run the head of a local ledger is written create-only to the WORM store named by
``$SOP_AUDIT_ANCHOR`` (``s3://bucket/prefix``) as ``anchors/<chain>/<seq>.json``, where ``<chain>`` is the
first 16 hex digits of the sha256 of the ledger's first line. Like a Certificate Transparency signed tree head:
whoever later truncates or rewrites the ledger cannot remove the anchor, so verify names the missing entries.
(A ledger kept in the WORM store itself needs no anchor: its entries are locked objects.)
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

from runner.audit import keys, ledger
from runner.audit.events import sha256_bytes, utcnow
from runner.audit.worm import StoreUnavailable, WormStore


def chain_id(first_line: bytes) -> str:
    return sha256_bytes(first_line)[:16]


def configured(url: str | None = None, retention_days: int | None = None) -> WormStore | None:
    value = url or os.environ.get("SOP_AUDIT_ANCHOR")
    if not value:
        return None
    from runner.audit.policy import retention_days as policy_days

    return WormStore(value, retention_days=retention_days or policy_days())


def publish(target: WormStore, first_line: bytes, seq: int, line: bytes, root: Any = None) -> dict[str, Any]:
    head = {"chain": chain_id(first_line), "seq": seq, "hash": sha256_bytes(line), "ts": utcnow()}
    signed = ledger.sign(head, keys.signing_key(root))
    with contextlib.suppress(FileExistsError):  # this head is anchored already
        target.put(f"anchors/{head['chain']}/{seq:012d}.json", ledger.canonical(signed).encode(), create_only=True)
    return signed


def latest(target: WormStore, first_line: bytes) -> dict[str, Any] | None:
    """The newest anchor of this chain (None when it was never anchored)."""
    names = target.keys_ever(f"anchors/{chain_id(first_line)}/")
    if not names:
        return None
    data = target.first(names[-1])
    return json.loads(data) if data else None


__all__ = ["StoreUnavailable", "chain_id", "configured", "latest", "publish"]
