"""Per-device backup status (last success, last failure, last change), as Oxidized's node status.

``status.json`` lives in the config store and is committed with each run, so the record's commit id pins it
(and ``sop audit verify`` checks it like the configurations). ``sop check --network`` and the monthly report
read it through :func:`load`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from runner.errors import ConfigError

FILENAME = "status.json"
STALE_AFTER = timedelta(hours=36)  # a daily backup missed once is "stale", not yet "failing"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load(store: Path) -> dict[str, dict[str, Any]]:
    """The devices' status; empty for a store that has none yet."""
    path = Path(store) / FILENAME
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable status file ({exc})") from None
    devices = data.get("devices") if isinstance(data, dict) else None
    if not isinstance(devices, dict):
        raise ConfigError(f"{path}: no 'devices' mapping")
    return devices


def _updated(previous: Mapping[str, Any], record: Mapping[str, Any], run_id: str, at: str) -> dict[str, Any]:
    entry = dict(previous)
    entry["last_attempt"] = {"at": at, "run_id": run_id, "status": record["status"]}
    if record["status"] == "ok":
        entry["last_success"] = {"at": at, "run_id": run_id}
        entry["consecutive_failures"] = 0
        entry.pop("failing_since", None)
        if record.get("changed"):
            entry["last_change"] = {"at": at, "run_id": run_id}
    else:
        entry["last_failure"] = {"at": at, "run_id": run_id, "error_kind": record.get("error_kind"),
                                 "error": record.get("error")}
        entry["consecutive_failures"] = int(entry.get("consecutive_failures", 0)) + 1
        entry.setdefault("failing_since", at)
    for key in ("device_type", "mask_family"):
        if record.get(key):
            entry[key] = record[key]
    return entry


def update(store: Path, records: Mapping[str, Mapping[str, Any]], run_id: str,
           at: str | None = None) -> dict[str, dict[str, Any]]:
    """Merge one run's per-device records into ``status.json`` (devices not in the run keep theirs)."""
    at = at or now_iso()
    devices = load(store)
    for name, record in records.items():
        devices[name] = _updated(devices.get(name, {}), record, run_id, at)
    document = {"updated": at, "run_id": run_id, "devices": dict(sorted(devices.items()))}
    path = Path(store) / FILENAME
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
    return devices


def health(entry: Mapping[str, Any], now: datetime | None = None) -> str:
    """ok | failing (the last attempt failed) | stale (no success for STALE_AFTER) | never (no success at all)."""
    now = now or datetime.now(UTC)
    success = (entry.get("last_success") or {}).get("at")
    if (entry.get("last_attempt") or {}).get("status") not in (None, "ok"):
        return "failing"
    if not success:
        return "never"
    when = datetime.strptime(success, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return "stale" if now - when > STALE_AFTER else "ok"


def describe(name: str, entry: Mapping[str, Any] | None, now: datetime | None = None) -> str:
    """One line for the console: the device's backup health with its dates."""
    if not entry:
        return f"{name}: no backup recorded"
    state = health(entry, now)
    success = (entry.get("last_success") or {}).get("at", "never")
    text = f"{name}: backup {state} (last success {success}"
    failure = entry.get("last_failure")
    if failure and state == "failing":
        since = entry.get("failing_since", failure["at"])
        text += (f"; failing since {since}, {entry.get('consecutive_failures', 1)} run(s): "
                 f"{failure.get('error_kind')}: {failure.get('error')}")
    return text + ")"
