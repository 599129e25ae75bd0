#!/usr/bin/python
# Runs on the target host: the apt side of the install/update SOP (upd1-upd5) for playbooks/patch.yml.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_apt_patch
short_description: Plan, pre-check, apply and roll back apt updates or installs, with evidence
description:
  - C(state=plan) (read-only apart from refreshing the package lists) simulates the change with C(apt-get -s) and
    returns every package that would change, split into security and other updates by origin, whether a reboot
    will be needed (reboot packages, C(/run/reboot-required)), the services that restart (C(needrestart -b) when
    installed, and the units the changed packages ship), and any package source that is not signed
    (C(trusted=yes), C(allow-insecure), an unsigned or expired Release, a missing key).
  - C(state=snapshot) (read-only) returns every installed package version and a sha256 manifest of the files
    under I(manifest_paths).
  - C(state=download) downloads the packages (C(apt-get --download-only)) and scans them with ClamAV's
    C(clamscan) before anything is installed; a flagged file or a missing scanner fails with nothing installed.
  - C(state=apply) installs (C(apt-get dist-upgrade), or C(install) of I(packages)), holding I(holds), and returns
    each package's version before and after and the apt history entry of the run. A dpkg/apt error fails the
    task with apt's own message.
  - C(state=rollback) puts every package of I(versions) back to its recorded version (C(--allow-downgrades);
    a package recorded as not installed is removed). If a recorded version can no longer be installed the task
    fails with C(downgrade_impossible=true), so the caller restores from the pre-change backup.
options:
  state:
    description: What to do.
    type: str
    choices: [plan, snapshot, download, apply, rollback]
    required: true
  packages:
    description:
      - An installation instead of an update, items C(name) or C(name=version). Empty means every pending
        update (C(dist-upgrade)).
    type: list
    elements: str
    default: []
  holds:
    description: Packages held (C(apt-mark hold)) while updating; released afterwards if this module held them.
    type: list
    elements: str
    default: []
  reboot_packages:
    description: Package name globs whose change needs a reboot.
    type: list
    elements: str
    default: ["linux-image-*", "libc6", "systemd"]
  update_cache:
    description: Refresh the package lists first (C(apt-get update)); its errors are reported as source problems.
    type: bool
    default: true
  manifest_paths:
    description: Directories whose files are hashed by C(state=snapshot).
    type: list
    elements: path
    default: [/etc/apt, /etc/ssh, /etc/systemd/system, /etc/default]
  versions:
    description:
      - Package -> version recorded before the change (C(state=rollback)); with I(packages) only those are put
        back, and one missing from I(versions) was not installed (it is removed).
    type: dict
    default: {}
  scanner:
    description: The ClamAV command line scanner used by C(state=download).
    type: path
    default: /usr/bin/clamscan
notes:
  - Supports check mode; in check mode C(download), C(apply) and C(rollback) only simulate and change nothing.
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Plan the monthly update
  sop.core.sop_apt_patch:
    state: plan

- name: Install sop-demo-app 1.1, scanned first
  sop.core.sop_apt_patch:
    state: download
    packages: [sop-demo-app=1.1]
"""

RETURN = r"""
pending:
  description: Packages that would change (C(name), C(from), C(to), C(origins), C(security)).
  returned: state=plan, state=download, state=apply
  type: list
  elements: dict
security:
  description: Names of pending security updates.
  returned: state=plan
  type: list
  elements: str
other:
  description: Names of the other pending changes.
  returned: state=plan
  type: list
  elements: str
reboot_required:
  description: Whether the change (or a pending /run/reboot-required) needs a reboot.
  returned: state=plan, state=apply
  type: bool
services:
  description: Services that will restart (needrestart -b, and systemd units shipped by the changed packages).
  returned: state=plan
  type: list
  elements: str
source_problems:
  description: Package sources that are not signed or whose Release is expired or unverifiable.
  returned: state=plan
  type: list
  elements: str
installed:
  description: Every installed package and its version.
  returned: state=snapshot
  type: dict
manifest:
  description: Path -> sha256 of the files under I(manifest_paths).
  returned: state=snapshot
  type: dict
scan:
  description: Files scanned, the scanner's version and database, and what was flagged.
  returned: state=download
  type: dict
changes:
  description: Per package C(name), C(before), C(after) (null when not installed).
  returned: state=apply, state=rollback
  type: list
  elements: dict
history:
  description: The apt history entry of the run (Start-Date, Commandline, Install/Upgrade/Downgrade/Remove lines).
  returned: state=apply, state=rollback
  type: dict
downgrade_impossible:
  description: A recorded version could not be installed (restore from the backup instead).
  returned: state=rollback
  type: bool
"""

import fnmatch
import glob
import hashlib
import os
import re
from typing import Any

from ansible.module_utils.basic import AnsibleModule

ENV = {"DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C", "NEEDRESTART_MODE": "l"}
APT = ["apt-get", "-y", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]
INST = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) ([^\[]*?)\s*\[[^\]]+\]\)")
REMV = re.compile(r"^Remv (\S+) \[(\S+)\]")
HISTORY = "/var/log/apt/history.log"
ARCHIVES = "/var/cache/apt/archives"
EVIDENCE = {"plan": ("pending", "security", "other", "reboot_required", "services", "source_problems"),
            "snapshot": ("installed", "manifest"), "download": ("pending", "scan", "msg"),
            "apply": ("pending", "changes", "history", "reboot_required", "msg"),
            "rollback": ("changes", "history", "downgrade_impossible", "msg")}
MAX_MANIFEST = 5000
INSECURE = re.compile(r"trusted\s*=\s*yes|^\s*Trusted:\s*yes|allow-insecure\s*=\s*yes|^\s*Allow-Insecure:\s*yes",
                      re.I | re.M)
UPDATE_PROBLEM = re.compile(r"not signed|NO_PUBKEY|is expired|EXPKEYSIG|BADSIG|insecure|could not be verified|"
                            r"Signed-By|no longer signed|The following signatures", re.I)


def parse_simulation(text: str) -> list[dict[str, Any]]:
    """Inst/Remv lines of apt-get -s -> [{name, from, to, origins, security}]."""
    changes = []
    for line in text.splitlines():
        match = INST.match(line)
        if match:
            name, old, new, origins = match.groups()
            names = [o.strip() for o in origins.split(",") if o.strip()]
            changes.append({"name": name, "from": old, "to": new, "origins": names,
                            "security": any("security" in o.lower() for o in names)})
            continue
        match = REMV.match(line)
        if match:
            changes.append({"name": match.group(1), "from": match.group(2), "to": None, "origins": [],
                            "security": False})
    return changes


def parse_history(text: str) -> dict[str, str]:
    """The last entry of an apt history log excerpt -> {field: value}."""
    entries = [e for e in re.split(r"\n\s*\n", text.strip()) if "Start-Date:" in e]
    if not entries:
        return {}
    fields = {}
    for line in entries[-1].splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


class Patch:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.p = module.params

    def run(self, args: list[str], check: bool = True) -> tuple[int, str, str]:
        rc, out, err = self.module.run_command(args, environ_update=ENV)
        if check and rc != 0:
            self.module.fail_json(msg=f"{' '.join(args[:4])} failed (rc {rc}): {self._apt_error(err, out)}",
                                  rc=rc, stdout=out, stderr=err)
        return rc, out, err

    @staticmethod
    def _apt_error(err: str, out: str) -> str:
        lines = [ln for ln in (err or "").splitlines() + (out or "").splitlines()
                 if ln.startswith(("E:", "dpkg:", "Errors were encountered", "W:")) or "error" in ln.lower()]
        return " | ".join(lines[-6:]) or (err or out).strip()[-600:]

    def target(self) -> list[str]:
        return ["install", *self.p["packages"]] if self.p["packages"] else ["dist-upgrade"]

    def installed(self, names: list[str] | None = None) -> dict[str, str]:
        args = ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n"]
        _rc, out, _err = self.run(args + list(names or []), check=False)
        versions = {}
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) == 3 and parts[2].startswith("ii"):
                versions[parts[0]] = parts[1]
        return versions

    def simulate(self) -> list[dict[str, Any]]:
        rc, out, err = self.run(["apt-get", "-s", "-o", "Debug::NoLocking=1", *self.target()], check=False)
        if rc != 0:
            self.module.fail_json(msg=f"apt-get -s {' '.join(self.target())} failed: {self._apt_error(err, out)}")
        return parse_simulation(out)

    def update(self) -> list[str]:
        problems = []
        for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*"))]:
            try:
                with open(path) as handle:
                    text = handle.read()
            except OSError:
                continue
            for line in text.splitlines():
                if not line.strip().startswith("#") and INSECURE.search(line):
                    problems.append(f"{path}: unsigned source allowed: {line.strip()}")
        if self.p["update_cache"]:
            rc, out, err = self.run(["apt-get", "update"], check=False)
            for line in (err + "\n" + out).splitlines():
                if UPDATE_PROBLEM.search(line):
                    problems.append("apt-get update: " + line.strip())
            if rc != 0 and not problems:
                problems.append("apt-get update failed: " + self._apt_error(err, out))
        return problems

    def services(self, pending: list[dict[str, Any]]) -> list[str]:
        units = set()
        for change in pending:
            _rc, out, _err = self.run(["dpkg-query", "-L", change["name"]], check=False)
            units.update(os.path.basename(p) for p in out.splitlines()
                         if re.search(r"/systemd/system/[^/]+\.service$", p))
        if os.path.exists("/usr/sbin/needrestart"):
            _rc, out, _err = self.run(["/usr/sbin/needrestart", "-b", "-r", "l"], check=False)
            units.update(line.split(":", 1)[1].strip() for line in out.splitlines()
                         if line.startswith("NEEDRESTART-SVC:"))
        return sorted(units)

    def reboot_needed(self, pending: list[dict[str, Any]]) -> bool:
        return os.path.exists("/run/reboot-required") or any(
            fnmatch.fnmatch(c["name"], glob_) for c in pending for glob_ in self.p["reboot_packages"])

    # --- states ---------------------------------------------------------------------------------------------
    def plan(self) -> dict[str, Any]:
        problems = self.update()
        pending = self.simulate()
        return dict(changed=False, pending=pending, source_problems=problems,
                    security=[c["name"] for c in pending if c["security"]],
                    other=[c["name"] for c in pending if not c["security"]],
                    reboot_required=self.reboot_needed(pending), services=self.services(pending))

    def snapshot(self) -> dict[str, Any]:
        manifest = {}
        for root in self.p["manifest_paths"]:
            for directory, dirs, files in os.walk(root):
                dirs.sort()
                for name in sorted(files):
                    path = os.path.join(directory, name)
                    if len(manifest) >= MAX_MANIFEST or not os.path.isfile(path) or os.path.islink(path):
                        continue
                    digest = hashlib.sha256()
                    with open(path, "rb") as handle:
                        for block in iter(lambda: handle.read(65536), b""):
                            digest.update(block)
                    manifest[path] = digest.hexdigest()
        return dict(changed=False, installed=self.installed(), manifest=manifest)

    def download(self) -> dict[str, Any]:
        pending = self.simulate()
        scan = {"files": [], "flagged": [], "scanner": self.p["scanner"]}
        if not pending or self.module.check_mode:
            return dict(changed=False, pending=pending, scan=scan)
        if not os.access(self.p["scanner"], os.X_OK):
            self.module.fail_json(msg="no malware scanner at {} (the security baseline installs ClamAV): nothing "
                                      "was installed".format(self.p["scanner"]), pending=pending, scan=scan)
        rc, out, err = self.run(["apt-get", "-qq", "--print-uris", *self.target()], check=False)
        names = [line.split()[1] for line in out.splitlines() if line.startswith("'") and len(line.split()) > 1]
        self.run([*APT, "--download-only", *self.target()])
        files = [os.path.join(ARCHIVES, n) for n in names]
        # a package already in apt's cache is not downloaded again, but it is installed: scanned all the same
        files = sorted({f for f in files if os.path.exists(f)} | set(self.cached(pending)))
        scan["files"] = [os.path.basename(f) for f in files]
        rc, out, err = self.run([self.p["scanner"], "--version"], check=False)
        scan["version"] = out.strip()
        if files:
            rc, out, err = self.run([self.p["scanner"], "--no-summary", "--infected", *files], check=False)
            scan["flagged"] = [line for line in out.splitlines() if line.endswith("FOUND")]
            if rc == 1 or scan["flagged"]:
                for path in files:  # never leave flagged packages where apt would install them from
                    os.remove(path)
                self.module.fail_json(msg=f"malware scan flagged {'; '.join(scan['flagged'])}: nothing was installed",
                                      pending=pending, scan=scan)
            if rc != 0:
                detail = (err or out).strip()[-400:]
                self.module.fail_json(msg=f"malware scan could not run (rc {rc}): {detail}: nothing was installed",
                                      pending=pending, scan=scan)
        return dict(changed=bool(files), pending=pending, scan=scan)

    @staticmethod
    def cached(pending: list[dict[str, Any]]) -> list[str]:
        """The .deb files in apt's cache that installing ``pending`` uses (an epoch's ':' is '%3a' there)."""
        found = []
        for change in pending:
            if change.get("to"):
                pattern = "{}_{}_*.deb".format(change["name"], change["to"].replace(":", "%3a"))
                found += glob.glob(os.path.join(ARCHIVES, pattern))
        return found

    def _history_since(self, offset: int) -> dict[str, str]:
        try:
            with open(HISTORY) as handle:
                handle.seek(offset if offset <= os.path.getsize(HISTORY) else 0)
                return parse_history(handle.read())
        except OSError:
            return {}

    def _history_offset(self) -> int:
        return os.path.getsize(HISTORY) if os.path.exists(HISTORY) else 0

    def _changes(self, names: list[str], before: dict[str, str]) -> list[dict[str, Any]]:
        after = self.installed(names)
        return [{"name": n, "before": before.get(n), "after": after.get(n)} for n in sorted(names)
                if before.get(n) != after.get(n)]

    def apply(self) -> dict[str, Any]:
        pending = self.simulate()
        names = [c["name"] for c in pending]
        before = self.installed(names)
        if not pending or self.module.check_mode:
            return dict(changed=bool(pending), pending=pending, changes=[], history={},
                        reboot_required=self.reboot_needed(pending))
        held = []
        for name in self.p["holds"]:
            rc, out, err = self.run(["apt-mark", "showhold", name], check=False)
            if name not in out.split():
                self.run(["apt-mark", "hold", name], check=False)
                held.append(name)
        offset = self._history_offset()
        try:
            rc, out, err = self.run([*APT, *self.target()], check=False)
        finally:
            for name in held:
                self.run(["apt-mark", "unhold", name], check=False)
        changes = self._changes(names, before)
        history = self._history_since(offset)
        if rc != 0:
            command = " ".join(self.target())
            self.module.fail_json(msg=f"apt-get {command} failed (rc {rc}): {self._apt_error(err, out)}",
                                  rc=rc, changes=changes, history=history, pending=pending)
        return dict(changed=bool(changes), pending=pending, changes=changes, history=history,
                    reboot_required=self.reboot_needed(pending))

    def rollback(self) -> dict[str, Any]:
        recorded = self.p["versions"]
        names = [p.split("=")[0] for p in self.p["packages"]] or list(recorded)
        wanted = dict((n, recorded.get(n) or None) for n in names)
        before = self.installed(list(wanted))
        todo = dict((k, v) for k, v in wanted.items() if before.get(k) != v)
        if not todo or self.module.check_mode:
            return dict(changed=bool(todo), changes=[], history={}, downgrade_impossible=False)
        offset = self._history_offset()
        install = [f"{k}={v}" for k, v in sorted(todo.items()) if v]
        remove = sorted(k for k, v in todo.items() if not v)
        errors = []
        if install:
            rc, out, err = self.run([*APT, "--allow-downgrades", "install", *install], check=False)
            if rc != 0:
                errors.append(self._apt_error(err, out))
        if remove:
            rc, out, err = self.run([*APT, "remove", *remove], check=False)
            if rc != 0:
                errors.append(self._apt_error(err, out))
        changes = self._changes(list(wanted), before)
        after = self.installed(list(wanted))
        left = sorted(k for k, v in wanted.items() if after.get(k) != v)
        result = dict(changed=bool(changes), changes=changes, history=self._history_since(offset),
                      downgrade_impossible=bool(left))
        if left:
            message = "cannot put back the recorded versions of {}: {}".format(", ".join(left), " | ".join(errors))
            self.module.fail_json(msg=message, **result)
        return result


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", required=True, choices=["plan", "snapshot", "download", "apply", "rollback"]),
            packages=dict(type="list", elements="str", default=[]),
            holds=dict(type="list", elements="str", default=[]),
            reboot_packages=dict(type="list", elements="str", default=["linux-image-*", "libc6", "systemd"]),
            update_cache=dict(type="bool", default=True),
            manifest_paths=dict(type="list", elements="path",
                                default=["/etc/apt", "/etc/ssh", "/etc/systemd/system", "/etc/default"]),
            versions=dict(type="dict", default={}),
            scanner=dict(type="path", default="/usr/bin/clamscan"),
        ),
        supports_check_mode=True,
    )
    state = module.params["state"]
    fail_json = module.fail_json

    def evidence(result: dict[str, Any]) -> dict[str, Any]:
        keys = EVIDENCE[state]
        return dict(result, sop_evidence=dict({"kind": "patch_" + state, "check_mode": module.check_mode},
                                              **dict((k, result[k]) for k in keys if k in result)))

    module.fail_json = lambda **kw: fail_json(**evidence(kw))
    module.exit_json(**evidence(getattr(Patch(module), state)()))


if __name__ == "__main__":
    main()
