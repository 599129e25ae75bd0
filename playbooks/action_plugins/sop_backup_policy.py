"""Action (runs on the controller): load policies/backup.yml, apply overrides, validate, set it as a fact.

A malformed policy fails the task with one line naming the file and every problem (runner.backup.policy).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase

try:
    from runner.backup.policy import DEFAULT_PATH, load_backup_policy, validate_backup_policy
    from runner.errors import PolicyError
except ImportError:  # ansible run from a Python without the project installed: use the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from runner.backup.policy import DEFAULT_PATH, load_backup_policy, validate_backup_policy
    from runner.errors import PolicyError

DOCUMENTATION = r"""
---
module: sop_backup_policy
short_description: Load and validate the backup policy (policies/backup.yml)
options:
  path:
    description: Policy file; default policies/backup.yml of the checkout.
    type: path
  overrides:
    description: Values merged over the file (same structure under backup_policy), validated too.
    type: dict
    default: {}
"""


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
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
