"""Action (runs on the controller): SOP 2.4 / SOP 3.4, the maintenance's policy and its record.

``phase: plan`` returns the validated maintenance policy for the host (cadence by its groups, the cleanup
limits). ``phase: record`` writes the maintenance into the asset register through its one API: the host's asset
(found by hostname; a host with none, such as a server, gets an entry of its own, so its next due date is
tracked the same way) gets ``last_maintenance`` and ``next_maintenance_due``; the findings of the checks come
back as ``sop_evidence``. The same day twice changes nothing; check mode writes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from ansible.plugins.action import ActionBase

from runner.assets import Register
from runner.assets.policy import cadence_days, load_assets_policy
from runner.errors import ConfigError, SopError

ARGUMENT_SPEC = {
    "phase": {"type": "str", "default": "record", "choices": ["plan", "record"]},
    "host": {"type": "str", "required": True},
    "groups": {"type": "list", "elements": "str", "default": []},
    "findings": {"type": "dict", "default": {}},
    "date": {"type": "str", "default": ""},
    "policy": {"type": "path"},
    "db": {"type": "path"},
}
NO_CLEANUP = {"paths": [], "older_than_days": 1, "max_files": 1}  # a policy without a cleanup section


def maintenance_day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else dt.datetime.now(dt.UTC).date()
    except ValueError:
        raise ConfigError(f"maintenance date {value!r}: not a date (YYYY-MM-DD)") from None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            policy = load_assets_policy(args.get("policy"))
            day = maintenance_day(args["date"])
            days = cadence_days(policy, list(args["groups"]))
            plan = {"cadence_days": days, "date": day.isoformat(),
                    "next_due": (day + dt.timedelta(days=days)).isoformat(),
                    "cleanup": policy["maintenance"].get("cleanup") or NO_CLEANUP}
            if args["phase"] == "plan":
                return {**result, "changed": False, "maintenance": plan}
            return self._record(result, args, plan)
        except SopError as exc:
            return {**result, "failed": True, "changed": False, "msg": str(exc)}

    def _record(self, result: dict[str, Any], args: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
        host, check = args["host"], bool(self._task.check_mode)
        server = "servers" in args["groups"] or "production" in args["groups"] or "staging" in args["groups"]
        changes = {"last_maintenance": plan["date"], "next_maintenance_due": plan["next_due"]}
        run_id = os.environ.get("SOP_RUN_ID", "")
        with Register.configured(args.get("db")) as register:
            asset = register.find_by_hostname(host)
            if asset is None:  # tracked like the laptops: an entry of its own, named by the host
                change = register.apply(host, "create", {"hostname": host, "type": "server" if server else
                                                         "workstation", **changes}, actor="maintenance",
                                        run_id=run_id, check=check)
            else:
                change = register.apply(asset.tag, "maintain", changes, actor="maintenance", run_id=run_id,
                                        check=check)
        evidence = {"host": host, "asset": change.tag, **plan, "findings": args["findings"],
                    "register": change.evidence()}
        result.update(changed=change.changed, maintenance=evidence, sop_evidence={"maintenance": evidence},
                      msg=f"{host} ({change.tag}): maintained {plan['date']}, next due {plan['next_due']} "
                          f"(every {plan['cadence_days']} days)")
        return result
