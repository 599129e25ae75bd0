"""Action (runs on the controller): back up every network device of the play into the git config store.

One task for the whole play (``run_once``): netmiko (or, for NETCONF devices such as Junos, ncclient) sessions
in a bounded thread pool instead of one network_cli connection per device. Devices and credentials come from
the play's hostvars (inventory and vault). Returns ``sop_evidence`` (status ok/partial/failed, per-device
results, changed devices, unified diffs, commit, push, warnings) and ``failed_devices`` so a following task can
fail exactly those hosts; a device stored masked by rules the inventory chose (``network_mask_family``) is an
Ansible warning, and so is a failed push.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from runner.audit.redact import is_secret_key, is_vaulted
from runner.errors import SopError
from runner.network.backup import DEFAULT_STORE, run_backup
from runner.network.devices import device_from_vars

_HOSTVAR_KEYS = ("ansible_host", "ansible_port", "ansible_user", "ansible_password",
                 "ansible_become_password", "netmiko_device_type", "network_role", "netmiko_options",
                 "network_transport", "ansible_connection", "network_mask_family")


ARGUMENT_SPEC = {
    "devices": {"type": "list", "elements": "str"},
    "store": {"type": "path"},
    "workers": {"type": "int", "default": 16},
    "timeout": {"type": "int", "default": 20},
    "notify_command": {"type": "list", "elements": "str"},
    "run_id": {"type": "str"},
    "remote": {"type": "str"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def _secrets(self, name: str, task_vars: dict[str, Any]) -> list[str]:
        """Plain text of the host's vaulted and secret-looking vars: masked and looked for in its config."""
        hostvars = task_vars["hostvars"]
        host = hostvars[name]  # templated in this host's context (the task's templar is the first host's)
        raw = hostvars.raw_get(name) if hasattr(hostvars, "raw_get") else host
        found = []
        for key in list(raw):
            if key in _HOSTVAR_KEYS or not (is_secret_key(key) or is_vaulted(raw[key])):
                continue
            try:
                plain = host[key]
            except Exception:  # an undefined or undecryptable value: its plain text cannot be looked for
                continue
            if isinstance(plain, str):
                found.append(str(plain))
        return found

    def _device(self, name: str, task_vars: dict[str, Any]) -> Any:
        hostvars = task_vars["hostvars"][name]
        values = {}
        for key in _HOSTVAR_KEYS:
            if key in hostvars:
                values[key] = self._templar.template(hostvars[key])
        return device_from_vars(name, values, extra_secrets=self._secrets(name, task_vars))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        names = args.get("devices") or task_vars.get("ansible_play_hosts_all") or []
        if self._task.check_mode:
            return {**result, "changed": False, "skipped_reason": "check mode: nothing fetched or stored",
                    "msg": f"check mode: would back up {len(names)} devices"}
        try:
            devices = [self._device(name, task_vars) for name in names]
            backup = run_backup(devices, Path(args.get("store") or DEFAULT_STORE), run_id=args.get("run_id"),
                                workers=int(args.get("workers", 16)), timeout=float(args.get("timeout", 20)),
                                notify=args.get("notify_command"), remote=args.get("remote"))
        except SopError as exc:
            raise AnsibleActionFail(str(exc)) from None
        self._display.display(backup.summary())
        # Devices stored masked with rules the inventory chose (network_mask_family) and a failed push: Ansible
        # warnings, so the console, the run record and the report show them.
        warnings = [*result.get("warnings", []), *backup.warnings]
        if backup.push and not backup.push["ok"]:
            warnings.append(f"network config store not pushed to {backup.push['remote']}: {backup.push['error']}")
        if backup.push:
            result["push"] = backup.push
        return {**result, "changed": bool(backup.changed), "msg": backup.summary(), "status": backup.status,
                "failed_devices": backup.failed, "changed_devices": backup.changed, "commit": backup.commit,
                "sop_evidence": backup.evidence(), **({"warnings": warnings} if warnings else {})}
