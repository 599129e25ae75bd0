#!/usr/bin/python
"""Daily server monitoring (SOP 3.4): disk, memory, load, failed systemd units, certificate expiry.

Read-only; runs on the target with its system Python (standard library + openssl for certificates).
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_server_health
short_description: Collect server health (disk, memory, load, failed units, certificate expiry)
description: Read-only. Returns sop_evidence with the measurements and a list of findings over thresholds.
options:
  paths:
    description: Mount points whose usage is checked.
    type: list
    elements: str
    default: [/]
  disk_warn_pct: {description: Disk usage warning threshold (percent)., type: float, default: 85}
  mem_warn_pct: {description: Memory usage warning threshold (percent)., type: float, default: 90}
  load_warn_per_cpu: {description: 5-minute load per CPU warning threshold., type: float, default: 2.0}
  cert_paths:
    description: Certificate files or globs (PEM) whose expiry is checked.
    type: list
    elements: str
    default: []
  cert_warn_days: {description: Days before expiry to warn., type: int, default: 30}
  ignore_units:
    description: Failed units to ignore (known and accepted).
    type: list
    elements: str
    default: []
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Daily server health
  sop.core.sop_server_health:
    paths: [/, /var]
    cert_paths: [/etc/ssl/certs/app-*.pem]
  register: server_health
"""

RETURN = r"""
sop_evidence:
  description: Status (ok/warn), findings over the thresholds, and the measurements (disk, memory, load,
    failed units, certificates).
  returned: always
  type: dict
"""

import glob
import os
from datetime import UTC, datetime
from typing import Any

from ansible.module_utils.basic import AnsibleModule


def disk(paths: list[str]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        if not os.path.exists(path):
            continue
        stat = os.statvfs(path)
        total = stat.f_blocks * stat.f_frsize
        free = stat.f_bavail * stat.f_frsize
        used_pct = round(100.0 * (total - free) / total, 1) if total else 0.0
        rows.append({"path": path, "used_pct": used_pct, "free_gb": round(free / 2**30, 2)})
    return rows


def memory() -> float:
    info = {}
    with open("/proc/meminfo") as handle:
        for line in handle:
            key, dummy, value = line.partition(":")
            info[key] = int(value.split()[0])
    total, available = info.get("MemTotal", 0), info.get("MemAvailable", 0)
    return round(100.0 * (total - available) / total, 1) if total else 0.0


def failed_units(module: AnsibleModule, ignore: list[str]) -> list[str]:
    rc, out, dummy = module.run_command(["systemctl", "--failed", "--plain", "--no-legend", "--no-pager"])
    units = [line.split()[0] for line in out.splitlines() if line.strip()] if rc == 0 else []
    return [u for u in units if u not in ignore]


def certificates(module: AnsibleModule, patterns: list[str]) -> list[dict[str, Any]]:
    rows = []
    now = datetime.now(UTC)
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            rc, out, dummy = module.run_command(["openssl", "x509", "-enddate", "-noout", "-in", path])
            if rc != 0:
                rows.append({"path": path, "error": "not a PEM certificate"})
                continue
            not_after = datetime.strptime(out.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
            not_after = not_after.replace(tzinfo=UTC)
            rows.append({"path": path, "not_after": not_after.isoformat(),
                         "days_left": (not_after - now).days})
    return rows


def main() -> None:
    module = AnsibleModule(argument_spec={
        "paths": {"type": "list", "elements": "str", "default": ["/"]},
        "disk_warn_pct": {"type": "float", "default": 85},
        "mem_warn_pct": {"type": "float", "default": 90},
        "load_warn_per_cpu": {"type": "float", "default": 2.0},
        "cert_paths": {"type": "list", "elements": "str", "default": []},
        "cert_warn_days": {"type": "int", "default": 30},
        "ignore_units": {"type": "list", "elements": "str", "default": []},
    }, supports_check_mode=True)
    p = module.params
    disks = disk(p["paths"])
    mem = memory()
    load = os.getloadavg()
    cpus = os.cpu_count() or 1
    units = failed_units(module, p["ignore_units"])
    certs = certificates(module, p["cert_paths"])
    findings = [f"disk {d['path']} {d['used_pct']}% used" for d in disks
                if d["used_pct"] >= p["disk_warn_pct"]]
    if mem >= p["mem_warn_pct"]:
        findings.append(f"memory {mem}% used")
    if load[1] / cpus >= p["load_warn_per_cpu"]:
        findings.append(f"load {load[1]:.2f} on {cpus} CPUs")
    findings += [f"failed unit {u}" for u in units]
    findings += [f"certificate {c['path']} expires in {c['days_left']} days" for c in certs
                 if "days_left" in c and c["days_left"] <= p["cert_warn_days"]]
    findings += [f"certificate {c['path']}: {c['error']}" for c in certs if "error" in c]
    evidence = {"status": "warn" if findings else "ok", "findings": findings, "disk": disks,
                "memory_used_pct": mem, "load": [round(x, 2) for x in load], "cpus": cpus,
                "failed_units": units, "certificates": certs}
    module.exit_json(changed=False, sop_evidence=evidence)


if __name__ == "__main__":
    main()
