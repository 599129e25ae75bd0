"""Action (runs on the controller): change the asset register through its one API (runner.assets.Register).

The change (fields before and after, history id) is returned as ``sop_evidence`` so it lands in the run
record; check mode computes it without writing.
"""

from __future__ import annotations

import os
from typing import Any

from ansible.plugins.action import ActionBase

from runner.assets import ACTIONS, Register
from runner.errors import SopError

ARGUMENT_SPEC = {
    "tag": {"type": "str", "required": True},
    "action": {"type": "str", "default": "update", "choices": sorted(ACTIONS)},
    "changes": {"type": "dict", "default": {}},
    "require_status": {"type": "list", "elements": "str", "default": []},
    "actor": {"type": "str", "default": ""},
    "db": {"type": "path"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        check = bool(self._task.check_mode)
        try:
            with Register.configured(args.get("db")) as register:
                if check and args["action"] not in {"create", "import"} and register.find(args["tag"]) is None:
                    result.update(changed=True, msg=f"asset {args['tag']}: {args['action']}: would apply once "
                                                    "the asset is registered (check mode; no changes)")
                    return result
                change = register.apply(args["tag"], args["action"], dict(args.get("changes") or {}),
                                        actor=args.get("actor") or "", run_id=os.environ.get("SOP_RUN_ID", ""),
                                        check=check, require_status=args.get("require_status") or ())
        except SopError as exc:
            return {**result, "failed": True, "changed": False, "msg": str(exc)}
        verb = "would change" if check else "changed"
        result.update(
            changed=change.changed, asset=change.after, sop_evidence={"asset_change": change.evidence()},
            msg=(f"asset {change.tag}: {change.action}: {verb} {', '.join(change.fields)}" if change.changed
                 else f"asset {change.tag}: {change.action}: already up to date"))
        return result
