"""Masking corpus per vendor family (tests/network/masking_corpus/<family>.yml).

Each statement carries made-up secrets in a real statement shape: none may survive masking, the expected masked
lines must appear exactly, and masking twice changes nothing. Each family's non-secret `keep` configuration must
come out unchanged and raise no leak-scan alarm. Every rule of masking_rules.yml is exercised by its family's
corpus, and the shapes issue 14 found stored in clear are all in it.

No key material, not even a key block's marker lines, is committed: a statement's config writes
``{pem:rsa|ec|encrypted}`` where a private key block goes, its secrets ``{pem_body:KIND}`` for the key's base64 lines,
and its expected lines ``{pem_begin:KIND}`` / ``{pem_end:KIND}``; each run fills in a key it generates.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.network import leakscan
from runner.network.masking import GENERIC, MASK, Rule, families, family, mask_config

CORPUS = Path(__file__).with_name("masking_corpus")
ISSUE_14 = {"hsrp", "vrrp", "bgp-neighbor", "ppp", "snmp-host", "snmpv3-priv", "ip-ftp", "wpa-psk", "config-key",
            "keyring-psk", "server-private", "eigrp-text", "rip-text", "arista-ospf-key"}


@cache
def pem(kind: str) -> list[str]:
    """The PEM lines of a private key made for this run: rsa and ec in their traditional forms, encrypted as
    PKCS#8 ENCRYPTED PRIVATE KEY."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
    form = serialization.PrivateFormat.PKCS8 if kind == "encrypted" else serialization.PrivateFormat.TraditionalOpenSSL
    cipher = (serialization.BestAvailableEncryption(b"corpus-test") if kind == "encrypted"
              else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, form, cipher).decode().strip().split("\n")


PLACEHOLDER = re.compile(r"\{(pem|pem_body|pem_begin|pem_end):(rsa|ec|encrypted)\}")


def _key_text(part: str, kind: str) -> str:
    lines = pem(kind)
    return "\n".join({"pem": lines, "pem_body": lines[1:-1], "pem_begin": lines[:1], "pem_end": lines[-1:]}[part])


def _fill(text: str) -> str:
    return PLACEHOLDER.sub(lambda m: _key_text(m.group(1), m.group(2)), text)


def _with_keys(entry: dict[str, Any]) -> dict[str, Any]:
    """Placeholders become a generated key's text; a ``{pem_body:KIND}`` secret is each of its base64 lines."""
    secrets: list[str] = []
    for secret in entry["secrets"]:
        body = PLACEHOLDER.fullmatch(secret)
        secrets += pem(body.group(2))[1:-1] if body and body.group(1) == "pem_body" else [secret]
    return {**entry, "config": _fill(entry["config"]), "secrets": secrets,
            "expect": [_fill(line) for line in entry.get("expect", [])]}


@cache
def corpus(name: str) -> dict[str, Any]:
    data = yaml.safe_load((CORPUS / f"{name}.yml").read_text())
    return {**data, "statements": [_with_keys(entry) for entry in data["statements"]]}


def mask(name: str, text: str) -> str:
    data = corpus(name)
    return mask_config(text, data["device_type"], family_name=data.get("family"))


NAMES = sorted(p.stem for p in CORPUS.glob("*.yml"))
STATEMENTS = [(name, i) for name in NAMES for i in range(len(corpus(name)["statements"]))]


def test_every_family_has_a_corpus_of_its_device_type() -> None:
    assert sorted(p.stem for p in CORPUS.glob("*.yml")) == sorted(families())
    for name in families():
        data = corpus(name)
        assert (data.get("family") or family(data["device_type"])) == name
        if name != GENERIC:
            assert family(data["device_type"]) == name


@pytest.mark.parametrize(("name", "index"), STATEMENTS, ids=[f"{n}-{i}" for n, i in STATEMENTS])
def test_no_secret_survives_and_the_rest_of_the_line_stays(name: str, index: int) -> None:
    entry = corpus(name)["statements"][index]
    config = entry["config"]
    for secret in entry["secrets"]:
        assert isinstance(secret, str) and secret in config, f"corpus typo: {secret!r} is not in its statement"
    masked = mask(name, config)
    leaked = [s for s in entry["secrets"] if s in masked]
    assert not leaked, f"{name} #{index}: {leaked} survived:\n{masked}"
    lines = masked.split("\n")
    for expected in entry.get("expect", []):
        assert expected in lines, f"{name} #{index}: {expected!r} not in:\n{masked}"
    assert masked.count(MASK) >= 1
    assert mask(name, masked) == masked  # idempotent: masking the stored text again changes nothing


@pytest.mark.parametrize("name", sorted(families()))
def test_whole_corpus_at_once_and_keep_lines_intact(name: str) -> None:
    data = corpus(name)
    statements = data["statements"]
    whole = "".join(entry["config"] for entry in statements) + data["keep"]
    masked = mask(name, whole)
    for entry in statements:
        assert not [s for s in entry["secrets"] if s in masked]
    assert mask(name, data["keep"]) == data["keep"], "a line without a secret was changed"
    for line in data["keep"].splitlines():
        assert line in masked.split("\n")


@pytest.mark.parametrize("name", sorted(families()))
def test_keep_lines_raise_no_leak_alarm(name: str) -> None:
    keep = corpus(name)["keep"]
    assert leakscan.scan(mask(name, keep)) == []
    masked = mask(name, "".join(entry["config"] for entry in corpus(name)["statements"]))
    assert leakscan.scan(masked) == [], "a masked statement still looks like a secret"


def _exercised(rule: Rule, configs: list[str]) -> bool:
    if rule.text:
        return any(rule.pattern.search(text) for text in configs)
    return any(rule.pattern.search(line) for text in configs for line in text.split("\n"))


@pytest.mark.parametrize("name", sorted(families()))
def test_every_rule_is_exercised_by_the_corpus(name: str) -> None:
    configs = [entry["config"] for entry in corpus(name)["statements"]]
    for rule in families()[name].rules:
        assert rule.shared or _exercised(rule, configs), f"{name}: rule {rule.id} matches no corpus statement"


def test_every_shared_rule_is_exercised_by_some_corpus() -> None:
    configs = [entry["config"] for name in families() for entry in corpus(name)["statements"]]
    shared = [rule for rule in families()[GENERIC].rules if rule.shared]
    assert shared and all(_exercised(rule, configs) for rule in shared)


def test_the_shapes_issue_14_found_in_clear_are_all_in_the_corpus() -> None:
    labels = {entry["issue14"] for name in families() for entry in corpus(name)["statements"] if "issue14" in entry}
    assert labels == ISSUE_14
