"""Secret masking per vendor: every secret kind the SOP names is removed, the rest of the line is kept."""

from __future__ import annotations

import pytest

from runner.network.masking import GENERIC, MASK, Choice, UnmaskedError, choose, family, mask_config, unmasked_message

CASES = {
    "cisco_ios": (
        "hostname core\n"
        "enable secret 5 $1$abcd$Hq0bYZ7Ovz9ib7yOqVu1N/\n"
        "enable password 7 0822455D0A16\n"
        "username admin privilege 15 secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM\n"
        "snmp-server community S3cretRO RO 10\n"
        "crypto isakmp key Psk-Value-1 address 0.0.0.0\n"
        "tacacs-server key 7 060506324F41\n"
        " password 7 045802150C2E\n"
        " pre-shared-key local Psk-Value-2\n"
        "ntp authentication-key 1 md5 NtpKey-1 7\n",
        ["$1$abcd$Hq0bYZ7Ovz9ib7yOqVu1N/", "0822455D0A16", "$9$nhEmQVczB7dqsO", "S3cretRO", "Psk-Value-1",
         "060506324F41", "045802150C2E", "Psk-Value-2", "NtpKey-1"],
        ["hostname core", "snmp-server community <removed> RO 10",
         "crypto isakmp key <removed> address 0.0.0.0"],
    ),
    "arista_eos": (
        "enable secret sha512 $6$saltsalt$hashhashhash\n"
        "username netops privilege 15 secret sha512 $6$abc$def\n"
        "snmp-server community Arista-Comm ro\n"
        "tacacs-server key 7 070C285F4D06\n"
        "aaa root secret sha512 $6$root$roothash\n"
        "   neighbor 169.254.1.1 password 7 BgpPass==\n",
        ["$6$saltsalt$hashhashhash", "$6$abc$def", "Arista-Comm", "070C285F4D06", "$6$root$roothash",
         "BgpPass=="],
        ["enable secret sha512 <removed>", "snmp-server community <removed> ro"],
    ),
    "dell_os6": (
        "enable password DellEnable1\n"
        'username "netops" password 5f4dcc3b5aa765d61d8327deb882cf99 privilege 15 encrypted\n'
        "snmp-server community DellComm ro\n"
        "radius-server key DellRadius\n",
        ["DellEnable1", "5f4dcc3b5aa765d61d8327deb882cf99", "DellComm", "DellRadius"],
        ['username "netops" password <removed> privilege 15 encrypted'],
    ),
    "dell_powerconnect": (
        "enable password PcEnable encrypted\nsnmp-server community PcComm ro\n",
        ["PcEnable", "PcComm"],
        ["enable password <removed> encrypted"],
    ),
    "brocade_fastiron": (
        "enable super-user-password 8 $1$Brocade$hash\n"
        "username admin password 8 $1$User$hash\n"
        "snmp-server community 2 $U2FsdGVk ro\n"
        "radius-server key 2 $RadiusKey\n",
        ["$1$Brocade$hash", "$1$User$hash", "$U2FsdGVk", "$RadiusKey"],
        ["enable super-user-password 8 <removed>"],
    ),
    "juniper_junos": (
        'set system root-authentication encrypted-password "$6$junos$hash"\n'
        'set security ike policy p1 pre-shared-key ascii-text "$9$psk"\n'
        "set snmp community JunComm authorization read-only\n",
        ["$6$junos$hash", "$9$psk", "JunComm"],
        ["set system root-authentication encrypted-password <removed>"],
    ),
}


@pytest.mark.parametrize("device_type", sorted(CASES))
def test_every_secret_of_the_vendor_is_masked(device_type: str) -> None:
    config, secrets, kept = CASES[device_type]
    masked = mask_config(config, device_type)
    for secret in secrets:
        assert secret not in masked, f"{device_type}: {secret} leaked"
    for line in kept:
        assert line in masked.splitlines()
    assert masked.count(MASK) >= len(secrets) - 1


def test_known_credentials_are_removed_anywhere() -> None:
    masked = mask_config("description owner pw=Hunter2Secret\n", "cisco_ios", ["Hunter2Secret"])
    assert "Hunter2Secret" not in masked


def test_private_key_blocks_are_removed() -> None:
    # A real key, made now: no key material is committed.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    body = pem.splitlines()[1]
    masked = mask_config(f"hostname sw\n{pem}end\n", "arista_eos")
    assert body not in masked and "hostname sw" in masked


def test_masking_is_idempotent_and_keeps_unrelated_lines() -> None:
    config = "hostname x\nsnmp-server community c1 RO\nntp server 169.254.1.123\n"
    once = mask_config(config, "cisco_ios")
    assert mask_config(once, "cisco_ios") == once
    assert "ntp server 169.254.1.123" in once


def test_device_types_map_to_their_family_and_unknown_vendors_to_none() -> None:
    assert family("arista_eos") == "arista"
    assert family("cisco_ios_telnet") == "cisco"
    assert family("cisco_nxos") == "nxos"
    assert family("ruckus_fastiron") == "brocade"
    assert family("hp_procurve") == "procurve"
    assert family("mikrotik_routeros") == "mikrotik"
    assert family("fortinet") == "fortinet"
    assert family("huawei_vrp") is None  # no family: never masked with another vendor's rules by accident
    assert family("cisco_asa") is None


def test_an_unknown_vendor_is_not_masked_unless_a_family_is_named() -> None:
    with pytest.raises(UnmaskedError, match="huawei_vrp"):
        mask_config("local-user admin password cipher Vrp-Secret-1\n", "huawei_vrp")
    masked = mask_config("local-user admin password cipher Vrp-Secret-1\n", "huawei_vrp", family_name=GENERIC)
    assert "Vrp-Secret-1" not in masked and "local-user admin password cipher <removed>" in masked


def test_choice_of_family_and_its_warning() -> None:
    assert choose("sw1", "cisco_ios") == Choice("cisco")
    assert choose("sw1", "cisco_ios", "cisco") == Choice("cisco")
    assert choose("x1", "huawei_vrp") == Choice(None)
    generic = choose("x1", "huawei_vrp", GENERIC)
    assert generic.family == GENERIC and generic.warning is not None
    assert "x1 (huawei_vrp)" in generic.warning and "generic rules" in generic.warning
    named = choose("x2", "cisco_asa", "cisco")
    assert named.family == "cisco" and named.warning is not None and "cisco rules" in named.warning
    assert "masking_rules.yml" in generic.warning
    weaker = choose("sw1", "cisco_ios", GENERIC)
    assert weaker.warning is not None and "unset it to use the cisco rules" in weaker.warning
    message = unmasked_message("x1", "huawei_vrp")
    assert "x1" in message and "'huawei_vrp'" in message and "network_mask_family: generic" in message
    assert "\n" not in message
