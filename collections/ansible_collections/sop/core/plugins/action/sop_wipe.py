"""Action (runs on the controller): SOP 2.6, sanitize a returned asset's disk and certify it.

``phase: gate`` checks approval, the register and the policy on the controller, then the device on the target
(identity, not mounted/root/in use) without writing. ``phase: wipe`` checks everything again, runs
sop.core.sop_sanitize on the target, then signs and seals the certificate and moves the asset to
``sanitized`` and on to its destination. A refusal writes nothing anywhere.
"""

from __future__ import annotations

import os
from typing import Any

from ansible.plugins.action import ActionBase

from runner.assets import Register
from runner.assets.certificate import new_certificate_id
from runner.assets.certificate import write as write_certificate
from runner.assets.policy import load_assets_policy
from runner.assets.wipe import WipeRequest, certificate_document, plan
from runner.audit.identity import detect_operator
from runner.change.gate import normalise_approvals, operator_names
from runner.errors import SopError

TOOL_VERSION = "0.1.0"
ARGUMENT_SPEC = {
    "tag": {"type": "str", "required": True},
    "device": {"type": "str", "default": ""},
    "disk_index": {"type": "int", "default": 0},
    "confirm_serial": {"type": "str", "default": ""},
    "approvals": {"type": "dict", "default": {}},
    "operator": {"type": "str", "default": ""},
    "destination": {"type": "str", "default": "in_stock"},
    "phase": {"type": "str", "default": "wipe", "choices": ["gate", "wipe"]},
    "seed": {"type": "int"},
    "policy": {"type": "path"},
    "db": {"type": "path"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        operator = detect_operator(interactive=False)
        request = WipeRequest(
            tag=args["tag"], device=str(args.get("device") or "").strip(), disk_index=int(args["disk_index"]),
            confirm_serial=str(args.get("confirm_serial") or "").strip(),
            approvals=normalise_approvals(os.environ.get("SOP_APPROVALS"), task_vars.get("sop_approvals"),
                                          args.get("approvals")),
            operator_names=operator_names(operator, [args.get("operator") or ""]),
            operator=str(args.get("operator") or operator.get("user") or operator.get("os_user") or "unknown"),
            destination=args["destination"])
        try:
            policy = load_assets_policy(args.get("policy"))
            with Register.configured(args.get("db")) as register:
                decision = plan(request, register.find(request.tag), policy)
        except SopError as exc:
            return {**result, "failed": True, "changed": False, "refused": True, "msg": str(exc)}
        evidence: dict[str, Any] = {"tag": request.tag, "device": request.device or None, "phase": args["phase"],
                                    "allowed": decision.allowed, "reasons": decision.reasons,
                                    "approver": decision.approver, "operator": request.operator,
                                    "method": decision.method}
        result["sop_evidence"] = {"wipe": evidence}
        if not decision.allowed:
            return {**result, "failed": True, "changed": False, "refused": True, "msg": decision.message(request.tag)}
        disk = decision.disk
        if disk is None:  # plan() allows only with a disk
            raise RuntimeError("wipe allowed without a disk")
        verify = policy["sanitization"]["verify"]
        module_args = {"device": request.device, "expected_serial": disk.serial, "expected_model": disk.model,
                       "confirm_serial": request.confirm_serial, "verify": verify["mode"],
                       "subsections": verify["subsections"], "samples_per_subsection": verify["samples_per_subsection"],
                       "sample_bytes": verify["sample_bytes"],
                       "gates_only": args["phase"] == "gate" or bool(self._task.check_mode)}
        if args.get("seed") is not None:
            module_args["seed"] = args["seed"]
        target = self._execute_module(module_name="sop.core.sop_sanitize", module_args=module_args,
                                      task_vars=task_vars)
        evidence["device_identity"] = target.get("device")
        if target.get("failed") or not target.get("changed"):
            evidence["allowed"] = not target.get("refused")
            if target.get("refused"):
                evidence["reasons"] = [str(target.get("msg"))]
            return {**result, **{k: v for k, v in target.items() if k in {"failed", "msg", "refused", "device"}},
                    "changed": False}
        return self._certify(result, evidence, decision, request, target,
                             host=str(task_vars.get("inventory_hostname")), db=args.get("db"))

    def _certify(self, result: dict[str, Any], evidence: dict[str, Any], decision: Any, request: WipeRequest,
                 target: dict[str, Any], *, host: str, db: str | None) -> dict[str, Any]:
        run_id = os.environ.get("SOP_RUN_ID", "")
        document = certificate_document(
            certificate_id=new_certificate_id(request.tag), wipe=decision, request=request,
            host=host, module_result=target, tool_version=TOOL_VERSION,
            run_id=run_id)
        evidence["verification"] = document["verification"]
        if document["verification"]["result"] != "pass":
            return {**result, "failed": True, "changed": True, "msg": f"{request.tag}: verification FAILED: "
                    f"non-zero data at {document['verification']['mismatches']}; the asset stays returned"}
        paths = write_certificate(document, run_id=run_id)
        actor = request.operator
        with Register.configured(db) as register:
            register.apply(request.tag, "sanitize", {"notes": f"sanitized: certificate {document['certificate_id']}"},
                           actor=actor, run_id=run_id)
            final = register.apply(request.tag, "restock" if request.destination == "in_stock" else "retire",
                                   {"assignee_name": "", "assignee_id": "", "assignee_username": "",
                                    "department": "", "assigned_date": ""}, actor=actor, run_id=run_id)
        evidence["certificate"] = {"id": document["certificate_id"], **{k: str(v) for k, v in paths.items()}}
        evidence["status"] = final.after["status"]
        result.update(changed=True, certificate=evidence["certificate"], sanitization=target.get("sanitization"),
                      msg=f"{request.tag}: {target.get('msg')}; certificate {document['certificate_id']}; "
                          f"asset now {final.after['status']}")
        return result
