"""Network configuration backup (SOP 3): fetch, mask, store in git, diff, notify.

``run_backup`` is what the ``sop_network_backup`` action plugin (playbooks/network_backup.yml) and the
benchmark call. There is no separate command line: a backup runs through a playbook, so it is recorded.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner import execute
from runner.audit.store import new_run_id
from runner.network import leakscan, status
from runner.network.collect import DEFAULT_TIMEOUT, DEFAULT_WORKERS, Fetch, fetch_all
from runner.network.devices import Device
from runner.network.index import DIRNAME as INDEX_DIR
from runner.network.index import write_index
from runner.network.masking import choose, mask_config, unmasked_message
from runner.network.store import KINDS, ConfigStore, redact_url
from runner.paths import REPO_ROOT

DEFAULT_STORE = REPO_ROOT / "audit" / "network-configs"
MAX_DIFF_LINES = 200


@dataclass
class BackupResult:
    run_id: str
    status: str  # ok | partial | failed
    store: str
    commit: str | None
    devices: dict[str, dict[str, Any]]
    changed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)
    notified: bool = False
    push: dict[str, Any] | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # per device: stored masked by rules the inventory chose

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "partial": 2, "failed": 1}[self.status]

    def evidence(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "status": self.status, "store": self.store, "commit": self.commit,
                "devices": self.devices, "changed": self.changed, "failed": self.failed, "diffs": self.diffs,
                "notified": self.notified, "push": self.push, "seconds": self.seconds, "warnings": self.warnings}

    def summary(self) -> str:
        ok = len(self.devices) - len(self.failed)
        failed = ", ".join(f"{n} ({self.devices[n]['error_kind']})" for n in self.failed) or "none"
        pushed = ""
        if self.push:
            pushed = "; pushed" if self.push["ok"] else f"; push FAILED: {self.push['error']}"
        warned = f"; {len(self.warnings)} warning(s)" if self.warnings else ""
        return (f"network backup {self.run_id}: {self.status} - {ok}/{len(self.devices)} devices backed up, "
                f"changed: {_names(self.changed)}; failed: {failed}; commit {self.commit}{pushed}{warned}")


def _names(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit]) or "none"
    return f"{shown} (+{len(names) - limit} more)" if len(names) > limit else shown


def default_run_id() -> str:
    return os.environ.get("SOP_RUN_ID") or new_run_id()


def _trim(diff: str) -> str:
    lines = diff.splitlines()
    if len(lines) <= MAX_DIFF_LINES:
        return diff
    more = f"... ({len(lines) - MAX_DIFF_LINES} more lines in the store)"
    return "\n".join([*lines[:MAX_DIFF_LINES], more])


def _failed(base: dict[str, Any], error_kind: str | None, error: str | None) -> dict[str, Any]:
    # A warning says how a stored configuration was masked: a device not stored has none.
    return {**base, "status": "failed", "warnings": [], "error_kind": error_kind, "error": error}


def _masked(device: Device, fetched: Fetch, family: str) -> tuple[dict[str, str], str | None]:
    """Each kind's configuration masked, and the leak-scan verdict (None: nothing suspect)."""
    masked = {kind: mask_config(fetched.outputs[kind], device.device_type, device.secrets, family_name=family)
              for kind in KINDS if kind in fetched.outputs}
    for kind, text in masked.items():
        suspects = leakscan.scan(text, device.secrets, credentials=(device.password, device.secret))
        if suspects:
            return masked, leakscan.leak_message(device.name, kind, suspects)
    return masked, None


def _record(store: ConfigStore, device: Device, fetched: Fetch) -> dict[str, Any]:
    """Mask, scan and store one device's configurations; nothing is written for a device that fails."""
    choice = choose(device.name, device.device_type, device.mask_family)
    base = {"device_type": device.device_type, "transport": device.transport, "mask_family": choice.family,
            "warnings": [choice.warning] if choice.warning else [], "seconds": fetched.seconds}
    if choice.family is None:  # an unknown vendor: refused before anything else, reachable or not
        return _failed(base, "unmasked", unmasked_message(device.name, device.device_type))
    if not fetched.ok:
        return _failed(base, fetched.error_kind, fetched.error)
    masked, leak = _masked(device, fetched, choice.family)
    if leak:
        return _failed(base, "leak", leak)
    for kind, text in masked.items():
        store.write(device.name, kind, text)
    return {**base, "status": "ok"}


def _diffs(store: ConfigStore, ok_devices: Sequence[str]) -> dict[str, str]:
    tracked, staged = store.tracked(), store.staged_diffs()
    diffs = {}
    for name in ok_devices:
        parts = []
        for kind in KINDS:
            path = f"{kind}/{name}.cfg"
            if path in staged:
                parts.append(staged[path] if path in tracked else f"(first backup of {path})")
        if parts:
            diffs[name] = _trim("\n".join(parts))
    return diffs


def _notify(hook: Sequence[str], result: BackupResult) -> bool:
    """Run the change-notification hook with the changed devices in its environment and the diffs on stdin."""
    text = "\n".join(f"### {name}\n{diff}" for name, diff in result.diffs.items())
    env = {"SOP_RUN_ID": result.run_id, "SOP_NETWORK_CHANGED": ",".join(result.changed),
           "SOP_NETWORK_STORE": result.store, "SOP_NETWORK_COMMIT": result.commit or ""}
    completed = execute.run(list(hook), env=env, input_text=text, check=False, timeout=60)
    return completed.returncode == 0


def run_backup(devices: Sequence[Device], store_path: Path | str = DEFAULT_STORE, *,
               run_id: str | None = None,
               workers: int = DEFAULT_WORKERS, timeout: float = DEFAULT_TIMEOUT,
               notify: Sequence[str] | None = None, remote: str | None = None) -> BackupResult:
    """Back up every device concurrently, store masked configs with the status and index, commit once naming
    the run id, then push to ``remote`` (a failed push is reported, not fatal)."""
    started = time.monotonic()
    run_id = run_id or default_run_id()
    store = ConfigStore(Path(store_path))
    store.ensure()
    fetched = fetch_all(devices, workers=workers, timeout=timeout)
    records = {d.name: _record(store, d, f) for d, f in zip(devices, fetched, strict=True)}
    store.stage()
    ok = [name for name, rec in records.items() if rec["status"] == "ok"]
    failed = sorted(name for name, rec in records.items() if rec["status"] != "ok")
    diffs = _diffs(store, ok)
    for name, record in records.items():
        record["changed"] = name in diffs
    outcome = "ok" if not failed else ("partial" if ok else "failed")
    changed = sorted(diffs)
    _write_status_and_index(store, records, diffs, run_id, remote)
    message = (f"network backup run {run_id}: {outcome}; {len(ok)}/{len(records)} backed up; "
               f"changed: {_names(changed)}; failed: {', '.join(failed) or 'none'}")
    commit = store.commit(message)
    result = BackupResult(run_id, outcome, str(store.path), commit, records, changed, failed, diffs)
    result.warnings = [warning for record in records.values() for warning in record["warnings"]]
    if changed and notify:
        result.notified = _notify(notify, result)
    if remote:
        result.push = store.push(remote)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _write_status_and_index(store: ConfigStore, records: dict[str, dict[str, Any]], diffs: dict[str, str],
                            run_id: str, remote: str | None) -> None:
    at = status.now_iso()
    devices = status.update(store.path, records, run_id, at)
    write_index(store.path, devices, diffs, run_id=run_id, at=at, remote=remote and redact_url(remote))
    store.stage(status.FILENAME, INDEX_DIR)
