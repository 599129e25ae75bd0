"""Redaction: secrets become an explicit placeholder, never dropped and never stored.

Three rules, applied to everything that reaches a record, report or ledger:
- a result of a ``no_log`` task keeps only its status fields; every other value becomes the placeholder;
- a key naming a secret (a word of it is password/passwd/passphrase/pwd/secret/token/key/credential/private/psk,
  or it ends in ``pass``: ``db_password``, ``apiToken``, ``ansible_become_pass``) has its value replaced; words,
  not substrings, so ``passed`` or ``pass_max_days`` stay readable evidence;
- a vault-encrypted value, and any known secret value (collected from vault vars and secret-looking vars),
  is replaced wherever it appears inside a string.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

PLACEHOLDER = "********"
_SECRET_WORDS = frozenset({"password", "passwd", "passphrase", "pwd", "secret", "secrets", "token", "tokens", "key",
                           "apikey", "credential", "credentials", "private", "psk", "community"})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# Keys that contain a secret word but name no secret (their values are kept).
_NOT_SECRET_KEYS = frozenset({"keys", "sop_evidence", "host_key_checking", "ansible_host_key_checking"})
MIN_SECRET_LEN = 4
# Values too common to scrub from free text (they are still masked under a secret-looking key).
_NOT_SECRET_VALUES = frozenset({"true", "false", "yes", "no", "none", "null"})
_MAX_DEPTH = 12


def is_secret_key(key: object) -> bool:
    """True when a mapping key names a secret (``db_password``, ``api_token``, ``ssh_key``...)."""
    if not isinstance(key, str) or key.lower() in _NOT_SECRET_KEYS:
        return False
    words = [w.lower() for w in _WORD.findall(key)]
    return bool(words) and (words[-1] == "pass" or any(w in _SECRET_WORDS for w in words))


def is_vaulted(value: object) -> bool:
    """True for a vault-encrypted value (ansible-core 2.19 EncryptedString, older
    AnsibleVaultEncryptedUnicode),
    or a decrypted string that still carries its vault tag."""
    name = type(value).__name__
    if name in {"EncryptedString", "AnsibleVaultEncryptedUnicode"}:
        return True
    if isinstance(value, str) and type(value) is not str:
        try:
            from ansible._internal._datatag._tags import VaultedValue

            return VaultedValue.is_tagged_on(value)
        except Exception:
            return False
    return False


class Redactor:
    """Masks secrets in values; knows the plain text of secrets seen so far so it can scrub free text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        new = {
            str(s) for s in secrets
            if s is not None and len(str(s)) >= MIN_SECRET_LEN and str(s).lower() not in _NOT_SECRET_VALUES
        } - self._secrets
        if new:
            self._secrets |= new
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    @property
    def secret_count(self) -> int:
        return len(self._secrets)

    def scrub(self, text: str) -> str:
        """Replace every known secret inside ``text``."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(PLACEHOLDER, text)

    def redact(self, value: Any, depth: int = 0) -> Any:
        """A JSON-safe copy of ``value`` with secrets replaced (keys kept, values masked)."""
        if depth > _MAX_DEPTH:
            result: Any = "…"
        elif is_vaulted(value):
            result = PLACEHOLDER
        elif value is None or isinstance(value, bool | int | float):
            result = value
        elif isinstance(value, Mapping):
            result = {
                str(k): PLACEHOLDER
                if is_secret_key(k) and v not in (None, "", [], {})
                else self.redact(v, depth + 1)
                for k, v in value.items()
            }
        elif isinstance(value, list | tuple | set | frozenset):
            result = [self.redact(v, depth + 1) for v in value]
        else:
            result = self.scrub(str(value))
        return result


def collect_secrets(variables: Any, depth: int = 0) -> set[str]:
    """Plain-text secret values in a variable tree: vaulted values and values under secret-looking keys."""
    found: set[str] = set()
    if depth > _MAX_DEPTH:
        return found
    if is_vaulted(variables):
        with contextlib.suppress(Exception):  # undecryptable: its plain text cannot leak either
            found.add(str(variables))
        return found
    if isinstance(variables, Mapping):
        for key, value in variables.items():
            if is_secret_key(key) and isinstance(value, str):
                found.add(str(value))
            else:
                found |= collect_secrets(value, depth + 1)
    elif isinstance(variables, list | tuple):
        for value in variables:
            found |= collect_secrets(value, depth + 1)
    return found
