"""The production change gate: decide whether a run may change protected hosts.

A run that would change a host of a protected group (production) needs, per the install/update SOP:
- a change reference (the approved work plan, upd1.3);
- the approval of every approver role (the IT manager), by someone other than the operator (ISO 5.3);
- evidence that the same change succeeded on staging first (upd2.3): a successful, non-check run of the same
  playbook under the same change ref on staging hosts, whose record is sealed in the signed audit ledger.
Check mode (a dry run) changes nothing and needs none of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.audit.evidence import find_sealed_run


@dataclass(frozen=True)
class GateRequest:
    playbook: str
    targets: tuple[str, ...]
    protected_hosts: frozenset[str]
    staging_hosts: frozenset[str]
    change_ref: str
    approvals: Mapping[str, str]
    approver_roles: tuple[str, ...]
    operator_names: frozenset[str]
    check_mode: bool
    require_staging: bool
    audit_dir: Path
    staging_max_age_hours: float | None = None  # a staging success counts this long (policies/patching.yml)


@dataclass
class GateDecision:
    allowed: bool
    protected_targets: list[str]
    reasons: list[str] = field(default_factory=list)
    staging_run: str | None = None

    def message(self, playbook: str) -> str:
        if not self.allowed:
            return (f"REFUSED: {playbook} would change protected hosts ({', '.join(self.protected_targets)}): "
                    + "; ".join(self.reasons))
        if not self.protected_targets:
            return "no protected (production) host targeted"
        return (f"change to {', '.join(self.protected_targets)} allowed"
                + (f"; staging evidence: run {self.staging_run}" if self.staging_run else ""))


def normalise_approvals(*sources: Mapping[str, Any] | str | None) -> dict[str, str]:
    """Merge role -> name mappings (JSON text or dicts; later wins); roles lower-case with '_' for '-' and ' '."""
    merged: dict[str, str] = {}
    for source in sources:
        data = json.loads(source) if isinstance(source, str) and source.strip() else source
        if isinstance(data, Mapping):
            for role, name in data.items():
                if str(name).strip():
                    merged[str(role).lower().replace("-", "_").replace(" ", "_")] = str(name).strip()
    return merged


def decide(request: GateRequest) -> GateDecision:
    protected = sorted(h for h in request.targets if h in request.protected_hosts)
    decision = GateDecision(allowed=True, protected_targets=protected)
    if not protected or request.check_mode:
        return decision
    reasons = decision.reasons
    if not request.change_ref:
        reasons.append("no change reference (--change-ref / sop_change_ref)")
    for role in request.approver_roles:
        name = request.approvals.get(role)
        if not name:
            reasons.append(f"no approval by {role} (--approved-by {role}=NAME)")
        elif name.lower() in request.operator_names:
            reasons.append(f"{role} approval by {name}, who is the operator of this run (segregation of duties)")
    if request.require_staging and request.change_ref:
        run = find_sealed_run(request.audit_dir, playbook=request.playbook, change_ref=request.change_ref,
                              hosts=request.staging_hosts, max_age_hours=request.staging_max_age_hours)
        if run is None:
            within = (f" within the last {request.staging_max_age_hours:g} h" if request.staging_max_age_hours
                      else "")
            reasons.append(f"no successful run of {request.playbook} under {request.change_ref} on staging "
                           f"({', '.join(sorted(request.staging_hosts)) or 'no staging hosts'}) sealed in the "
                           f"audit ledger{within}")
        else:
            decision.staging_run = run
    decision.allowed = not reasons
    return decision


def operator_names(operator: Mapping[str, Any], extra: Iterable[str] = ()) -> frozenset[str]:
    names = {str(operator.get(k, "")).lower() for k in ("user", "os_user", "sudo_user", "name")}
    return frozenset(n for n in names | {e.lower() for e in extra} if n and n != "none")
