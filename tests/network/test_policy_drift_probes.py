"""Network policies (schema-validated), drift comparison and probes against loopback responders."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.errors import PolicyError
from runner.lab.netsvc import dns_answer
from runner.network.drift import compare, fragments_for
from runner.network.policy import load_check_policy, load_golden, validate_probes
from runner.network.probes import Probe, dns_query, run_probe


def test_shipped_policies_are_valid() -> None:
    golden = load_golden()
    assert {"core_switch", "access_switch", "edge_router"} <= set(golden["roles"])
    assert load_check_policy()["kinds"]["isp_edge"]["domain"] == "isp"


def test_invalid_golden_policy_reports_every_problem_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "golden.yml"
    bad.write_text("golden_config:\n  fragments:\n    - {id: Bad-Id, description: x, require: [a]}\n"
                   "    - {id: ok, description: y}\n  roles: {core: [missing]}\n  extra: 1\n")
    with pytest.raises(PolicyError) as info:
        load_golden(bad)
    message = str(info.value)
    assert str(bad) in message
    assert "golden_config.fragments.0.id" in message and "golden_config.fragments.1" in message
    assert "extra" in message


def test_unknown_fragment_and_probe_references_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "golden.yml"
    bad.write_text("golden_config:\n  fragments:\n    - {id: ntp, description: x, require: [a]}\n"
                   "  roles: {core: [ntp, nope]}\n")
    with pytest.raises(PolicyError, match="unknown fragment 'nope'"):
        load_golden(bad)
    with pytest.raises(PolicyError, match="unknown kind"):
        validate_probes([{"name": "a", "kind": "nope", "port": 1}], {"dns": {}})
    with pytest.raises(PolicyError, match="depends on unknown probe"):
        validate_probes([{"name": "a", "kind": "dns", "port": 1, "depends_on": ["b"]}], {"dns": {}})


def test_drift_reports_missing_and_forbidden_lines() -> None:
    golden = load_golden()
    config = "hostname x\nip http server\nsnmp-server community public RO\nlogging host 169.254.1.514\n"
    missing, forbidden = compare(config, fragments_for("core_switch", "cisco", golden))
    assert {"fragment": "ntp", "line": "ntp server 169.254.1.123"} in missing
    assert {"fragment": "no_telnet", "line": "ip http server"} in forbidden
    assert any(f["fragment"] == "snmp_no_public" for f in forbidden)
    assert not any(m["fragment"] == "logging" for m in missing)
    assert not any(f["id"] == "sntp" for f in fragments_for("core_switch", "cisco", golden))


@pytest.fixture
def banner_server() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(3)

    def serve() -> None:
        for _ in range(2):  # bounded
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.sendall(b"isp-edge\n")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()
    thread.join(timeout=5)


def test_tcp_probe_measures_latency_and_checks_the_banner(banner_server: int) -> None:
    ok = run_probe(Probe("isp", "isp_edge", "tcp", "127.0.0.1", banner_server, expect="isp-edge", attempts=1))
    assert ok.ok and ok.latency_ms is not None and ok.latency_ms >= 0
    wrong = run_probe(Probe("isp", "isp_edge", "tcp", "127.0.0.1", banner_server, expect="vpn", attempts=1))
    assert not wrong.ok and "unexpected answer" in wrong.detail


def test_probe_of_a_closed_port_fails_within_its_bounds() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_probe(Probe("gw", "lan_gateway", "ssh", "127.0.0.1", port, timeout_s=0.5, attempts=2))
    assert not result.ok and result.latency_ms is None


def test_lab_dns_responder_answers_known_names_and_nxdomain() -> None:
    ident, query = dns_query("internet")
    answer = dns_answer(query, lambda name: "169.254.1.1" if name == "internet" else None)
    assert answer is not None and answer[:2] == ident.to_bytes(2, "big")
    assert answer[-4:] == bytes([169, 254, 1, 1])
    _, other = dns_query("nowhere")
    refused = dns_answer(other, lambda name: None)
    assert refused is not None and refused[3] & 0x0F == 3
