"""Remove secrets from device configurations before they are stored, per vendor family.

Every rule keeps the line (so a reviewer sees that a secret is configured and the diff shows when one is added
or removed) and replaces only the value with ``<removed>``. Known credential values from the inventory are
removed wherever they appear, as a second line of defence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "<removed>"
_ENC = r"(?:(?:[0-9]|sha512|sha256|md5|encrypted)\s+)?"

_COMMON = [
    rf"^(\s*snmp-server community\s+{_ENC})(\S+)",
    rf"^(\s*(?:tacacs-server|radius-server)\b.*?\bkey\s+{_ENC})(\S+)",
    rf"^(\s*(?:tacacs|radius)\s+server\s+\S+.*?\bkey\s+{_ENC})(\S+)",
    rf"^(\s*ntp authentication-key\s+\d+\s+\S+\s+{_ENC})(\S+)",
    rf"^(\s*(?:\S+\s+)*?(?:pre-shared-key|key-string)\s+(?:\S+\s+)?{_ENC})(\S+)$",
    rf"^(\s*username\s+\S+\b.*?\b(?:secret|password)\s+{_ENC})(\S+)",
]
_CISCO = [
    rf"^(\s*enable (?:secret|password)(?:\s+level\s+\d+)?\s+{_ENC})(\S+)",
    rf"^(\s*crypto isakmp key\s+{_ENC})(\S+)",
    rf"^(\s*password\s+{_ENC})(\S+)",
    r"^(\s*snmp-server user\s+.*?\b(?:auth\s+\S+|priv\s+\S+(?:\s+\d+)?)\s+)(\S+)",
    rf"^(\s*ip ospf (?:authentication|message-digest)-key.*?\s{_ENC})(\S+)$",
    rf"^(\s*(?:wpa-psk|ascii|hex)\s+{_ENC})(\S+)$",
]
_ARISTA = [
    rf"^(\s*enable (?:secret|password)\s+{_ENC})(\S+)",
    rf"^(\s*aaa root secret\s+{_ENC})(\S+)",
    rf"^(\s*(?:neighbor\s+\S+\s+)?password\s+{_ENC})(\S+)",
]
_DELL = [
    r"^(\s*enable password\s+)(\S+)",
    r"^(\s*username\s+\S+\s+password\s+)(\S+)",
    r"^(\s*(?:radius-server|tacacs-server)\s+key\s+)(\S+)",
]
_BROCADE = [
    rf"^(\s*enable (?:super-user|port-config|read-only)-password\s+{_ENC})(\S+)",
    rf"^(\s*snmp-server community\s+{_ENC})(\S+)",
]
_JUNIPER = [
    r"^(.*\b(?:encrypted-password|secret|authentication-key|pre-shared-key ascii-text)\s+)"
    r"(\"[^\"]*\"|\S+?)(;?)$",
    r"^(.*\bsnmp community\s+)(\S+?)(;?)(?=\s|$)",
    # Junos XML (NETCONF backups, one element a line): the value of the same secret leaves.
    r"^(\s*<(?:encrypted-password|secret|authentication-key|ascii-text)>)([^<]+)(</)",
]
# Junos XML: a secret that is the key (<name>) of its element, on the line after the element's opening tag.
_XML_KEYED = {"juniper": re.compile(r"(<community>\s*<name>)([^<]+)(</name>)")}
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)

FAMILIES: dict[str, list[str]] = {
    "cisco": _COMMON + _CISCO,
    "arista": _COMMON + _ARISTA,
    "dell": _COMMON + _DELL,
    "brocade": _COMMON + _BROCADE,
    "ruckus": _COMMON + _BROCADE,
    "juniper": _JUNIPER,
}
_COMPILED = {family: [re.compile(rule, re.I) for rule in rules] for family, rules in FAMILIES.items()}


def family(device_type: str) -> str:
    prefix = device_type.split("_", 1)[0].lower()
    return prefix if prefix in _COMPILED else "cisco"


def _mask_line(line: str, rules: list[re.Pattern[str]]) -> str:
    for rule in rules:
        match = rule.match(line)
        if match and match.group(2) != MASK:
            tail = match.group(3) if rule.groups >= 3 else ""
            return f"{match.group(1)}{MASK}{tail}{line[match.end():]}"
    return line


def mask_config(text: str, device_type: str, known_secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with every secret of the vendor's syntax (and every known value) replaced."""
    rules = _COMPILED[family(device_type)]
    text = _PEM.sub(f"-----BEGIN PRIVATE KEY----- {MASK} -----END PRIVATE KEY-----", text)
    if keyed := _XML_KEYED.get(family(device_type)):
        text = keyed.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
    masked = "\n".join(_mask_line(line, rules) for line in text.split("\n"))
    for secret in sorted((s for s in known_secrets if s and len(s) >= 4), key=len, reverse=True):
        masked = masked.replace(secret, MASK)
    return masked
