"""Junos over NETCONF without the podman lab: XML rendering, error classification, inventory transport, masking,
and a real fetch + backup from the emulator (runner.lab.fakeswitch on 127.0.0.1, one process)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from ncclient.operations.errors import TimeoutExpiredError
from ncclient.transport.errors import AuthenticationError, SessionCloseError, SSHError
from network_helpers import fake_devices, free_ports, git, junos_seed

from runner.errors import ConfigError
from runner.network.backup import run_backup
from runner.network.collect import classify, fetch, fetch_all
from runner.network.devices import Device, device_from_vars
from runner.network.drift import check_drift
from runner.network.masking import MASK, mask_config
from runner.network.netconf import render
from runner.network.policy import load_golden

# What a real Junos answers to <get-config> (default ncclient handler: namespaces kept).
REPLY = """<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"
  xmlns:junos="http://xml.juniper.net/junos/21.4R0/junos" message-id="urn:uuid:1">
<data>
<configuration xmlns="http://xml.juniper.net/xnm/1.1/xnm" junos:commit-seconds="{seconds}"
  junos:commit-localtime="2023-11-14 22:13:20 UTC" junos:commit-user="{user}">
    <version>21.4R3</version>
    <system><host-name>r1</host-name></system>
    <interfaces>
        <interface protect="protect" inactive="inactive"><name>ge-0/0/0</name><description>up link</description>
        </interface>
    </interfaces>
    <firewall><family><inet><filter><name>edge</name>
        <term><name>zz-first</name></term><term><name>aa-second</name></term>
    </filter></inet></family></firewall>
</configuration>
</data>
</rpc-reply>"""


def test_render_is_namespace_free_pretty_xml_without_commit_stamps() -> None:
    text = render(REPLY.format(seconds="1700000000", user="admin"))
    assert text.startswith("<configuration>\n  <version>21.4R3</version>\n  <system>\n    <host-name>r1</host-name>")
    assert "xmlns" not in text and "commit-" not in text and "junos:" not in text
    assert '<interface inactive="inactive" protect="protect">' in text  # attributes sorted
    assert "<description>up link</description>" in text
    assert text.index("zz-first") < text.index("aa-second")  # order is meaning in Junos: kept
    assert text.endswith("</configuration>\n")


def test_render_is_stable_when_only_the_commit_or_whitespace_changed() -> None:
    first = render(REPLY.format(seconds="1700000000", user="admin"))
    again = render(REPLY.format(seconds="1800000000", user="ops").replace("\n    ", "\n\t"))
    assert first == again


def test_render_takes_data_of_a_non_junos_reply_and_refuses_an_empty_one() -> None:
    other = '<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><data><native><hostname>x</hostname>' \
            "</native></data></rpc-reply>"
    assert render(other) == "<data>\n  <native>\n    <hostname>x</hostname>\n  </native>\n</data>\n"
    with pytest.raises(ValueError, match="no <configuration>"):
        render("<rpc-reply><ok/></rpc-reply>")


def test_ncclient_errors_are_classified() -> None:
    assert classify(AuthenticationError(Exception("Authentication failed."))) == "auth"
    assert classify(TimeoutExpiredError("ncclient timed out while waiting for an rpc reply.")) == "timeout"
    assert classify(SSHError("Could not open socket to 127.0.0.1:830")) == "unreachable"
    assert classify(SSHError("Negotiation failed: Error reading SSH protocol banner")) == "error"
    assert classify(SessionCloseError("")) == "error"


def test_transport_comes_from_network_transport_or_ansible_connection() -> None:
    base = {"ansible_user": "u", "ansible_password": "p", "netmiko_device_type": "juniper_junos"}
    assert device_from_vars("a", base).transport == "cli"
    assert device_from_vars("a", base).port == 22
    by_ansible = device_from_vars("b", {**base, "ansible_connection": "ansible.netcommon.netconf"})
    assert (by_ansible.transport, by_ansible.port) == ("netconf", 830)
    explicit = device_from_vars("c", {**base, "network_transport": "NETCONF", "ansible_port": 2830,
                                      "ansible_connection": "ansible.netcommon.network_cli"})
    assert (explicit.transport, explicit.port) == ("netconf", 2830)
    assert device_from_vars("d", {**base, "network_transport": "cli",
                                  "ansible_connection": "netconf"}).transport == "cli"
    with pytest.raises(ConfigError, match="network_transport 'telnet'"):
        device_from_vars("e", {**base, "network_transport": "telnet"})


def test_junos_xml_secrets_are_masked_and_masking_is_idempotent() -> None:
    xml = ("<configuration>\n  <system>\n    <root-authentication>\n"
           "      <encrypted-password>$6$abc$def</encrypted-password>\n    </root-authentication>\n"
           "    <radius-server>\n      <name>169.254.1.50</name>\n      <secret>$9$radius</secret>\n"
           "    </radius-server>\n  </system>\n  <snmp>\n    <community>\n      <name>Comm-1</name>\n"
           "      <authorization>read-only</authorization>\n    </community>\n  </snmp>\n"
           "  <security><ike><policy><name>p</name><pre-shared-key>\n"
           "    <ascii-text>$9$psk</ascii-text>\n  </pre-shared-key></policy></ike></security>\n"
           "  <protocols><bgp><group><name>core</name>\n"
           "    <authentication-key>$9$bgp</authentication-key>\n  </group></bgp></protocols>\n</configuration>\n")
    masked = mask_config(xml, "juniper_junos")
    for secret in ("$6$abc$def", "$9$radius", "Comm-1", "$9$psk", "$9$bgp"):
        assert secret not in masked
    assert masked.count(MASK) == 5
    assert f"<encrypted-password>{MASK}</encrypted-password>" in masked
    assert f"<community>\n      <name>{MASK}</name>" in masked
    assert "<name>169.254.1.50</name>" in masked and "<name>core</name>" in masked  # other keys stay
    assert mask_config(masked, "juniper_junos") == masked


# --- against the emulator -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A Junos (NETCONF) and a Cisco (CLI) device in one fake-switches process, seeded like the lab's."""
    values = {"device_password": secrets.token_urlsafe(12), "device_enable": secrets.token_urlsafe(12)}
    junos_port, cisco_port = free_ports(2)
    common = {"username": "netops", "password": values["device_password"], "enable": values["device_enable"]}
    spec = [{"model": "juniper_generic", "hostname": "jun-r1", "port": junos_port, **common,
             "config_xml": junos_seed(values)},
            {"model": "cisco_generic", "hostname": "ios-r1", "port": cisco_port, **common,
             "config": ["snmp-server community sopLabCommunity RO", "ntp server 169.254.1.123"]}]
    with fake_devices(spec, tmp_path_factory.mktemp("emulator")):
        yield {"secrets": values, "junos": Device("jun-r1", "127.0.0.1", junos_port, "juniper_junos", "netops",
                                                   values["device_password"], transport="netconf"),
               "cisco": Device("ios-r1", "127.0.0.1", cisco_port, "cisco_ios", "netops",
                               values["device_password"], values["device_enable"])}


def test_netconf_fetch_gets_the_committed_configuration_as_xml(emulated: dict) -> None:
    fetched = fetch(emulated["junos"], timeout=10)
    assert fetched.ok, fetched.error
    assert list(fetched.outputs) == ["running"]  # Junos has no startup configuration
    text = fetched.outputs["running"]
    assert text.startswith("<configuration>\n  <system>\n    <host-name>jun-r1</host-name>")
    assert "<name>ge-0/0/1</name>" in text and "<description>uplink to core-sw1</description>" in text
    assert text.index("<system>") < text.index("<interfaces>") < text.index("<snmp>") < text.index("<vlans>")
    assert fetch(emulated["junos"], timeout=10).outputs == fetched.outputs  # stable: no diff without a change


def test_netconf_and_cli_devices_share_the_pool_and_fail_on_their_own(emulated: dict) -> None:
    junos, cisco = emulated["junos"], emulated["cisco"]
    wrong = Device("jun-bad", junos.host, junos.port, junos.device_type, "netops", "wrong-password-1",
                   transport="netconf")
    not_netconf = Device("ios-as-netconf", cisco.host, cisco.port, "juniper_junos", "netops", cisco.password,
                         transport="netconf")
    down = Device("jun-down", "127.0.0.1", free_ports(1)[0], "juniper_junos", "netops", "x", transport="netconf")
    results = {f.device: f for f in fetch_all([junos, wrong, cisco, not_netconf, down], workers=5, timeout=10)}
    assert results["jun-r1"].ok and results["ios-r1"].ok
    assert set(results["ios-r1"].outputs) == {"running", "startup"}
    assert (results["jun-bad"].ok, results["jun-bad"].error_kind) == (False, "auth")
    assert results["ios-as-netconf"].error_kind == "error"  # a CLI-only device offers no netconf subsystem
    assert results["jun-down"].error_kind == "unreachable"
    assert "wrong-password-1" not in (results["jun-bad"].error or "")


def test_backup_stores_masked_junos_xml_next_to_cli_configs(emulated: dict, tmp_path: Path) -> None:
    devices = [emulated["junos"], emulated["cisco"]]
    result = run_backup(devices, tmp_path / "store", run_id="RUN-J1")
    assert result.status == "ok", result.devices
    assert result.devices["jun-r1"]["transport"] == "netconf"
    stored = (tmp_path / "store" / "running" / "jun-r1.cfg").read_text()
    assert not (tmp_path / "store" / "startup" / "jun-r1.cfg").exists()
    assert "<host-name>jun-r1</host-name>" in stored
    leaked = [s for s in (*emulated["secrets"].values(), "sopLabCommunity", "sopLabRadius", "$6$sopLabJn",
                          "$9$sopLabBgpKey") if s in stored]
    assert not leaked, f"running/jun-r1.cfg leaks {len(leaked)} secret(s)"
    assert stored.count(MASK) == 5  # encrypted-password, 2 secrets, community, authentication-key
    again = run_backup(devices, tmp_path / "store", run_id="RUN-J2")
    assert again.changed == [] and "RUN-J2" in git(tmp_path / "store", "log", "-1", "--format=%s")


def test_drift_skips_netconf_devices_without_fetching_them(emulated: dict) -> None:
    golden = load_golden()
    offline = Device("jun-off", "127.0.0.1", free_ports(1)[0], "juniper_junos", "u", "p", role="access_switch",
                     transport="netconf")
    (result,) = check_drift([offline], golden)
    assert result.status == "skipped" and "NETCONF" in (result.note or "") and result.error is None
