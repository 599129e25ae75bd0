"""Golden-config drift (SOP 3.1): each device's running configuration against its role's fragments.

``sop check --network`` calls :func:`cli_check`; the lines printed and stored are masked like the backups. Each
device also shows its backup health from the config store's ``status.json`` (runner.network.status).
Devices reached over NETCONF (Junos) are reported ``skipped`` and not fetched: the fragments are CLI lines and
their configuration is XML, so a line match would report every fragment missing. They do not fail the check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner import settings
from runner.network import status as backup_status
from runner.network.collect import DEFAULT_WORKERS, Fetch, fetch_all
from runner.network.devices import Device, load_devices
from runner.network.masking import GENERIC, choose, mask_config
from runner.network.policy import load_golden


@dataclass
class DeviceDrift:
    device: str
    role: str | None
    status: str  # compliant | drift | unreachable | no_role | skipped
    missing: list[dict[str, str]] = field(default_factory=list)
    forbidden: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    backup: dict[str, Any] | None = None  # health and dates of the device's last config backups
    note: str | None = None


SKIPPED_NETCONF = "not checked: its configuration comes over NETCONF (XML) and the golden fragments are CLI lines"


def vendor(device_type: str) -> str:
    """The vendor key of the golden fragments (``vendors: [cisco, arista...]``): the netmiko type's prefix."""
    return device_type.split("_", 1)[0].lower()


def _matches(pattern: str, line: str, regex: bool) -> bool:
    return bool(re.search(pattern, line)) if regex else line == pattern.strip()


def fragments_for(role: str | None, vendor: str, golden: Mapping[str, Any]) -> list[dict[str, Any]]:
    by_id = {f["id"]: f for f in golden["fragments"]}
    ids = golden["roles"].get(role or "", [])
    return [by_id[i] for i in ids if vendor in by_id[i].get("vendors", [vendor])]


def compare(config: str, fragments: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, str]],
                                                                            list[dict[str, str]]]:
    """(missing required lines, present forbidden lines) of ``config`` against ``fragments``."""
    lines = [line.strip() for line in config.splitlines() if line.strip()]
    missing, forbidden = [], []
    for fragment in fragments:
        regex = bool(fragment.get("regex"))
        for wanted in fragment.get("require", []):
            if not any(_matches(wanted, line, regex) for line in lines):
                missing.append({"fragment": fragment["id"], "line": wanted})
        for banned in fragment.get("forbid", []):
            forbidden += [{"fragment": fragment["id"], "line": line} for line in lines
                          if _matches(banned, line, regex)]
    return missing, forbidden


def check_device(device: Device, fetched: Fetch, golden: Mapping[str, Any]) -> DeviceDrift:
    if not fetched.ok:
        return DeviceDrift(device.name, device.role, "unreachable",
                           error=f"{fetched.error_kind}: {fetched.error}")
    if device.role not in golden["roles"]:
        return DeviceDrift(device.name, device.role, "no_role",
                           error=f"network_role {device.role!r} has no golden config in policies/network")
    config = fetched.outputs.get("running", "")
    missing, forbidden = compare(config, fragments_for(device.role, vendor(device.device_type), golden))
    # The lines found on the device are shown and stored masked (generic rules for a vendor without a family).
    masking = choose(device.name, device.device_type, device.mask_family).family or GENERIC
    for item in forbidden:
        item["line"] = mask_config(item["line"], device.device_type, device.secrets, family_name=masking).strip()
    status = "drift" if missing or forbidden else "compliant"
    return DeviceDrift(device.name, device.role, status, missing, forbidden)


def check_drift(devices: Sequence[Device], golden: Mapping[str, Any],
                workers: int = DEFAULT_WORKERS) -> list[DeviceDrift]:
    cli = [d for d in devices if d.transport != "netconf"]
    fetched = dict(zip((d.name for d in cli), fetch_all(cli, workers=workers, commands=None), strict=True))
    return [check_device(d, fetched[d.name], golden) if d.name in fetched
            else DeviceDrift(d.name, d.role, "skipped", note=SKIPPED_NETCONF) for d in devices]


def render(results: Sequence[DeviceDrift]) -> str:
    out = []
    for item in results:
        out.append(f"{item.device} ({item.role or 'no role'}): {item.status.upper()}")
        out += [f"  - missing   [{m['fragment']}] {m['line']}" for m in item.missing]
        out += [f"  - forbidden [{f['fragment']}] {f['line']}" for f in item.forbidden]
        if item.error:
            out.append(f"  ! {item.error}")
        if item.note:
            out.append(f"  - {item.note}")
        if item.backup:
            out.append(f"  {item.backup['line'].split(': ', 1)[1]}")
    checked = [r for r in results if r.status != "skipped"]
    bad = [r.device for r in checked if r.status != "compliant"]
    skipped = [r.device for r in results if r.status == "skipped"]
    out.append(f"{len(checked) - len(bad)}/{len(checked)} devices compliant"
               + (f"; not compliant: {', '.join(bad)}" if bad else "")
               + (f"; not checked: {', '.join(skipped)}" if skipped else ""))
    return "\n".join(out)


def with_backup_status(results: Sequence[DeviceDrift], store: Path) -> None:
    """Attach each device's backup health (ok/failing/stale/never) from the store's status file."""
    known = backup_status.load(store)
    for item in results:
        entry = known.get(item.device)
        item.backup = {"health": backup_status.health(entry) if entry else "never",
                       "line": backup_status.describe(item.device, entry), **(entry or {})}


def cli_check(inventory: str | Path | None, limit: str | None, audit_dir: Path | None,
              golden_path: Path | None = None, store: Path | None = None) -> int:
    """Print each device's drift with the lines and its backup health, store a sealed JSON report;
    0 = every checked device compliant, 1 = otherwise."""
    from runner.audit.store import AuditStore
    from runner.network.backup import DEFAULT_STORE

    golden = load_golden(golden_path) if golden_path else load_golden()
    devices = load_devices(str(inventory) if inventory else None, limit)
    results = check_drift(devices, golden)
    with_backup_status(results, store or DEFAULT_STORE)
    print(render(results))
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    root = settings.audit_dir(audit_dir)
    # microseconds in the folder: two checks in one second keep both reports
    target = root / "checks" / f"network-drift-{stamp}-{now:%f}" / "drift.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"created": stamp, "devices": [asdict(r) for r in results]}, indent=2))
    AuditStore.configured(root).attach("-", {"json": target})  # sealed like the baseline check's reports
    print(f"report: {target}")
    checked = [r for r in results if r.status != "skipped"]
    return 0 if checked and all(r.status == "compliant" for r in checked) else 1
