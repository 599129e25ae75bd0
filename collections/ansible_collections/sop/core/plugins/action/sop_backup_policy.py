"""Action (runs on the controller): load policies/backup.yml, apply overrides, validate, set it as a fact.

A malformed policy fails the task with one line naming the file and every problem (runner.backup.policy).
"""

from __future__ import annotations

import copy
from typing import Any

from ansible.plugins.action import ActionBase

from runner.backup.policy import DEFAULT_PATH, load_backup_policy, validate_backup_policy
from runner.errors import PolicyError


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


ARGUMENT_SPEC = {
    "path": {"type": "path"},
    "overrides": {"type": "dict", "default": {}},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        path = str(args.get("path") or DEFAULT_PATH)
        overrides = args.get("overrides") or {}
        try:
            policy = load_backup_policy(path)
            if overrides:
                policy = validate_backup_policy({"backup_policy": _merge(policy, dict(overrides))},
                                                f"{path} (with backup_policy_overrides)")
        except PolicyError as exc:
            return {**result, "failed": True, "msg": str(exc)}
        result.update(changed=False, ansible_facts={"sop_backup_policy": policy},
                      msg=f"backup policy {path}" + (" with overrides" if overrides else ""))
        return result
