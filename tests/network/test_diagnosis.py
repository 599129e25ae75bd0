"""Fault localisation from probe patterns, with fake probe results (no network)."""

from __future__ import annotations

import pytest

from runner.network.diagnosis import diagnose
from runner.network.policy import load_check_policy
from runner.network.probes import ProbeResult

TOPOLOGY = {  # name: (kind, depends_on)
    "core-sw1": ("core_switch", []),
    "dist-sw1": ("access_switch", ["core-sw1"]),
    "lan-gateway": ("lan_gateway", ["core-sw1"]),
    "isp-edge": ("isp_edge", ["lan-gateway"]),
    "internet": ("internet", ["isp-edge"]),
    "dns": ("dns", ["core-sw1"]),
    "vpn": ("vpn", ["lan-gateway"]),
    "prod-app1": ("critical_server", ["core-sw1"]),
    "ws-lt01": ("workstation", ["dist-sw1"]),
}
KINDS = load_check_policy()["kinds"]


def results(down: set[str], slow: set[str] = frozenset()) -> list[ProbeResult]:
    return [ProbeResult(name, kind, name not in down, None if name in down else 3.0,
                        "ConnectionRefusedError" if name in down else "ok", "127.0.0.1:1", name in slow, deps)
            for name, (kind, deps) in TOPOLOGY.items()]


@pytest.mark.parametrize(("down", "domain", "root"), [
    ({"isp-edge", "internet"}, "isp", "isp-edge"),
    ({"internet"}, "isp", "internet"),
    ({"lan-gateway", "isp-edge", "internet", "vpn"}, "router", "lan-gateway"),
    ({"core-sw1", "dist-sw1", "lan-gateway", "isp-edge", "internet", "dns", "vpn", "prod-app1", "ws-lt01"},
     "switch", "core-sw1"),
    ({"dist-sw1", "ws-lt01"}, "switch", "dist-sw1"),
    ({"ws-lt01"}, "user", "ws-lt01"),
    ({"dns"}, "dns", "dns"),
    ({"vpn"}, "vpn", "vpn"),
    ({"prod-app1"}, "server", "prod-app1"),
])
def test_pattern_is_localised_to_the_right_domain(down: set[str], domain: str, root: str) -> None:
    diagnosis = diagnose(results(down), KINDS)
    assert diagnosis.status == "fault"
    assert diagnosis.domains == [domain]
    assert diagnosis.root_causes == [root]
    assert set(diagnosis.consequences) == down - {root}
    assert diagnosis.findings[0].action
    assert domain in diagnosis.summary


def test_all_clear() -> None:
    diagnosis = diagnose(results(set()), KINDS)
    assert diagnosis.status == "ok"
    assert not diagnosis.findings
    assert diagnosis.summary.startswith("OK: 9/9")


def test_two_independent_faults_are_both_reported() -> None:
    diagnosis = diagnose(results({"ws-lt01", "dns"}), KINDS)
    assert diagnosis.domains == ["dns", "user"]


def test_slow_probe_and_unhealthy_server_only_degrade() -> None:
    health = {"prod-db1": {"findings": ["disk / 97.0% used"]}, "prod-app1": {"findings": []}}
    diagnosis = diagnose(results(set(), slow={"internet"}), KINDS, health)
    assert diagnosis.status == "degraded"
    assert {f.domain for f in diagnosis.findings} == {"isp", "server"}
    assert "prod-db1: disk / 97.0% used" in diagnosis.summary
    server = next(f for f in diagnosis.findings if f.domain == "server")
    assert server.action.startswith("free space")
