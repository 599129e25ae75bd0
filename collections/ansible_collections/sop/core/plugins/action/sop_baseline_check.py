"""Action plugin: probe a host read-only (module sop_baseline_probe), judge each control on the controller.

The verdicts are returned as ``sop_evidence`` so the audit callback stores them in the run record, and are
written to ``output_dir/<host>.json`` when `sop check` asks for it (controller-side files only).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


def _default_spec(inventory_dir: str | None) -> dict[str, Any]:
    """Standalone use (ansible-playbook playbooks/check.yml): the catalogue, policies/waivers.yml and the
    waivers.yml beside the host's inventory."""
    from runner.policy.catalogue import load_catalogue
    from runner.policy.waivers import default_waiver_files, load_waivers

    catalogue = load_catalogue()
    inventory = Path(inventory_dir) if inventory_dir else None
    waivers = load_waivers(default_waiver_files(inventory), set(catalogue.controls))
    return {
        "controls": [c.to_dict() for c in catalogue.controls.values()],
        "waivers": [w.to_dict() for w in waivers],
        "today": dt.datetime.now(dt.UTC).date().isoformat(),
    }


def _evidence(verdicts: list[dict[str, Any]]) -> dict[str, Any]:
    """Per control: status, message, and seen/required as [name, value] pairs.

    Pairs, not mappings: setting names such as PasswordAuthentication or PASS_MAX_DAYS look like secrets to
    the audit redactor, which masks values by key; as list items the evidence stays readable in the ledger.
    """
    return {
        v["control"]: {
            "status": v["status"],
            "message": v["message"],
            "seen": [[k, val] for k, val in v.get("seen", {}).items()],
            "required": [[k, val] for k, val in v.get("required", {}).items()],
        }
        for v in verdicts
    }


ARGUMENT_SPEC = {
    "spec": {"type": "path"},
    "output_dir": {"type": "path"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        from runner.check.evaluate import evaluate_host, probe_request

        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        spec_path = args.get("spec")
        spec = json.loads(Path(spec_path).read_text()) if spec_path else _default_spec(task_vars.get("inventory_dir"))
        host = task_vars["inventory_hostname"]
        groups = list(task_vars.get("group_names", []))
        applicable = [c for c in spec["controls"] if "all" in c["applies_to"] or set(c["applies_to"]) & set(groups)]
        probe = self._execute_module(
            module_name="sop.core.sop_baseline_probe", module_args=probe_request(applicable), task_vars=task_vars
        )
        facts, error = probe.get("facts"), None
        if probe.get("failed") or facts is None:
            error = f"probe failed: {probe.get('msg', 'no facts returned')}"
            facts = None
        verdicts = evaluate_host(
            host,
            groups,
            spec["controls"],
            facts,
            waivers=spec["waivers"],
            today=dt.date.fromisoformat(spec["today"]),
            probe_error=error,
        )
        self._write(host, verdicts, args.get("output_dir"))
        summary = " ".join(
            f"{s}={sum(v['status'] == s for v in verdicts)}"
            for s in ("pass", "fail", "error", "waived", "not_applicable")
        )
        result.update(
            changed=False,
            verdicts=verdicts,
            summary=summary,
            sop_evidence={
                "kind": "security_baseline_check",
                "summary": summary,
                "controls": _evidence(verdicts),
            },
        )
        if error:
            result.update(failed=True, msg=error)
        return result

    def _write(self, host: str, verdicts: list[dict[str, Any]], output_dir: str | None) -> None:
        if not output_dir:
            return
        target = Path(output_dir) / f"{host}.json"
        tmp = target.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(verdicts, indent=1, default=str))
            os.replace(tmp, target)
        except OSError as exc:
            raise AnsibleActionFail(f"cannot write {target}: {exc}") from exc
