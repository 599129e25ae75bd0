"""Action (runs on the controller): the production change gate (runner.change.gate), for roles/change_gate."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ansible import context
from ansible.plugins.action import ActionBase

from runner.audit.identity import detect_operator
from runner.change.gate import GateRequest, decide, normalise_approvals, operator_names
from runner.settings import audit_dir


def _hosts_of(groups: dict[str, list[str]], names: list[str]) -> frozenset[str]:
    return frozenset(host for name in names for host in groups.get(name, []))


def _running_playbook() -> str:
    args = context.CLIARGS.get("args") or ()
    return Path(args[0]).name if args else ""


ARGUMENT_SPEC = {
    "protected_groups": {"type": "list", "elements": "str", "default": ["production"]},
    "staging_groups": {"type": "list", "elements": "str", "default": ["staging"]},
    "approver_roles": {"type": "list", "elements": "str", "default": ["it_manager"]},
    "require_staging": {"type": "bool", "default": True},
    "staging_max_age_hours": {"type": "float"},
    "change_ref": {"type": "str"},
    "approvals": {"type": "dict"},
    "playbook": {"type": "str"},
    "audit_dir": {"type": "path"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        groups = task_vars.get("groups", {})
        playbook = args.get("playbook") or _running_playbook()
        change_ref = str(args.get("change_ref") or task_vars.get("sop_change_ref")
                         or os.environ.get("SOP_CHANGE_REF") or "").strip()
        approvals = normalise_approvals(os.environ.get("SOP_APPROVALS"), task_vars.get("sop_approvals"),
                                        args.get("approvals"))
        request = GateRequest(
            playbook=playbook,
            targets=tuple(task_vars.get("ansible_play_hosts_all", [])),
            protected_hosts=_hosts_of(groups, list(args.get("protected_groups", ["production"]))),
            staging_hosts=_hosts_of(groups, list(args.get("staging_groups", ["staging"]))),
            change_ref=change_ref,
            approvals=approvals,
            approver_roles=tuple(args.get("approver_roles", ["it_manager"])),
            # stdin is closed in an ansible worker: do not probe the TTY; only the names matter here.
            operator_names=operator_names(detect_operator(interactive=False)),
            check_mode=bool(task_vars.get("ansible_check_mode")),
            require_staging=bool(args.get("require_staging", True)),
            audit_dir=audit_dir(args.get("audit_dir")),
            staging_max_age_hours=args.get("staging_max_age_hours"),
        )
        decision = decide(request)
        result["changed"] = False
        result["msg"] = decision.message(playbook)
        result["sop_evidence"] = {"change_gate": {
            "allowed": decision.allowed, "protected_targets": decision.protected_targets,
            "change_ref": change_ref or None, "approvals": approvals, "reasons": decision.reasons,
            "staging_run": decision.staging_run, "check_mode": request.check_mode}}
        if not decision.allowed:
            result["failed"] = True
        return result
