"""Golden-config drift (SOP 3.1): each device's running configuration against its role's fragments.

``sop check --network`` calls :func:`cli_check`; the lines printed and stored are masked like the backups.
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
from runner.network.collect import DEFAULT_WORKERS, Fetch, fetch_all
from runner.network.devices import Device, load_devices
from runner.network.masking import GENERIC, choose, mask_config
from runner.network.policy import load_golden


@dataclass
class DeviceDrift:
    device: str
    role: str | None
    status: str  # compliant | drift | unreachable | no_role
    missing: list[dict[str, str]] = field(default_factory=list)
    forbidden: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None


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
    fetched = fetch_all(devices, workers=workers, commands=None)
    return [check_device(d, f, golden) for d, f in zip(devices, fetched, strict=True)]


def render(results: Sequence[DeviceDrift]) -> str:
    out = []
    for item in results:
        out.append(f"{item.device} ({item.role or 'no role'}): {item.status.upper()}")
        out += [f"  - missing   [{m['fragment']}] {m['line']}" for m in item.missing]
        out += [f"  - forbidden [{f['fragment']}] {f['line']}" for f in item.forbidden]
        if item.error:
            out.append(f"  ! {item.error}")
    bad = [r.device for r in results if r.status != "compliant"]
    out.append(f"{len(results) - len(bad)}/{len(results)} devices compliant"
               + (f"; not compliant: {', '.join(bad)}" if bad else ""))
    return "\n".join(out)


def cli_check(inventory: str | Path | None, limit: str | None, audit_dir: Path | None,
              golden_path: Path | None = None) -> int:
    """Print each device's drift with the lines, store a JSON report; 0 = all compliant, 1 = otherwise."""
    golden = load_golden(golden_path) if golden_path else load_golden()
    devices = load_devices(str(inventory) if inventory else None, limit)
    results = check_drift(devices, golden)
    print(render(results))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = settings.audit_dir(audit_dir) / "network-drift" / f"{stamp}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"created": stamp, "devices": [asdict(r) for r in results]}, indent=2))
    print(f"report: {target}")
    return 0 if results and all(r.status == "compliant" for r in results) else 1
