"""The store's last line of defence: scan a masked configuration for secrets the masking rules missed.

Two checks, per line:
- every secret known from the inventory and vault (secret-looking and vaulted host vars) as written, and the
  device's own credentials also in another letter case or Cisco type 7 encoded;
- high-entropy tokens: at least ``MIN_LENGTH`` characters of a base64/hex-ish alphabet whose Shannon entropy
  and character-class changes look random rather than like a name (``GigabitEthernet1/0/24``,
  ``cat9k_iosxe.17.09.04a.SPA.bin``, ``TP-self-signed-3456789012``).

Public high-entropy values are skipped: ``<removed>``, SSH public keys and their fingerprints, UUIDs, PEM
certificate and public-key blocks (certificate hex dumps are groups of 8 and never reach the minimum length),
hyphenated identifiers of short parts (model numbers) and the header lines in which a device names its model.
A suspect is reported with its line number and the reason, never with the token itself.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from runner.network.masking import MASK

MIN_LENGTH = 16
MIN_ENTROPY = 3.4  # bits per character, tokens with letters of several kinds (random 16-char base64: ~3.75)
MIN_HEX_ENTROPY = 3.0  # hex-only tokens (16 symbols at most: random 16-char hex ~3.2, 32-char ~3.6)
MIN_CLASS_CHANGES = 0.25  # share of adjacent pairs changing class (names ~0.0-0.2, random ~0.4-0.5)
MIN_KNOWN_LEN = 4  # shorter known secrets would match by chance (mask_config's known-value rule uses the same)
_NOT_SECRET_VALUES = frozenset({"true", "false", "yes", "no", "none", "null"})

_TOKEN = re.compile(r"[A-Za-z0-9+/=_.$!@#%^&*~-]+")
_HEX = re.compile(r"(?:0x)?[0-9A-Fa-f]+")
_PUBLIC = [re.compile(p, re.I) for p in (
    re.escape(MASK),
    r"\b(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)"
    r"\s+AAAA[0-9A-Za-z+/=]+",
    r"\bkey-hash\s+\S+\s+[0-9A-F]+",  # IOS ip ssh pubkey-chain: fingerprint of a public key
    r"\bpublic-key\s*[=\s]\s*\"?[0-9A-Za-z+/=]+",  # WireGuard / RouterOS peers
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",  # UUIDs (FortiOS objects)
)]
# Header lines the device writes itself, naming its hardware and software (model names look random:
# RB4011iGS+5HacQ2HnD, DCS-7050SX3-48YC8).
_HEADER = re.compile(r"^\s*(?:! device: |# (?:model|software id|serial number) = |#config-version=|"
                     r"!System Description |; \S+ Configuration Editor; )", re.I)
# Hyphenated identifiers (model and part numbers, names): 3+ parts of at most 10 characters.
_PARTS = re.compile(r"[-+]")
_MAX_PART = 10
_PEM_PUBLIC = re.compile(r"-----BEGIN ((?:X509 |TRUSTED |NEW )?CERTIFICATE(?: REQUEST)?|(?:RSA |SSH2 )?PUBLIC KEY"
                         r"|X509 CRL|PKCS7)-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]+-----")


@dataclass(frozen=True)
class Suspect:
    line: int  # 1-based
    reason: str  # never contains the suspected value


def _type7(token: str) -> str | None:
    """Decode a Cisco type 7 string (a public, reversible encoding), None when it is not one."""
    xlat = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
    if len(token) < 6 or len(token) % 2 or not token[:2].isdigit() or not _HEX.fullmatch(token):
        return None
    seed = int(token[:2])
    try:
        return "".join(chr(int(token[i:i + 2], 16) ^ ord(xlat[(seed + i // 2 - 1) % len(xlat)]))
                       for i in range(2, len(token), 2))
    except ValueError:
        return None


def entropy(token: str) -> float:
    counts = Counter(token)
    return -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())


def _kind(char: str) -> str:
    return "u" if char.isupper() else "l" if char.islower() else "d" if char.isdigit() else "o"


def class_changes(token: str) -> float:
    """Share of adjacent letter/digit pairs that change kind (a capital starting a word does not count)."""
    changes = sum(1 for a, b in itertools.pairwise(token)
                  if a.isalnum() and b.isalnum() and _kind(a) != _kind(b) and (_kind(a), _kind(b)) != ("u", "l"))
    return changes / max(1, len(token) - 1)


def looks_random(token: str) -> bool:
    """True for a token that reads like a generated secret rather than a name, path or number."""
    if len(token) < MIN_LENGTH or not re.search(r"[A-Za-z]", token):
        return False
    parts = _PARTS.split(token)
    if len(parts) >= 3 and max(map(len, parts)) <= _MAX_PART:  # ICX7150-48PF-4X1G, hAP-ac2-RBD52G-5HacD2HnD
        return False
    threshold = MIN_HEX_ENTROPY if _HEX.fullmatch(token) else MIN_ENTROPY
    return entropy(token) >= threshold and class_changes(token) >= MIN_CLASS_CHANGES


def _public_lines(lines: Sequence[str]) -> set[int]:
    """Indexes of the lines inside PEM certificate / public-key blocks."""
    inside, skipped = False, set()
    for index, line in enumerate(lines):
        if _PEM_PUBLIC.search(line):
            inside = True
        if inside:
            skipped.add(index)
            if _PEM_END.search(line):
                inside = False
    return skipped


def _known(known_secrets: Iterable[str]) -> list[str]:
    return sorted({s for s in known_secrets if s and len(s) >= MIN_KNOWN_LEN and s.lower() not in _NOT_SECRET_VALUES},
                  key=len, reverse=True)


def _known_reason(line: str, tokens: Sequence[str], known: Sequence[str], credentials: Sequence[str]) -> str | None:
    if any(secret in line for secret in known):
        return "a known inventory/vault secret"
    folded = line.casefold()
    decoded = {_type7(token) for token in tokens} - {None}
    for secret in credentials:
        if len(secret) >= 8 and secret.casefold() in folded:
            return "a known inventory/vault secret (in another letter case)"
        if secret in decoded:
            return "a known inventory/vault secret (Cisco type 7 encoded)"
    return None


def scan(text: str, known_secrets: Iterable[str] = (), credentials: Iterable[str] = ()) -> list[Suspect]:
    """Every line of a masked ``text`` that still seems to hold a secret.

    ``known_secrets`` are looked for as written; ``credentials`` (the device's own passwords, strong secrets)
    also in another letter case and Cisco type 7 encoded. The others are any secret-looking host var, which may
    be a common word (``management``), so only their exact value counts.
    """
    credentials = _known(credentials)
    known = _known([*known_secrets, *credentials])
    lines = text.split("\n")
    skipped = _public_lines(lines)
    suspects = []
    for index, line in enumerate(lines):
        if index in skipped or not line.strip() or _HEADER.match(line):
            continue
        public = line
        for pattern in _PUBLIC:
            public = pattern.sub(" ", public)
        tokens = [t.strip(".=") for t in _TOKEN.findall(public)]
        reason = _known_reason(public, tokens, known, credentials)
        if reason is None and (random := next((t for t in tokens if looks_random(t)), None)):
            reason = (f"a high-entropy token ({len(random)} characters, {entropy(random):.1f} bits/char) "
                      "no masking rule removed")
        if reason:
            suspects.append(Suspect(index + 1, reason))
    return suspects


def leak_message(device: str, kind: str, suspects: Sequence[Suspect]) -> str:
    """One line for the backup record: device, config kind, line numbers and why; never the values."""
    first = suspects[0]
    more = f" (and {len(suspects) - 1} more line(s): {', '.join(str(s.line) for s in suspects[1:6])})" \
        if len(suspects) > 1 else ""
    return (f"{device}: {kind} configuration line {first.line} holds {first.reason}{more}; nothing of {device} "
            f"was stored (its last good backup is kept); add a masking rule for the statement in "
            f"runner/network/masking_rules.yml")
