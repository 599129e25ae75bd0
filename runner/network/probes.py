"""Probes of the morning network check: TCP (optionally expecting a banner), SSH banner and DNS (UDP) probes.

They run on the controller (the monitoring station), concurrently, each bounded by its timeout and attempts.
"""

from __future__ import annotations

import secrets
import socket
import struct
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Probe:
    name: str
    kind: str
    type: str  # tcp | ssh | dns
    host: str
    port: int
    expect: str | None = None
    query: str | None = None
    depends_on: tuple[str, ...] = ()
    timeout_s: float = 2.0
    attempts: int = 2
    latency_warn_ms: float | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], defaults: dict[str, Any] | None = None) -> Probe:
        merged = {**(defaults or {}), **data}
        return cls(name=str(merged["name"]), kind=str(merged["kind"]), type=str(merged.get("type", "tcp")),
                   host=str(merged.get("host", "127.0.0.1")), port=int(merged["port"]),
                   expect=merged.get("expect"), query=merged.get("query"),
                   depends_on=tuple(merged.get("depends_on") or ()),
                   timeout_s=float(merged.get("timeout_s", 2.0)), attempts=int(merged.get("attempts", 2)),
                   latency_warn_ms=merged.get("latency_warn_ms"))


@dataclass
class ProbeResult:
    name: str
    kind: str
    ok: bool
    latency_ms: float | None
    detail: str
    target: str
    slow: bool = False
    depends_on: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tcp(probe: Probe) -> str:
    with socket.create_connection((probe.host, probe.port), timeout=probe.timeout_s) as sock:
        if probe.type == "tcp" and not probe.expect:
            return "connected"
        sock.settimeout(probe.timeout_s)
        data = sock.recv(256).decode(errors="replace").strip()
    expected = "SSH-" if probe.type == "ssh" else probe.expect or ""
    if expected not in data:
        raise ConnectionError(f"unexpected answer {data[:40]!r} (expected {expected!r})")
    return data.splitlines()[0][:60] if data else "connected"


def dns_query(name: str) -> tuple[int, bytes]:
    ident = secrets.randbelow(65535)
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.strip(".").split("."))
    header = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)
    return ident, header + labels + b"\x00" + struct.pack("!HH", 1, 1)


def _dns(probe: Probe) -> str:
    ident, packet = dns_query(probe.query or "localhost")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(probe.timeout_s)
        sock.sendto(packet, (probe.host, probe.port))
        data, _ = sock.recvfrom(512)
    answer_id, flags, _, ancount = struct.unpack("!HHHH", data[:8])
    if answer_id != ident:
        raise ConnectionError("DNS answer for another query")
    if flags & 0x000F:
        raise ConnectionError(f"DNS error rcode {flags & 0x000F} for {probe.query}")
    if not ancount:
        raise ConnectionError(f"no DNS answer for {probe.query}")
    return f"{probe.query} resolved ({ancount} answer(s))"


def run_probe(probe: Probe) -> ProbeResult:
    check = _dns if probe.type == "dns" else _tcp
    detail = "not run"
    for _ in range(max(1, probe.attempts)):
        started = time.perf_counter()
        try:
            detail = check(probe)
        except (OSError, ValueError) as exc:
            detail = f"{type(exc).__name__}: {exc}".strip()[:160]
            continue
        latency = round((time.perf_counter() - started) * 1000, 2)
        slow = probe.latency_warn_ms is not None and latency > float(probe.latency_warn_ms)
        return ProbeResult(probe.name, probe.kind, True, latency, detail, f"{probe.host}:{probe.port}", slow,
                           list(probe.depends_on))
    return ProbeResult(probe.name, probe.kind, False, None, detail, f"{probe.host}:{probe.port}", False,
                       list(probe.depends_on))


def run_probes(probes: Sequence[Probe], workers: int = 16) -> list[ProbeResult]:
    if not probes:
        return []
    size = max(1, min(workers, len(probes)))
    with ThreadPoolExecutor(max_workers=size, thread_name_prefix="probe") as pool:
        return list(pool.map(run_probe, probes))
