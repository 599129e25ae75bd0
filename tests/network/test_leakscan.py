"""The store's leak scan: known secrets and random-looking tokens are caught, public values and names are not.

False positives are checked against the lab: the seed lines of runner/lab/topology.yml with secrets generated
like the lab's, and tests/network/lab_configs/<model>.cfg, the `show running-config` of each fake-switches model
the lab runs (rendered once from runner.lab.fakeswitch with those seeds; {device_password}/{device_enable} stand
for the generated secrets). The corpus `keep` configurations are checked in test_masking_corpus.py.
"""

from __future__ import annotations

import random
import secrets
import string
from pathlib import Path

import pytest
import yaml

from runner.network import leakscan
from runner.network.leakscan import looks_random, scan
from runner.network.masking import mask_config
from runner.paths import REPO_ROOT

LAB_CONFIGS = Path(__file__).with_name("lab_configs")
TOPOLOGY = yaml.safe_load((REPO_ROOT / "runner" / "lab" / "topology.yml").read_text())
# Names, paths and numbers of real configurations: high entropy, but structured (no alarm).
NAMES = ["TP-self-signed-3456789012", "GigabitEthernet1/0/24", "TenGigabitEthernet1/1/1",
         "FortyGigabitEthernet2/1/1", "HundredGigE0/0/0/1", "cat9k_iosxe.17.09.04a.SPA.bin",
         "flash:c2960x-universalk9-mz.152-7.E7.bin", "Uplink-to-core-sw1-Gi1/0/48",
         "c9800-universalk9_wlc.17.09.04.SPA.bin", "RM-BGP-TRANSIT-IN-V4", "ACL-MGMT-SSH-IN-V4",
         "CUST-ACME-INTERNET-VRF-V4", "policy-map-QOS-OUT-WAN-100M", "ISP-Transit-Telia-Sto01", "FGT60FTK21091234",
         "800000090300AABBCCDDEEFF", "//xml.juniper.net/junos/21.4R0/junos",
         "//tools.cisco.com/its/service/oddce/services/DDCEService", "/usr/bin/TerminAttr",
         "dist-sw1.corp.example.com", "mgmt-vrf-loopback100", "reflexive-list-outbound",
         "2001:db8:85a3::8a2e:370:7334", "fe80::21c:73ff:fe00:1/64", "0011.2233.4455", "internationalization",
         "CRS326-24G-2S+RM", "CCR2004-1G-12S+2XS", "DCS-7050SX3-48YC8", "ICX7150-48PF-4X1G",
         "hAP-ac2-RBD52G-5HacD2HnD", "FGT60F-7.2.8-FW-build1639-240313"]


def lab_secrets() -> dict[str, str]:
    """Like the lab's generated secrets (runner/lab/instance.py): token_urlsafe(18)."""
    return {"device_password": secrets.token_urlsafe(18), "device_enable": secrets.token_urlsafe(18)}


def fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


@pytest.mark.parametrize("spec", TOPOLOGY["devices"], ids=[d["name"] for d in TOPOLOGY["devices"]])
def test_lab_seed_configs_raise_no_alarm(spec: dict) -> None:
    values = lab_secrets()
    seed = spec.get("config_xml") or "\n".join(spec["config"])  # NETCONF devices (jun-sw1) are seeded as XML
    config = fill(seed, values) + "\n"
    known = (values["device_password"], values["device_enable"])
    masked = mask_config(config, spec["device_type"], known)
    assert scan(masked, known, credentials=known) == []
    assert not [s for s in known if s in masked]


@pytest.mark.parametrize("path", sorted(LAB_CONFIGS.glob("*.cfg")), ids=lambda p: p.stem)
def test_lab_device_configs_raise_no_alarm(path: Path) -> None:
    device_type = next(d["device_type"] for d in TOPOLOGY["devices"] if d["model"] == path.stem)
    values = lab_secrets()
    known = tuple(values.values())
    masked = mask_config(fill(path.read_text(), values), device_type, known)
    assert "<removed>" in masked
    assert scan(masked, known, credentials=known) == []


def test_a_known_secret_where_no_rule_looks_is_caught_without_showing_it() -> None:
    config = "hostname sw1\ninterface Gi0/1\n description temporary pw Hunter2-Secret\n"
    suspects = scan(config, ["Hunter2-Secret"])
    assert [s.line for s in suspects] == [3] and "known" in suspects[0].reason
    message = leakscan.leak_message("sw1", "running", suspects)
    assert "sw1" in message and "running" in message and "line 3" in message
    assert "Hunter2-Secret" not in message
    assert scan(config, []) == []  # 14 characters, structured: only the known-secret check can find it


def test_a_random_token_in_a_description_is_caught_without_showing_it() -> None:
    token = "q7XvR2kLm9PzT4wYb8Nc"
    suspects = scan(f"hostname sw1\ninterface Gi0/1\n description {token}\n")
    assert [s.line for s in suspects] == [3] and "high-entropy" in suspects[0].reason
    assert token not in suspects[0].reason and token not in leakscan.leak_message("sw1", "startup", suspects)


def test_public_high_entropy_values_are_not_alarms() -> None:
    config = "\n".join([
        "username netops sshkey ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC3Xq9vP2kL8mN5rT7wY1zB4cD6eF8gH0jK2lM4n admin@x",
        "  key-hash ssh-rsa 5E3F0A1B2C3D4E5F60718293A4B5C6D7 netops@laptop",
        '/interface wireguard peers add public-key="xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="',
        "    set uuid 6a1d6b4e-2c3f-51ea-8b7e-4b1c8a7b2d3e",
        '    set certificate "-----BEGIN CERTIFICATE-----',
        "MIIDdzCCAl+gAwIBAgIEbW9ja0ZvcnRpQ2VydGlmaWNhdGVQdWJsaWNQYXJ0MTIz",
        '-----END CERTIFICATE-----"',
        "  3082032E 30820216 A0030201 02020101 300D0609 2A864886 F70D0101 05050030",
        "enable secret 9 <removed>",
    ])
    assert scan(config) == []
    assert scan("MIIDdzCCAl+gAwIBAgIEbW9ja0ZvcnRpQ2VydGlmaWNhdGVQdWJsaWNQYXJ0MTIz\n")  # outside a cert: suspect


def test_names_paths_and_numbers_do_not_look_random() -> None:
    assert [n for n in NAMES if looks_random(n)] == []


def test_header_lines_naming_the_hardware_are_not_alarms() -> None:
    headers = ["# model = RB4011iGS+5HacQ2HnD", "! device: leaf1 (DCS-7050SX3-48YC8, EOS-4.28.3M)",
               "#config-version=FGT60F-7.2.8-FW-build1639-240313:opmode=0:vdom=0:user=admin"]
    assert scan("\n".join(headers)) == []
    assert looks_random("RB4011iGS+5HacQ2HnD")  # the same model name in a description would be a suspect


@pytest.mark.parametrize(("alphabet", "length", "rate"), [
    (string.ascii_letters + string.digits, 16, 0.9),
    (string.ascii_letters + string.digits, 24, 0.95),
    (string.ascii_letters + string.digits + "-_", 24, 0.95),  # token_urlsafe(18), the lab's secrets
    ("0123456789ABCDEF", 32, 0.95),
    (string.ascii_lowercase + string.digits, 20, 0.8),
])
def test_generated_secrets_look_random(alphabet: str, length: int, rate: float) -> None:
    rng = random.Random(f"{alphabet}{length}")  # seeded: the same 300 tokens every run
    tokens = ["".join(rng.choice(alphabet) for _ in range(length)) for _ in range(300)]
    assert sum(looks_random(t) for t in tokens) / len(tokens) >= rate


def test_short_tokens_are_never_entropy_alarms() -> None:
    assert not looks_random("q7XvR2kLm9PzT4w")  # 15 < MIN_LENGTH: only known secrets are found this short
