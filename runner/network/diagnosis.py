"""Localise a network fault from the pattern of probe results (SOP 3.3: ISP, router, switch, user, server).

A failed probe whose dependencies all answered is a root cause; a failed probe behind a failed dependency is a
consequence. Each root cause maps, through its probe kind (policies/network/probes.yml), to a fault domain
and a recommended action. Unhealthy servers (daily monitoring) add server findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from runner.network.probes import ProbeResult


@dataclass
class Finding:
    domain: str  # isp | router | switch | user | server | vpn | dns
    probes: list[str]
    cause: str
    action: str
    severity: str = "fault"  # fault | warning


@dataclass
class Diagnosis:
    status: str  # ok | degraded | fault
    findings: list[Finding] = field(default_factory=list)
    root_causes: list[str] = field(default_factory=list)
    consequences: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    @property
    def domains(self) -> list[str]:
        return sorted({f.domain for f in self.findings if f.severity == "fault"})

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "domains": self.domains}


def _blocking_dependency(name: str, by_name: Mapping[str, ProbeResult],
                         seen: set[str] | None = None) -> str | None:
    """The nearest failed ancestor of ``name`` (None when every dependency answered)."""
    seen = seen or set()
    for dep in by_name[name].depends_on:
        if dep in seen or dep not in by_name:
            continue
        if not by_name[dep].ok:
            return _blocking_dependency(dep, by_name, seen | {name}) or dep
    return None


def _finding(result: ProbeResult, kinds: Mapping[str, Mapping[str, Any]]) -> Finding:
    kind = kinds.get(result.kind, {})
    cause = str(kind.get("cause", "{name} does not answer")).format(name=result.name, target=result.target)
    action = str(kind.get("action", "investigate {name}")).format(name=result.name, target=result.target)
    return Finding(str(kind.get("domain", "unknown")), [result.name], f"{cause} ({result.detail})", action)


def _merge(findings: list[Finding]) -> list[Finding]:
    merged: dict[tuple[str, str], Finding] = {}
    for item in findings:
        key = (item.domain, item.action)
        if key in merged:
            merged[key].probes += item.probes
            merged[key].cause += f"; {item.cause}"
        else:
            merged[key] = item
    return list(merged.values())


_SERVER_ACTIONS = (  # finding prefix (sop_server_health) -> recommended action
    ("disk", "free space (logs, old backups, package cache) or extend the volume"),
    ("memory", "find the process using the memory; restart a leaking service in a quiet hour"),
    ("load", "check the busiest processes (top); move or reschedule batch work"),
    ("failed unit", "systemctl status / journalctl -u the unit, fix and restart it"),
    ("certificate", "renew the certificate before it expires and reload the service using it"),
)


def _server_action(problems: Sequence[str]) -> str:
    actions = [action for prefix, action in _SERVER_ACTIONS if any(p.startswith(prefix) for p in problems)]
    return "; ".join(actions) or "investigate in the weekly maintenance"


def _server_findings(health: Mapping[str, Mapping[str, Any]]) -> list[Finding]:
    findings = []
    for host, evidence in sorted(health.items()):
        problems = evidence.get("findings") or []
        if problems:
            findings.append(Finding("server", [host], f"{host}: " + "; ".join(problems),
                                    _server_action(problems), "warning"))
    return findings


def diagnose(results: Sequence[ProbeResult], kinds: Mapping[str, Mapping[str, Any]],
             server_health: Mapping[str, Mapping[str, Any]] | None = None) -> Diagnosis:
    by_name = {r.name: r for r in results}
    roots, consequences = [], {}
    for result in results:
        if result.ok:
            continue
        blocker = _blocking_dependency(result.name, by_name)
        if blocker:
            consequences[result.name] = blocker
        else:
            roots.append(result)
    findings = _merge([_finding(r, kinds) for r in roots])
    for slow in (r for r in results if r.ok and r.slow):
        findings.append(Finding(str(kinds.get(slow.kind, {}).get("domain", "unknown")), [slow.name],
                                f"{slow.name} answers slowly ({slow.latency_ms} ms)",
                                "watch the trend; check the link's utilisation and errors", "warning"))
    findings += _server_findings(server_health or {})
    status = "fault" if roots else ("degraded" if findings else "ok")
    diagnosis = Diagnosis(status, findings, [r.name for r in roots], consequences)
    diagnosis.summary = summarise(diagnosis, results)
    return diagnosis


def summarise(diagnosis: Diagnosis, results: Sequence[ProbeResult]) -> str:
    ok = sum(1 for r in results if r.ok)
    head = f"{diagnosis.status.upper()}: {ok}/{len(results)} probes answered"
    if diagnosis.status == "ok":
        return f"{head}; internet, LAN, DNS, VPN and servers look fine."
    lines = [head]
    for item in diagnosis.findings:
        lines.append(f"[{item.severity}] {item.domain}: {item.cause} -> {item.action}")
    if diagnosis.consequences:
        lines.append("also down as a consequence: " + ", ".join(
            f"{name} (behind {cause})" for name, cause in sorted(diagnosis.consequences.items())))
    return "\n".join(lines)
