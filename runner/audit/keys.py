"""Custody of the ledger's signing key, and the public keys verify trusts.

The private key never lives in the audit directory. It comes, in order, from ``$SOP_AUDIT_KEY`` (the PEM
itself, for CI/AWX credentials), ``$SOP_AUDIT_KEY_FILE`` (a PEM file, plain or ansible-vault encrypted with
the password in ``$SOP_AUDIT_KEY_VAULT_PASSWORD_FILE``), else ``ledger.key`` in the key directory
(``$SOP_AUDIT_KEY_DIR``, default ``/etc/sop-as-code/audit``, created 0700 with a 0600 key on first use).

Verify trusts pinned keys only: ``--trusted-key`` (a PEM file or a fingerprint), ``$SOP_AUDIT_TRUSTED_KEYS``
(comma-separated fingerprints), else the ``ledger.pub`` of the key directory. A fingerprint is the sha256 of
the raw 32-byte public key (64 hex digits); the ledger's ``key`` field is its first 16 digits.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from runner.errors import ConfigError

DEFAULT_KEY_DIR = Path("/etc/sop-as-code/audit")


def key_dir() -> Path:
    return Path(os.environ.get("SOP_AUDIT_KEY_DIR") or DEFAULT_KEY_DIR)


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public(public)).hexdigest()


def key_id(public: Ed25519PublicKey) -> str:
    return fingerprint(public)[:16]


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def parse_private(pem: bytes, source: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except ValueError:
        raise ConfigError(f"{source}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{source}: not an ed25519 key")
    return key


def parse_public(pem: bytes, source: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise ConfigError(f"{source}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{source}: not an ed25519 public key")
    return key


def _vault_decrypt(data: bytes, source: str) -> bytes:
    password_file = os.environ.get("SOP_AUDIT_KEY_VAULT_PASSWORD_FILE")
    if not password_file:
        raise ConfigError(f"{source}: vault-encrypted; set SOP_AUDIT_KEY_VAULT_PASSWORD_FILE")
    from ansible.parsing.vault import VaultLib, VaultSecret

    secret = VaultSecret(Path(password_file).read_bytes().strip())
    try:
        return VaultLib([("default", secret)]).decrypt(data)
    except Exception:
        raise ConfigError(f"{source}: cannot decrypt with the vault password given") from None


@dataclass(frozen=True)
class KeyLocation:
    directory: Path

    @property
    def private(self) -> Path:
        return self.directory / "ledger.key"

    @property
    def public(self) -> Path:
        return self.directory / "ledger.pub"


def _refuse_inside(path: Path, audit_root: Path | None) -> None:
    if audit_root is not None and path.resolve().is_relative_to(Path(audit_root).resolve()):
        raise ConfigError(f"{path}: the signing key must not live inside the audit directory {audit_root}")


def _write_new(location: KeyLocation, key: Ed25519PrivateKey, *, replace: bool = False) -> None:
    """Write the key. A new one is created create-only: when two runs start at once, the first link wins and
    both use its key; a rotation (``replace``) overwrites."""
    location.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = location.private.with_name(f".ledger.key.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem(key))
        handle.flush()
        os.fsync(handle.fileno())
    try:
        if replace:
            tmp.replace(location.private)
        else:
            os.link(tmp, location.private)
    except FileExistsError:
        key = parse_private(location.private.read_bytes(), str(location.private))
    finally:
        tmp.unlink(missing_ok=True)
    pub_tmp = location.public.with_name(f".ledger.pub.{os.getpid()}.tmp")
    pub_tmp.write_bytes(public_pem(key.public_key()))
    pub_tmp.replace(location.public)


def signing_key(audit_root: Path | None = None) -> Ed25519PrivateKey:
    """The current signing key (created in the key directory on first use, never in the audit dir)."""
    inline = os.environ.get("SOP_AUDIT_KEY")
    if inline:
        return parse_private(inline.encode(), "$SOP_AUDIT_KEY")
    key_file = os.environ.get("SOP_AUDIT_KEY_FILE")
    if key_file:
        path = Path(key_file)
        _refuse_inside(path, audit_root)
        data = path.read_bytes()
        if data.startswith(b"$ANSIBLE_VAULT;"):
            data = _vault_decrypt(data, str(path))
        return parse_private(data, str(path))
    location = KeyLocation(key_dir())
    _refuse_inside(location.private, audit_root)
    if not location.private.exists():
        try:
            _write_new(location, Ed25519PrivateKey.generate())
        except PermissionError:
            raise ConfigError(
                f"{location.directory}: cannot create the ledger signing key here",
                hint="run as root once, or set SOP_AUDIT_KEY_DIR / SOP_AUDIT_KEY_FILE",
            ) from None
    try:
        return parse_private(location.private.read_bytes(), str(location.private))
    except PermissionError:
        raise ConfigError(f"{location.private}: cannot read the ledger signing key") from None


def check_rotatable() -> None:
    """Only a key kept in the key directory is rotated by the runner."""
    if os.environ.get("SOP_AUDIT_KEY") or os.environ.get("SOP_AUDIT_KEY_FILE"):
        raise ConfigError(
            "the signing key comes from $SOP_AUDIT_KEY / $SOP_AUDIT_KEY_FILE: rotate it in your secret store",
            hint="unset them and rotate on a controller whose key lives in $SOP_AUDIT_KEY_DIR",
        )


def replace_signing_key(new: Ed25519PrivateKey) -> Path:
    """Install ``new`` as the signing key of the key directory (rotation); returns its path."""
    check_rotatable()
    location = KeyLocation(key_dir())
    _write_new(location, new, replace=True)
    return location.private


def _pin(value: str) -> str:
    """A fingerprint from a --trusted-key value: 64 hex digits, or a PEM public key file."""
    text = value.strip().lower()
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return text
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"trusted key {value!r}: neither a 64-hex-digit fingerprint nor a PEM file")
    return fingerprint(parse_public(path.read_bytes(), str(path)))


def pinned_fingerprints(cli_values: tuple[str, ...] = ()) -> tuple[set[str], str]:
    """The fingerprints verify trusts and where they came from."""
    if cli_values:
        return {_pin(v) for v in cli_values}, "--trusted-key"
    env = os.environ.get("SOP_AUDIT_TRUSTED_KEYS")
    if env:
        return {_pin(v) for v in env.split(",") if v.strip()}, "$SOP_AUDIT_TRUSTED_KEYS"
    location = KeyLocation(key_dir())
    try:
        return {fingerprint(parse_public(location.public.read_bytes(), str(location.public)))}, str(
            location.public
        )
    except OSError:
        return set(), "nothing"
