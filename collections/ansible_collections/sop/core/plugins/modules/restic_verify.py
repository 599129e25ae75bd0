#!/usr/bin/python
"""Ansible module: verify every restic repository of a host (SOP 4.2) and return one verdict per repository."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: restic_verify
short_description: Prove that a host's restic backups are fresh, intact and restorable (SOP 4.2)
description:
  - "For each repository configured by the restic_backup role (local, cloud), independently of the others:
    C(snapshot_age): the latest snapshot of this host is at most I(max_snapshot_age_hours) old;
    C(restic_check): C(restic check --read-data-subset) finds no damage;
    C(test_restore): a sample of files from the latest snapshot restores (with C(--verify)) into a scratch
    area, timed; C(spot_check): each sampled file whose live copy still has the size and mtime recorded in
    the snapshot has the same SHA-256 as its restored copy (a live file changed since the snapshot is reported
    as changed, not as a failure: the snapshot legitimately holds the old content)."
  - Fails when any check of any repository fails, naming host, repository and check; every repository is
    still verified. The evidence is returned as C(sop_evidence).
options:
  config:
    description: The restic_backup role's configuration file.
    type: path
    default: /etc/sop-restic-backup/config.json
  repositories:
    description: Only these repositories (default all configured).
    type: list
    elements: str
    default: []
  max_snapshot_age_hours:
    description: Oldest acceptable latest snapshot.
    type: float
    required: true
  read_data_subset:
    description: Value of restic check --read-data-subset (C(10%), C(1/5), C(100M)); empty to skip reading data.
    type: str
    default: "10%"
  sample_size:
    description: Files sampled at random from the latest snapshot.
    type: int
    default: 5
  sample_include:
    description: Files always included in the sample (absolute paths as in the snapshot).
    type: list
    elements: str
    default: []
  scratch_dir:
    description: Where test restores go (created 0700, emptied afterwards).
    type: path
    default: /var/tmp/sop-backup-verify
  timeout:
    description: Seconds allowed for each restic call.
    type: int
    default: 3600
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Verify backups
  sop.core.restic_verify:
    max_snapshot_age_hours: 26
    read_data_subset: 10%
    sample_size: 5
"""

RETURN = r"""
sop_evidence:
  description: host, verdict (pass/fail) and per repository its verdict, failed checks and each check's data.
  returned: always
  type: dict
"""

import datetime as dt
import os
import random
import shutil
import time
from collections.abc import Sequence
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
    same_metadata,
    sha256_file,
)

if TYPE_CHECKING:
    from ansible_collections.sop.core.plugins.module_utils.sop_restic import Repo

CHECKS = ("snapshot_age", "restic_check", "test_restore", "spot_check")


def check_age(repo: Repo, host: str, max_hours: float,
              timeout: float) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    snap, error = latest_snapshot(repo, host, timeout=timeout)
    if error:
        return None, {"passed": False, **error}
    age = (dt.datetime.now(dt.UTC) - parse_time(snap["time"])).total_seconds() / 3600
    return snap, {"passed": age <= max_hours, "snapshot_id": snap["short_id"], "snapshot_time": snap["time"],
                  "age_hours": round(age, 2), "max_hours": max_hours}


def check_repo(repo: Repo, subset: str | None, timeout: float) -> dict[str, Any]:
    args = ["check"] + ([f"--read-data-subset={subset}"] if subset else [])
    rc, out, err, secs = repo.run(args, timeout=timeout)
    result = {"passed": rc == 0, "read_data_subset": subset or "none", "seconds": round(secs, 2)}
    if rc != 0:
        result.update(error_kind=classify(err), errors=error_lines(out + "\n" + err))
    return result


def pick_sample(files: list[dict[str, Any]], size: int, include: Sequence[str]) -> list[dict[str, Any]]:
    by_path = {f["path"]: f for f in files}
    chosen = [by_path[p] for p in include if p in by_path]
    rest = [f for f in files if f["path"] not in set(include)]
    chosen += random.SystemRandom().sample(rest, min(len(rest), max(0, size - len(chosen))))
    return chosen


def test_restore(repo: Repo, snap: dict[str, Any], sample: list[dict[str, Any]], scratch: str,
                 timeout: float) -> tuple[str, dict[str, Any]]:
    target = os.path.join(scratch, repo.name)
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target, mode=0o700)
    args = ["restore", snap["id"], "--target", target, "--verify"]
    for node in sample:
        args += ["--include", node["path"]]
    rc, out, err, secs = repo.run(args, timeout=timeout)
    restored = [n for n in sample if os.path.isfile(target + n["path"])
                and os.path.getsize(target + n["path"]) == n["size"]]
    result = {"passed": rc == 0 and len(restored) == len(sample) and bool(sample), "seconds": round(secs, 2),
              "files": len(restored), "bytes": sum(n["size"] for n in restored), "sampled": len(sample)}
    if rc != 0:
        result.update(error_kind=classify(err), errors=error_lines(out + "\n" + err))
    elif not sample:
        result["errors"] = ["the snapshot holds no regular file to sample"]
    elif len(restored) != len(sample):
        result["errors"] = [f"missing or wrong size after restore: {n['path']}" for n in sample
                            if n not in restored][:5]
    return target, result


def spot_check(sample: list[dict[str, Any]], target: str) -> dict[str, Any]:
    matched, mismatched, changed = [], [], []
    for node in sample:
        restored = target + node["path"]
        if not same_metadata(node["path"], node):
            changed.append(node["path"])  # changed or removed since the snapshot: the old content is right
            continue
        if not os.path.isfile(restored):
            mismatched.append({"path": node["path"], "problem": "not restored"})
            continue
        live, copy = sha256_file(node["path"]), sha256_file(restored)
        if live == copy:
            matched.append({"path": node["path"], "sha256": live[:16]})
        else:
            mismatched.append({"path": node["path"], "live_sha256": live[:16], "restored_sha256": copy[:16]})
    return {"passed": not mismatched, "compared": len(matched) + len(mismatched), "matched": matched,
            "mismatched": mismatched, "changed_since_snapshot": changed,
            "conclusive": bool(matched or mismatched)}


def verify_repo(repo: Repo, host: str, params: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
    timeout = params["timeout"]
    evidence = {"repository": repo.name, "location": repo.location, "checks": {}}
    checks = evidence["checks"]
    snap, checks["snapshot_age"] = check_age(repo, host, params["max_snapshot_age_hours"], timeout)
    if snap is None and checks["snapshot_age"].get("error_kind") != "no_snapshot":
        for name in CHECKS[1:]:
            checks[name] = {"passed": False, "error": "not run: the repository cannot be opened"}
    else:
        checks["restic_check"] = check_repo(repo, params["read_data_subset"], timeout)
        if snap is None:
            checks["test_restore"] = {"passed": False, "error": "not run: no snapshot"}
            checks["spot_check"] = {"passed": False, "error": "not run: no snapshot"}
        else:
            run_samples(repo, snap, params, checks)
    failed = [name for name in CHECKS if not checks[name]["passed"]]
    evidence.update(verdict="fail" if failed else "pass", failed_checks=failed,
                    seconds=round(time.monotonic() - started, 2))
    return evidence


def run_samples(repo: Repo, snap: dict[str, Any], params: dict[str, Any], checks: dict[str, Any]) -> None:
    try:
        files = list_files(repo, snap["id"], timeout=params["timeout"])
    except RuntimeError as exc:
        checks["test_restore"] = {"passed": False, "error": str(exc)}
        checks["spot_check"] = {"passed": False, "error": "not run: " + str(exc)}
        return
    sample = pick_sample(files, params["sample_size"], params["sample_include"])
    target, checks["test_restore"] = test_restore(repo, snap, sample, params["scratch_dir"], params["timeout"])
    try:
        checks["spot_check"] = spot_check(sample, target)
    finally:
        shutil.rmtree(target, ignore_errors=True)


def summary(host: str, results: list[dict[str, Any]]) -> str:
    parts = []
    for repo in results:
        if repo["failed_checks"]:
            details = []
            for name in repo["failed_checks"]:
                check = repo["checks"][name]
                why = check.get("error") or "; ".join(check.get("errors", [])[:2])
                if name == "snapshot_age" and "age_hours" in check:
                    why = f"latest snapshot {check['age_hours']} h old > {check['max_hours']} h"
                if name == "spot_check" and check.get("mismatched"):
                    why = "content differs: " + ", ".join(m["path"] for m in check["mismatched"][:3])
                details.append(f"{name} ({why})" if why else name)
            parts.append(f"repository {repo['repository']}: FAILED {', '.join(details)}")
        else:
            parts.append(f"repository {repo['repository']}: pass")
    return f"backup verification on {host}: " + "; ".join(parts)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "config": {"type": "path", "default": "/etc/sop-restic-backup/config.json"},
            "repositories": {"type": "list", "elements": "str", "default": []},
            "max_snapshot_age_hours": {"type": "float", "required": True},
            "read_data_subset": {"type": "str", "default": "10%"},
            "sample_size": {"type": "int", "default": 5},
            "sample_include": {"type": "list", "elements": "str", "default": []},
            "scratch_dir": {"type": "path", "default": "/var/tmp/sop-backup-verify"},
            "timeout": {"type": "int", "default": 3600},
        },
        supports_check_mode=True,  # read-only apart from the scratch area, which is emptied again
    )
    params = module.params
    try:
        config = load_config(params["config"])
    except (OSError, ValueError) as exc:
        module.fail_json(msg=f"cannot read {params['config']} (apply the restic_backup role first): {exc}",
                         sop_evidence={"verdict": "fail", "error": "no backup configuration"})
    host = config["host"]
    os.makedirs(params["scratch_dir"], mode=0o700, exist_ok=True)
    os.chmod(params["scratch_dir"], 0o700)
    started = now_iso()
    results = [verify_repo(repo, host, params) for repo in repositories(config, params["repositories"])]
    verdict = "pass" if results and all(r["verdict"] == "pass" for r in results) else "fail"
    evidence = {"host": host, "verdict": verdict, "started": started, "finished": now_iso(),
                "policy": {k: params[k] for k in ("max_snapshot_age_hours", "read_data_subset", "sample_size")},
                "repositories": results}
    message = summary(host, results) if results else f"backup verification on {host}: no repository configured"
    if verdict != "pass":
        module.fail_json(msg=message, sop_evidence=evidence, changed=False)
    module.exit_json(msg=message, sop_evidence=evidence, changed=False)


if __name__ == "__main__":
    main()
