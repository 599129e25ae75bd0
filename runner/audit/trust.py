"""Which keys verify trusts: pinned fingerprints, extended along doubly-signed rotation entries.

The keys themselves come from the chain: entry 1 carries its public key (``pub``), each ``rotate`` entry the
next one (``new_key``, signed by the old key and by the new). A rotation links two keys; a key is trusted
when it is pinned or linked to a trusted key, so a verifier pinned to the first key or to the current one
verifies the whole history. ``ledger.pub`` beside the ledger is only a fallback for ledgers whose entry 1
predates ``pub``, and is itself checked against the trusted keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from runner.audit import keys, ledger

Parsed = list[tuple[bytes, dict[str, Any] | None]]


@dataclass
class KeyRing:
    known: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    trusted: set[str] = field(default_factory=set)
    pins: set[str] = field(default_factory=set)
    pin_source: str = ""
    beside: Ed25519PublicKey | None = None  # ledger.pub beside the ledger (untrusted copy)

    def describe(self, kid: str) -> str:
        public = self.known.get(kid)
        return f"key {kid} (fingerprint {keys.fingerprint(public)})" if public else f"key {kid}"


def _rotation_links(parsed: Parsed, ring: KeyRing) -> list[tuple[str, str]]:
    links = []
    for _, entry in parsed:
        if not entry or entry.get("kind") != "rotate":
            continue
        new = ledger.entry_public_key(entry, "new_key")
        old = ring.known.get(str(entry.get("key")))
        if new is None or old is None:
            continue
        if ledger.signature_ok(entry, new, "new_sig") and ledger.signature_ok(entry, old):
            ring.known[keys.key_id(new)] = new
            links.append((str(entry.get("key")), keys.key_id(new)))
    return links


def build(parsed: Parsed, pins: set[str], pin_source: str, beside: Ed25519PublicKey | None) -> KeyRing:
    ring = KeyRing(pins=pins, pin_source=pin_source)
    first = parsed[0][1] if parsed else None
    first_key = (ledger.entry_public_key(first) if first else None) or beside  # ledgers before `pub`: the copy
    if first_key is not None:
        ring.known[keys.key_id(first_key)] = first_key
    links = _rotation_links(parsed, ring)
    ring.trusted = {kid for kid, public in ring.known.items() if keys.fingerprint(public) in pins}
    grew = True
    while grew:
        before = len(ring.trusted)
        for old, new in links:
            if old in ring.trusted or new in ring.trusted:
                ring.trusted |= {old, new}
        grew = len(ring.trusted) > before
    return ring
