#!/usr/bin/python
"""Read-only evidence probe for the security baseline (`sop check`).

Reads files, asks dpkg/systemctl/sshd/apt in read-only ways and returns raw facts. It never writes: no apt
update, no lock taken (apt-get -s with Debug::NoLocking), no service touched. Evaluation happens on the
controller (runner/check/methods.py).
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: sop_baseline_probe
short_description: Collect read-only evidence for security baseline controls
description:
  - Reads configuration files and queries dpkg, systemctl, sshd -T and apt (simulation only).
  - Never changes the host; always returns changed=false, also outside check mode.
options:
  files: {description: Globs of files to read, type: list, elements: str, default: []}
  paths: {description: Globs whose existence is reported, type: list, elements: str, default: []}
  packages: {description: Debian packages whose install state is reported, type: list, elements: str,
             default: []}
  units: {description: systemd units whose state is reported, type: list, elements: str, default: []}
  groups: {description: Groups whose members are reported (with sshd -T for each member), type: list,
           elements: str, default: []}
  users: {description: Users whose groups and effective sshd settings are reported, type: list, elements: str,
          default: []}
  clamav_dirs: {description: ClamAV database directories to read signature headers from, type: list,
                elements: str, default: []}
  apt: {description: "Report pending updates (simulation), index age, apt-config and the last patch run",
        type: bool, default: false}
  kernel_modules: {description: Module names looked up in /proc/modules, type: list, elements: str,
                   default: []}
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Read the SSH daemon's settings and whether ClamAV is installed
  sop.core.sop_baseline_probe:
    files: [/etc/ssh/sshd_config, /etc/ssh/sshd_config.d/*.conf]
    packages: [clamav]
    units: [clamav-freshclam.service]
"""

RETURN = r"""
facts:
  description: Raw facts per requested item (file contents, package states, unit states, sshd -T settings, apt).
  returned: always
  type: dict
"""

import glob
import grp
import os
import pwd
import re
import subprocess
import time
from collections.abc import Iterable, Sequence
from typing import Any

from ansible.module_utils.basic import AnsibleModule

MAX_FILE = 65536
NEUTRAL_USER = "sop-check-probe"  # does not exist: sshd -T for it shows the global settings


def run(argv: Sequence[str], timeout: float = 60) -> tuple[int, str, str]:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


def read_files(patterns: Iterable[str]) -> dict[str, str | dict[str, str]]:
    out = {}
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            if os.path.isfile(path):
                try:
                    with open(path, encoding="utf-8", errors="replace") as handle:
                        out[path] = handle.read(MAX_FILE)
                except OSError as exc:
                    out[path] = {"error": str(exc)}
    return out


def paths_exist(patterns: Iterable[str]) -> dict[str, list[str]]:
    return {pattern: sorted(glob.glob(pattern)) for pattern in patterns}


def packages(names: Iterable[str]) -> dict[str, str | None]:
    out = {}
    for name in names:
        rc, stdout, dummy = run(["dpkg-query", "-W", "-f", "${Status}\t${Version}", name])
        status, dummy, version = stdout.partition("\t")
        out[name] = version if rc == 0 and status.endswith(" installed") else None
    return out


def units(names: Iterable[str]) -> dict[str, dict[str, str]]:
    out = {}
    props = "LoadState,ActiveState,SubState,UnitFileState,ConditionResult"
    for name in names:
        rc, stdout, stderr = run(["systemctl", "show", name, "--property", props])
        info = dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)
        out[name] = info if rc == 0 else {"error": stderr.strip()}
    return out


def sshd_effective(user: str) -> dict[str, str]:
    rc, stdout, stderr = run(["/usr/sbin/sshd", "-T", "-C", f"user={user},host=localhost,addr=127.0.0.1"])
    if rc != 0:
        return {"error": (stderr or stdout).strip()[-500:]}
    settings = {}
    for line in stdout.splitlines():
        key, dummy, value = line.partition(" ")
        settings[key] = value
    return settings


def group_info(name: str) -> dict[str, Any]:
    try:
        entry = grp.getgrnam(name)
    except KeyError:
        return {"exists": False, "members": []}
    members = set(entry.gr_mem)
    members.update(p.pw_name for p in pwd.getpwall() if p.pw_gid == entry.gr_gid)
    return {"exists": True, "members": sorted(members)}


def user_info(name: str) -> dict[str, Any]:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return {"exists": False, "groups": []}
    rc, stdout, dummy = run(["id", "-nG", name])
    return {"exists": True, "groups": stdout.split() if rc == 0 else []}


def clamav_db(directory: str) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.c[vl]d"))):
        try:
            with open(path, "rb") as handle:
                header = handle.read(512).split(b"\0", 1)[0].decode("ascii", "replace").strip()
            out[os.path.basename(path)] = {"header": header, "mtime": os.path.getmtime(path)}
        except OSError as exc:
            out[os.path.basename(path)] = {"error": str(exc)}
    return out


# Simulation without the lock and without writing apt's binary caches (pkgcache.bin) to /var/cache/apt.
READ_ONLY_APT = (
    "-o", "Debug::NoLocking=1", "-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=",
    "-o", "APT::Get::Show-User-Simulation-Note=0",
)  # fmt: skip
SIM_LINE = re.compile(r"^Inst (\S+) \[([^\]]*)\] \((\S+) (.*?) \[[^\]]*\]\)")


def apt_facts() -> dict[str, Any]:
    lists = [p for p in glob.glob("/var/lib/apt/lists/*_Packages") if os.path.isfile(p)]
    facts = {"index_mtime": max((os.path.getmtime(p) for p in lists), default=None), "pending": []}
    rc, stdout, stderr = run(["apt-get", "-s", *READ_ONLY_APT, "dist-upgrade"], timeout=120)
    facts["simulation_rc"] = rc
    if rc != 0:
        facts["simulation_error"] = stderr.strip()[-500:]
    for line in stdout.splitlines():
        match = SIM_LINE.match(line)
        if match:
            facts["pending"].append(
                {
                    "package": match.group(1),
                    "installed": match.group(2),
                    "candidate": match.group(3),
                    "origin": match.group(4),
                }
            )
    rc, stdout, dummy = run(["apt-config", *READ_ONLY_APT, "dump"])
    facts["apt_config"] = stdout if rc == 0 else ""
    facts["last_patch_run"] = last_patch_run()
    return facts


def last_patch_run() -> float | None:
    """Epoch of the newest apt history entry that upgraded packages (apt, unattended-upgrades, Ansible)."""
    newest = None
    for path in glob.glob("/var/log/apt/history.log*"):
        if path.endswith(".gz"):
            import gzip  # only when rotated logs exist

            opener = gzip.open
        else:
            opener = open
        try:
            with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        for block in text.split("\n\n"):
            start = re.search(r"^Start-Date: (\S+  ?\S+)", block, re.M)
            if start and re.search(r"^Upgrade: ", block, re.M):
                stamp = time.mktime(time.strptime(" ".join(start.group(1).split()), "%Y-%m-%d %H:%M:%S"))
                newest = stamp if newest is None else max(newest, stamp)
    return newest


def kernel_modules(names: Iterable[str]) -> dict[str, bool]:
    try:
        with open("/proc/modules", encoding="utf-8") as handle:
            loaded = {line.split()[0] for line in handle if line.strip()}
    except OSError:
        loaded = set()
    return {name: name.replace("-", "_") in loaded for name in names}


def main() -> None:
    list_opt = {"type": "list", "elements": "str", "default": []}
    module = AnsibleModule(
        argument_spec={
            "files": list_opt,
            "paths": list_opt,
            "packages": list_opt,
            "units": list_opt,
            "groups": list_opt,
            "users": list_opt,
            "clamav_dirs": list_opt,
            "apt": {"type": "bool", "default": False},
            "kernel_modules": list_opt,
        },
        supports_check_mode=True,
    )
    params = module.params
    facts = {
        "now": time.time(),
        "files": read_files(params["files"]),
        "paths": paths_exist(params["paths"]),
        "packages": packages(params["packages"]),
        "units": units(params["units"]),
        "groups": {g: group_info(g) for g in params["groups"]},
        "users": {u: user_info(u) for u in params["users"]},
        "clamav": {d: clamav_db(d) for d in params["clamav_dirs"]},
        "kernel_modules": kernel_modules(params["kernel_modules"]),
    }
    sshd_users = {NEUTRAL_USER, *params["users"]}
    for info in facts["groups"].values():
        sshd_users.update(info["members"])
    facts["sshd"] = {user: sshd_effective(user) for user in sorted(sshd_users)}
    if params["apt"]:
        facts["apt"] = apt_facts()
    module.exit_json(changed=False, facts=facts)


if __name__ == "__main__":
    main()
