"""Key custody (never in the audit dir; env, file, vault file) and key rotation as a signed ledger entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret
from audit_helpers import fake_run, sop
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runner.audit import AuditStore, keys, ledger, verify
from runner.errors import ConfigError


def entries(store: AuditStore) -> list[dict]:
    return [json.loads(x) for x in store.ledger_paths.ledger.read_bytes().splitlines()]


def test_default_key_dir_is_root_only_under_etc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOP_AUDIT_KEY_DIR")
    assert keys.key_dir() == Path("/etc/sop-as-code/audit")


def test_key_never_lands_in_the_audit_dir(tmp_path: Path, key_dir: Path) -> None:
    store = AuditStore(tmp_path / "audit")
    fake_run(store)
    assert (key_dir / "ledger.key").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert not [p for p in store.root.rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]
    assert entries(store)[0]["pub"], "entry 1 carries the public key it is signed with"


def test_key_file_inside_the_audit_dir_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = tmp_path / "audit" / "keys" / "ledger.key"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(keys.private_pem(Ed25519PrivateKey.generate()))
    monkeypatch.setenv("SOP_AUDIT_KEY_FILE", str(inside))
    with pytest.raises(ConfigError, match="must not live inside the audit directory"):
        fake_run(AuditStore(tmp_path / "audit"))


def test_key_from_the_environment_and_a_vault_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ci_key = Ed25519PrivateKey.generate()
    monkeypatch.setenv("SOP_AUDIT_KEY", keys.private_pem(ci_key).decode())
    monkeypatch.setenv("SOP_AUDIT_TRUSTED_KEYS", keys.fingerprint(ci_key.public_key()))
    store = AuditStore(tmp_path / "a1")
    fake_run(store)
    assert {e["key"] for e in entries(store)} == {keys.key_id(ci_key.public_key())}
    assert verify(store).ok
    monkeypatch.delenv("SOP_AUDIT_KEY")
    vault_key = Ed25519PrivateKey.generate()
    password = tmp_path / "vault-pass"
    password.write_text("s3cret-vault\n")
    encrypted = VaultLib([("default", VaultSecret(b"s3cret-vault"))]).encrypt(keys.private_pem(vault_key))
    key_file = tmp_path / "ledger.key.vault"
    key_file.write_bytes(encrypted)
    monkeypatch.setenv("SOP_AUDIT_KEY_FILE", str(key_file))
    with pytest.raises(ConfigError, match="SOP_AUDIT_KEY_VAULT_PASSWORD_FILE"):
        keys.signing_key()
    monkeypatch.setenv("SOP_AUDIT_KEY_VAULT_PASSWORD_FILE", str(password))
    assert keys.key_id(keys.signing_key().public_key()) == keys.key_id(vault_key.public_key())


@pytest.fixture
def rotated(tmp_path: Path) -> tuple[AuditStore, str, str]:
    store = AuditStore(tmp_path / "audit")
    fake_run(store)
    (tmp_path / "retired.pem").write_bytes(keys.private_pem(keys.signing_key()))
    old = keys.fingerprint(keys.signing_key().public_key())
    ledger.rotate(store.root, new := Ed25519PrivateKey.generate())
    keys.replace_signing_key(new)
    fake_run(store)
    return store, old, keys.fingerprint(new.public_key())


def test_rotation_is_a_signed_entry_and_old_entries_keep_verifying(rotated: tuple[AuditStore, str, str]) -> None:
    store, old, new = rotated
    kinds = [(e["kind"], e["key"]) for e in entries(store)]
    assert kinds == [("start", old[:16]), ("end", old[:16]), ("rotate", old[:16]), ("start", new[:16]),
                     ("end", new[:16])]
    for pins in ((), (old,), (new,)):
        result = verify(store, trusted=pins)
        assert result.ok, (pins, result.problems)
    assert store.ledger_paths.public_key.read_bytes() == (keys.key_dir() / "ledger.pub").read_bytes()


def test_old_key_cannot_sign_after_rotation(rotated: tuple[AuditStore, str, str], tmp_path: Path) -> None:
    store, old, new = rotated
    retired = keys.parse_private((tmp_path / "retired.pem").read_bytes(), "retired")  # a stolen retired key
    assert keys.fingerprint(retired.public_key()) == old
    lines = store.ledger_paths.ledger.read_bytes().splitlines()
    forged = ledger.next_entry(lines[-1], "start", "20990101T000000Z-deadbeef", {"start_event": "0" * 64}, retired)
    store.ledger_paths.ledger.write_bytes(b"".join(x + b"\n" for x in [*lines, ledger.canonical(forged).encode()]))
    result = verify(store, seal=False)
    assert result.problems[0] == (
        f"ledger entry 6 (line 6, start of run 20990101T000000Z-deadbeef): signed by key "
        f"{keys.key_id(retired.public_key())}, but the key in force is {new[:16]} (altered or inserted)"
    )


def test_rotation_to_a_key_that_did_not_sign_it_is_not_trusted(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "audit")
    fake_run(store)
    old = keys.fingerprint(keys.signing_key().public_key())
    new = Ed25519PrivateKey.generate()
    entry = ledger.rotate(store.root, new)
    lines = store.ledger_paths.ledger.read_bytes().splitlines()
    entry["new_key"]["public"] = ledger.next_entry(None, "x", "-", {}, Ed25519PrivateKey.generate())["pub"]
    lines[-1] = ledger.canonical(ledger.sign(entry, keys.signing_key())).encode()  # new_sig no longer matches
    store.ledger_paths.ledger.write_bytes(b"".join(x + b"\n" for x in lines))
    keys.replace_signing_key(new)
    fake_run(store)
    result = verify(store, seal=False, trusted=(old,))
    assert "ledger entry 4" in result.problems[0] and "which is not a pinned key" in result.problems[0], result.problems


def test_rotate_key_command(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "audit")
    fake_run(store)
    before = keys.fingerprint(keys.signing_key().public_key())
    out = sop("audit", "rotate-key", "--audit-dir", str(store.root))
    assert out.returncode == 0, out.stderr
    after = keys.fingerprint(keys.signing_key().public_key())
    assert after != before and f"new fingerprint (pin it): {after}" in out.stdout
    assert entries(store)[-1]["kind"] == "rotate"
    fake_run(store)
    assert verify(store, trusted=(before,)).ok
