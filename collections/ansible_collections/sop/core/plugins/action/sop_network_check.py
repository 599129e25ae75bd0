"""Action (runs on the controller): the morning network check (SOP 3.2/3.3).

Runs the estate's probes (``network_check_probes``) from the controller, the monitoring station, reads the
daily server-health results of the same run (``server_health`` hostvars), localises failures to ISP / router /
switch / user / server with a recommended action, and returns it all as ``sop_evidence`` with a short summary.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from runner.errors import SopError
from runner.network.diagnosis import diagnose
from runner.network.policy import PROBES_PATH, load_check_policy, validate_probes
from runner.network.probes import Probe, run_probes

ARGUMENT_SPEC = {
    "probes": {"type": "list", "elements": "dict", "required": True},
    "policy": {"type": "path"},
    "server_hosts": {"type": "list", "elements": "str", "default": []},
    "fail_on_fault": {"type": "bool", "default": True},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars or {})
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
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
