#!/usr/bin/python
"""Ansible module: restore from a host's restic repository and verify the restored files (SOP 4.3/4.4)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: restic_restore
short_description: Restore files from a restic snapshot, verify them, and record the restore SLA
description:
  - Restores I(paths) (default the whole snapshot) of snapshot I(snapshot) from repository I(repository) of
    the restic_backup role's configuration into I(target) (an alternate path), or in place when I(in_place).
  - Verifies the result against the snapshot, independently of restic's own C(--verify) during the restore
    every file listed in the snapshot exists with the recorded size, and up to I(hash_files) files have the
    same SHA-256 as C(restic dump) of the snapshot.
  - Records request time, restore duration and whether the restore finished within I(sla_hours) of the
    request (SOP 4.4) in C(sop_evidence). The approval gate is the playbook's job (playbooks/restore.yml).
options:
  config: {description: The restic_backup role's configuration file., type: path,
           default: /etc/sop-restic-backup/config.json}
  repository: {description: Repository name (local or cloud)., type: str, default: local}
  snapshot: {description: "Snapshot id or C(latest) (of this host, tag sop).", type: str, default: latest}
  paths: {description: Paths to restore (default the whole snapshot)., type: list, elements: str, default: []}
  target: {description: Alternate directory to restore into; required unless in_place., type: path}
  in_place: {description: Restore over the original files (target /)., type: bool, default: false}
  request_time: {description: ISO 8601 time the restore was requested (default now)., type: str}
  sla_hours: {description: Hours allowed from request to restored data., type: float, default: 24}
  hash_files: {description: At most this many files are hash-compared with restic dump., type: int, default: 200}
  change_ref: {description: Change/ticket reference (recorded)., type: str, required: true}
  approvals: {description: Approver role to name (recorded)., type: dict, required: true}
  timeout: {description: Seconds allowed for each restic call., type: int, default: 21600}
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Restore /srv/data into an alternate path
  sop.core.restic_restore:
    repository: cloud
    paths: [/srv/data]
    target: /var/restore/CHG-42
    change_ref: CHG-42
    approvals: {it_manager: Ani, data_owner: Budi}
"""

RETURN = r"""
sop_evidence:
  description: change ref, approvals, snapshot, target, files/bytes, verification, request time, duration, SLA.
  returned: always
  type: dict
"""

import datetime as dt
import hashlib
import os
import tempfile
from typing import TYPE_CHECKING, Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sop.core.plugins.module_utils.sop_restic import (
    classify,
    error_lines,
    latest_snapshot,
    list_files,
    load_config,
    now_iso,
    parse_time,
    repositories,
    sha256_file,
)

if TYPE_CHECKING:
    from ansible_collections.sop.core.plugins.module_utils.sop_restic import Repo


def dump_sha256(repo: Repo, snapshot_id: str, path: str, timeout: float) -> str | None:
    with tempfile.TemporaryFile() as handle:
        rc = repo.run(["dump", snapshot_id, path], timeout=timeout, stdout_file=handle)[0]
        if rc != 0:
            return None
        handle.seek(0)
        digest = hashlib.sha256()
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
        return digest.hexdigest()


def verify(repo: Repo, snap_id: str, files: list[dict[str, Any]], root: str, *, hash_files: int,
           timeout: float) -> dict[str, Any]:
    missing, wrong_size, mismatched, hashed = [], [], [], 0
    for node in files:
        restored = os.path.join(root, node["path"].lstrip("/"))
        if not os.path.isfile(restored):
            missing.append(node["path"])
        elif os.path.getsize(restored) != node["size"]:
            wrong_size.append(node["path"])
        elif hashed < hash_files:
            hashed += 1
            if dump_sha256(repo, snap_id, node["path"], timeout) != sha256_file(restored):
                mismatched.append(node["path"])
    return {"passed": not (missing or wrong_size or mismatched), "files_checked": len(files),
            "hash_compared": hashed, "missing": missing[:20], "wrong_size": wrong_size[:20],
            "hash_mismatch": mismatched[:20]}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "config": {"type": "path", "default": "/etc/sop-restic-backup/config.json"},
            "repository": {"type": "str", "default": "local"},
            "snapshot": {"type": "str", "default": "latest"},
            "paths": {"type": "list", "elements": "str", "default": []},
            "target": {"type": "path"},
            "in_place": {"type": "bool", "default": False},
            "request_time": {"type": "str"},
            "sla_hours": {"type": "float", "default": 24},
            "hash_files": {"type": "int", "default": 200},
            "change_ref": {"type": "str", "required": True},
            "approvals": {"type": "dict", "required": True},
            "timeout": {"type": "int", "default": 21600},
        },
        required_if=[("in_place", False, ("target",))],
        supports_check_mode=True,
    )
    p = module.params
    requested = parse_time(p["request_time"]) if p["request_time"] else dt.datetime.now(dt.UTC)
    if requested.tzinfo is None:
        requested = requested.replace(tzinfo=dt.UTC)
    target = "/" if p["in_place"] else p["target"]
    config = load_config(p["config"])
    repos = repositories(config, [p["repository"]])
    evidence = {"host": config["host"], "change_ref": p["change_ref"], "approvals": p["approvals"],
                "repository": p["repository"], "target": target, "in_place": p["in_place"],
                "paths": p["paths"] or ["(whole snapshot)"], "request_time": requested.isoformat(),
                "sla_hours": p["sla_hours"]}
    if not repos:
        module.fail_json(msg=f"no repository named {p['repository']!r} on {config['host']}", sop_evidence=evidence)
    repo = repos[0]
    snap, error = latest_snapshot(repo, config["host"], p["snapshot"], timeout=p["timeout"])
    if error:
        module.fail_json(msg=f"restore on {config['host']} from {repo.name}: {error['error_kind']}: "
                             f"{error['error']}", sop_evidence=evidence)
    evidence.update(snapshot_id=snap["short_id"], snapshot_time=snap["time"])
    if module.check_mode:
        module.exit_json(changed=True, msg=f"check mode: would restore snapshot {snap['short_id']} to {target}",
                         sop_evidence=evidence)
    started = now_iso()
    if not p["in_place"]:
        os.makedirs(target, mode=0o700, exist_ok=True)
    args = ["restore", snap["id"], "--target", target, "--verify"]
    for path in p["paths"]:
        args += ["--include", path]
    rc, out, err, secs = repo.run(args, timeout=p["timeout"])
    finished = dt.datetime.now(dt.UTC)
    evidence.update(started=started, finished=finished.replace(microsecond=0).isoformat(),
                    restore_seconds=round(secs, 2))
    if rc != 0:
        evidence["errors"] = error_lines(out + "\n" + err)
        module.fail_json(msg=f"restore on {config['host']} from {repo.name} FAILED: {classify(err)}: "
                             + " | ".join(evidence["errors"][-2:]), sop_evidence=evidence, changed=True)
    files = list_files(repo, snap["id"], p["paths"], timeout=p["timeout"])
    evidence["files"] = len(files)
    evidence["bytes"] = sum(f["size"] for f in files)
    evidence["verification"] = verify(repo, snap["id"], files, target, hash_files=p["hash_files"],
                                      timeout=p["timeout"])
    elapsed = (finished - requested).total_seconds() / 3600
    evidence.update(hours_since_request=round(elapsed, 3), sla_met=elapsed <= p["sla_hours"])
    if not evidence["sla_met"]:
        module.warn(f"restore finished {elapsed:.1f} h after the request: SLA of {p['sla_hours']} h missed (SOP 4.4)")
    if not evidence["verification"]["passed"]:
        module.fail_json(msg=f"restore on {config['host']} from {repo.name}: restored files do not match "
                             f"snapshot {snap['short_id']}", sop_evidence=evidence, changed=True)
    module.exit_json(changed=True, sop_evidence=evidence,
                     msg=f"restored {len(files)} files of snapshot {snap['short_id']} from {repo.name} to {target} "
                         f"in {secs:.1f}s; verified; SLA {'met' if evidence['sla_met'] else 'MISSED'}")


if __name__ == "__main__":
    main()
