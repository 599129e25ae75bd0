"""SOP 2.6 on the controller: the gates a wipe must pass before the target is touched, and the certificate.

Refused unless all hold: every approver role of the policy approved (by someone who is not the operator);
the asset is registered and ``returned``; the device path is named explicitly (never discovered); the
register holds the disk (serial and model, compared with the device itself on the target); the operator
typed the serial; the policy's method for the media type is one this tool performs. The target then checks
identity and that the device is not mounted / root / in use (module_utils/sop_sanitize.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.assets.model import Asset, Disk
from runner.assets.policy import sanitization_method
from runner.errors import SopError


@dataclass
class WipeRequest:
    tag: str
    device: str
    disk_index: int
    confirm_serial: str
    approvals: Mapping[str, str]
    operator_names: frozenset[str]
    operator: str
    destination: str


@dataclass
class WipePlan:
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    asset: Asset | None = None
    disk: Disk | None = None
    method: dict[str, Any] | None = None
    approver: dict[str, str] | None = None

    def message(self, tag: str) -> str:
        if not self.allowed:
            return f"REFUSED: wipe of {tag}: " + "; ".join(self.reasons)
        return f"wipe of {tag} allowed: {self.method['method'] if self.method else ''} approved by " \
               f"{(self.approver or {}).get('name')}"


def plan(request: WipeRequest, asset: Asset | None, policy: dict[str, Any]) -> WipePlan:
    result = WipePlan(allowed=False, asset=asset)
    reasons = result.reasons
    san = policy["sanitization"]
    for role in san["approver_roles"]:
        name = request.approvals.get(role)
        if not name:
            reasons.append(f"no approval by {role} (--approved-by {role}=NAME)")
        elif name.lower() in request.operator_names:
            reasons.append(f"{role} approval by {name}, who is the operator (segregation of duties)")
        elif result.approver is None:
            result.approver = {"role": role, "name": name}
    if asset is None:
        reasons.append(f"asset {request.tag} is not in the register")
    elif asset.status != "returned":
        reasons.append(f"asset {request.tag} is {asset.status}, not returned (SOP 2.5 comes first)")
    if not request.device or not request.device.startswith("/dev/"):
        reasons.append("no explicit device path (wipe_device=/dev/...): a wipe never discovers its device")
    if asset is not None:
        _check_disk(request, asset, policy, result)
    if request.destination not in san["destinations"]:
        reasons.append(f"destination {request.destination!r} is not one of {', '.join(san['destinations'])}")
    result.allowed = not reasons
    return result


def _check_disk(request: WipeRequest, asset: Asset, policy: dict[str, Any], result: WipePlan) -> None:
    if request.disk_index >= len(asset.disks) or not asset.disks[request.disk_index].serial:
        result.reasons.append(f"the register holds no disk {request.disk_index} with a serial for {request.tag}")
        return
    result.disk = asset.disks[request.disk_index]
    if request.confirm_serial != result.disk.serial:
        result.reasons.append(f"the operator did not confirm the disk serial (wipe_confirm_serial; given "
                              f"{request.confirm_serial!r})")
    try:
        result.method = sanitization_method(policy, result.disk.media_type)
    except SopError as exc:
        result.reasons.append(str(exc).split("\n")[0])


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def certificate_document(*, certificate_id: str, wipe: WipePlan, request: WipeRequest, host: str,
                         module_result: dict[str, Any], tool_version: str, run_id: str) -> dict[str, Any]:
    """The certificate's fields (NIST SP 800-88 Rev. 1 Appendix G, plus device path, host, run, coverage)."""
    asset, method = wipe.asset, wipe.method or {}
    assert asset is not None
    san = module_result["sanitization"]
    ver = san["verification"]
    device = module_result["device"]
    if ver["mode"] == "full":
        description = "full read-back of every byte, compared with the written value 0x00"
    else:
        description = (f"read-back of the first and last block and {ver['samples_per_subsection']} pseudorandom "
                       f"{ver['sample_bytes']}-byte blocks in each of {ver['subsections']} equal subsections "
                       f"(NIST SP 800-88 Rev. 1 4.7.1; seed {ver['seed']}), compared with 0x00")
    return {
        "certificate_id": certificate_id,
        "standard": method.get("standard", "NIST SP 800-88"),
        "asset": {"tag": asset.tag, "make": asset.make, "model": asset.model, "serial": asset.serial,
                  "type": asset.type},
        "media": {"model": device["model"], "serial": device["serial"], "media_type": device["media_type"],
                  "register_media_type": wipe.disk.media_type if wipe.disk else None,
                  "size_bytes": device["size_bytes"], "path": device["path"], "kernel_name": device["kernel_name"]},
        "host": host,
        "sanitization": {"method": method.get("method"), "technique": method.get("technique"),
                         "why": method.get("why"), "bytes_written": san["bytes_written"],
                         "throughput_mib_s": san["overwrite_throughput_mib_s"]},
        "tool": {"name": "sop-as-code sop.core.sop_sanitize", "version": tool_version},
        "verification": {**ver, "description": description},
        "start": _iso(san["start"]), "end": _iso(san["end"]), "duration_s": round(san["end"] - san["start"], 3),
        "operator": request.operator,
        "approver": wipe.approver,
        "destination": request.destination,
        "run_id": run_id,
        "sop_step": "sop2.6", "iso_controls": ["A.7.14", "A.8.10"],
    }
