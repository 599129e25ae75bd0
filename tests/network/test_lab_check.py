"""Morning network check on the lab: each simulated fault gets the right diagnosis in the run record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from network_helpers import evidence, run

from runner.lab import Lab

POLICY = Path(__file__).resolve().parents[2] / "policies" / "network" / "probes.yml"


def probes_policy(tmp: Path, latency_warn_ms: float) -> Path:
    """policies/network/probes.yml with one latency threshold for every probe kind."""
    policy = yaml.safe_load(POLICY.read_text())
    policy["network_check"]["defaults"]["latency_warn_ms"] = latency_warn_ms
    for kind in policy["network_check"]["kinds"].values():
        kind.pop("latency_warn_ms", None)
    path = tmp / f"probes-{latency_warn_ms}.yml"
    path.write_text(yaml.safe_dump(policy))
    return path


def check(lab: Lab, tmp: Path, **extra: object) -> dict:
    # The lab shares 2 CPUs with other work (in the fresh-machine VM, emulated ones): its load and its probes'
    # latency say nothing about the lab hosts or network, so neither is judged here except where a test says so.
    extra = {"network_check_server_health": False, "server_health_load_warn_per_cpu": 1000,
             "network_check_policy": str(probes_policy(tmp, 60_000)), **extra}
    outcome = run("network_check.yml", lab, tmp, **extra)
    found = evidence(outcome, "diagnosis")
    assert (outcome.exit_code != 0) == (found["status"] == "fault"), outcome.status
    return found


def test_all_clear_with_server_monitoring(lab: Lab, tmp_path: Path) -> None:
    found = check(lab, tmp_path, network_check_server_health=True)
    assert found["status"] == "ok", found["summary"]
    assert all(p["ok"] and p["latency_ms"] is not None for p in found["probes"])
    assert {p["name"] for p in found["probes"]} >= {"lan-gateway", "core-sw1", "dns", "isp-edge", "internet",
                                                    "vpn", "prod-app1", "ws-lt01"}
    assert set(found["servers"]) == {"stg-app1", "prod-app1", "prod-db1"}
    assert {"disk", "memory_used_pct", "load", "failed_units", "certificates"} <= set(found["servers"]["prod-db1"])
    assert "OK:" in found["summary"]


def test_a_slow_probe_degrades_the_check_and_names_the_probe(lab: Lab, tmp_path: Path) -> None:
    found = check(lab, tmp_path, network_check_policy=str(probes_policy(tmp_path, 0.001)))
    assert found["status"] == "degraded"
    assert all(p["ok"] and p["slow"] for p in found["probes"])
    assert any("answers slowly (" in f["cause"] for f in found["diagnosis"]["findings"])


def test_expiring_certificate_is_a_server_warning(lab: Lab, tmp_path: Path) -> None:
    lab.exec("prod-app1", "sh", "-c", "mkdir -p /etc/ssl/sop && openssl req -x509 -newkey rsa:2048 -nodes "
             "-days 5 -subj /CN=app -keyout /tmp/app.key -out /etc/ssl/sop/app.pem 2>/dev/null")
    try:
        found = check(lab, tmp_path, network_check_server_health=True)
    finally:
        lab.exec("prod-app1", "rm", "-f", "/etc/ssl/sop/app.pem", "/tmp/app.key")
    assert found["status"] == "degraded"
    server = [f for f in found["diagnosis"]["findings"] if f["domain"] == "server"]
    assert server and "certificate /etc/ssl/sop/app.pem expires in" in server[0]["cause"]


def _stop(node: str) -> Callable[[Lab], Callable[[], None]]:
    def inject(lab: Lab) -> Callable[[], None]:
        lab.stop(node)
        return lambda: lab.start(node)

    return inject


def _drop_internet_route(lab: Lab) -> Callable[[], None]:
    address = lab.exec("isp-edge", "getent", "hosts", "internet").split()[0]
    lab.exec("isp-edge", "ip", "route", "add", "blackhole", f"{address}/32")
    return lambda: lab.exec("isp-edge", "ip", "route", "del", "blackhole", f"{address}/32")


def _drop_dns_service(lab: Lab) -> Callable[[], None]:
    lab.exec("dns", "touch", "/tmp/sop-down")
    return lambda: lab.exec("dns", "rm", "-f", "/tmp/sop-down")


FAULTS = {  # fault: (inject, expected domain, root-cause probe, consequences)
    "core switch down": (_stop("core-sw1"), "switch", "core-sw1", set()),
    "router down": (_stop("edge-rtr1"), "router", "lan-gateway", set()),
    "ISP edge down": (_stop("isp-edge"), "isp", "isp-edge", {"internet"}),
    "ISP route dropped": (_drop_internet_route, "isp", "internet", set()),
    "DNS service dropped": (_drop_dns_service, "dns", "dns", set()),
    "VPN endpoint down": (_stop("vpn"), "vpn", "vpn", set()),
    "user workstation off": (_stop("ws-lt01"), "user", "ws-lt01", set()),
    "critical server down": (_stop("prod-app1"), "server", "prod-app1", set()),
}


@pytest.fixture(params=sorted(FAULTS))
def fault(request: pytest.FixtureRequest, lab: Lab) -> Iterator[tuple[str, str, set[str]]]:
    inject, domain, root, consequences = FAULTS[request.param]
    undo = inject(lab)
    try:
        yield domain, root, consequences
    finally:
        undo()


def test_fault_is_localised(fault: tuple[str, str, set[str]], lab: Lab, tmp_path: Path) -> None:
    domain, root, consequences = fault
    found = check(lab, tmp_path)
    diagnosis = found["diagnosis"]
    assert found["status"] == "fault", found["summary"]
    assert diagnosis["domains"] == [domain], found["summary"]
    assert diagnosis["root_causes"] == [root]
    assert set(diagnosis["consequences"]) == consequences
    assert diagnosis["findings"][0]["action"]
    assert found["summary"].startswith("Morning network check") and domain in found["summary"]
