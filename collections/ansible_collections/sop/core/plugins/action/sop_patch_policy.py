"""Action (runs on the controller): load and validate policies/patching.yml, and say whether now is inside a
maintenance window (runner.patch.policy). A malformed policy fails with one line naming file, line and problem."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ansible.plugins.action import ActionBase

from runner.errors import PolicyError
from runner.patch.policy import DEFAULT_PATH, load_patching_policy, window_status

ARGUMENT_SPEC = {
    "path": {"type": "path"},
    "now": {"type": "str"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        path = str(args.get("path") or DEFAULT_PATH)
        try:
            policy = load_patching_policy(path)
            now = dt.datetime.fromisoformat(args["now"]) if args.get("now") else None
        except PolicyError as exc:
            return {**result, "failed": True, "msg": str(exc)}
        except ValueError:
            return {**result, "failed": True, "msg": f"now={args['now']!r}: not an ISO date-time"}
        window = window_status(policy, now)
        result.update(changed=False, ansible_facts={"sop_patch_policy": policy, "sop_patch_window": window},
                      msg=f"patching policy {path}; {window['local_time']} {window['timezone']} is "
                          + (f"inside window {window['window']}" if window["inside"] else "outside every window"))
        return result
