"""Action (runs on the controller): the morning network check (SOP 3.2/3.3).

Runs the estate's probes (``network_check_probes``) from the controller, the monitoring station, reads the
daily server-health results of the same run (``server_health`` hostvars), localises failures to ISP / router /
switch / user / server with a recommended action, and returns it all as ``sop_evidence`` with a short summary.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

try:
    from runner.errors import SopError
    from runner.network.diagnosis import diagnose
    from runner.network.policy import PROBES_PATH, load_check_policy, validate_probes
    from runner.network.probes import Probe, run_probes
except ImportError:  # ansible run from a Python without the project installed: use the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from runner.errors import SopError
    from runner.network.diagnosis import diagnose
    from runner.network.policy import PROBES_PATH, load_check_policy, validate_probes
    from runner.network.probes import Probe, run_probes

DOCUMENTATION = r"""
---
module: sop_network_check
short_description: Probe the network, diagnose the fault domain, summarise for the morning
options:
  probes:
    description: Probe targets (name, kind, type tcp|ssh|dns, host, port, expect, query, depends_on).
    type: list
    elements: dict
    required: true
  policy:
    description: Probe kinds policy; default policies/network/probes.yml.
    type: path
  server_hosts:
    description: Hosts whose registered C(server_health) (sop_server_health, same run) joins the diagnosis.
    type: list
    elements: str
    default: []
  fail_on_fault:
    description: Fail the task when a fault is localised (so a scheduled run alerts).
    type: bool
    default: true
"""


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars or {})
        args = self._task.args
        try:
            policy = load_check_policy(args.get("policy") or PROBES_PATH)
            raw = list(args.get("probes") or [])
            validate_probes(raw, policy["kinds"])
        except SopError as exc:
            raise AnsibleActionFail(str(exc)) from None
        probes = [Probe.from_dict(p, {**policy["defaults"], **_kind_defaults(policy, p["kind"])})
                  for p in raw]
        results = run_probes(probes)
        health = self._server_health(args.get("server_hosts") or [], task_vars or {})
        diagnosis = diagnose(results, policy["kinds"], health)
        checked = datetime.now(UTC).isoformat(timespec="seconds")
        summary = f"Morning network check {checked}: {diagnosis.summary}"
        self._display.display(summary)
        evidence = {"checked": checked, "vantage": "controller", "status": diagnosis.status,
                    "servers": health,
                    "probes": [r.as_dict() for r in results], "diagnosis": diagnosis.as_dict(),
                    "summary": summary}
        failed = diagnosis.status == "fault" and bool(args.get("fail_on_fault", True))
        return {**result, "changed": False, "failed": failed, "msg": summary, "status": diagnosis.status,
                "domains": diagnosis.domains, "sop_evidence": evidence}

    def _server_health(self, hosts: list[str], task_vars: dict[str, Any]) -> dict[str, Any]:
        health = {}
        hostvars = task_vars.get("hostvars", {})
        for host in hosts:
            registered = hostvars[host].get("server_health") if host in hostvars else None
            if registered:
                registered = self._templar.template(registered)
                if isinstance(registered, dict) and "sop_evidence" in registered:
                    health[host] = registered["sop_evidence"]
        return health


def _kind_defaults(policy: dict[str, Any], kind: str) -> dict[str, Any]:
    threshold = policy["kinds"].get(kind, {}).get("latency_warn_ms")
    return {"latency_warn_ms": threshold} if threshold else {}
