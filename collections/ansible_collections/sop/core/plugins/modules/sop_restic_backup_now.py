#!/usr/bin/python
"""Ansible module: run the installed sop-restic-backup script now and return its outcome as evidence."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_restic_backup_now
short_description: Back up now with the restic_backup role's script (SOP 4.1)
description:
  - Runs C(sop-restic-backup --json) on the target, which backs up the host's backup set to every configured
    restic repository and applies retention, and returns its per-repository outcome as C(sop_evidence).
  - In check mode nothing runs; the result says a backup would be made.
options:
  script:
    description: Path of the installed backup script.
    type: path
    default: /usr/local/sbin/sop-restic-backup
  reason:
    description: Why this backup is made (e.g. the change ref of a pre-change backup); stored as a tag.
    type: str
    default: ""
  timeout:
    description: Seconds before the backup is abandoned.
    type: int
    default: 21600
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Pre-change backup
  sop.core.sop_restic_backup_now:
    reason: "CHG-1234 pre-patch"
"""

RETURN = r"""
sop_evidence:
  description: Host, reason, overall status and one entry per repository (snapshot id, files, bytes, seconds).
  returned: always
  type: dict
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

REPOSITORY_KEYS = ("repository", "status", "snapshot_id", "files_total", "bytes_total", "bytes_added",
                   "backup_seconds", "error", "error_kind", "warning")


def main() -> None:
    module = AnsibleModule(
        argument_spec={"script": {"type": "path", "default": "/usr/local/sbin/sop-restic-backup"},
                       "reason": {"type": "str", "default": ""},
                       "timeout": {"type": "int", "default": 21600}},
        supports_check_mode=True,
    )
    script, reason = module.params["script"], module.params["reason"]
    if module.check_mode:
        module.exit_json(changed=True, msg="check mode: a backup would be made now",
                         sop_evidence={"status": "check_mode", "reason": reason})
    if not os.path.exists(script):
        module.fail_json(msg=f"{script} is missing: apply the restic_backup role first")
    command = [script, "--json"] + (["--reason", reason] if reason else [])
    rc, out, err = module.run_command(command, check_rc=False)
    try:
        status = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        module.fail_json(msg=f"backup script produced no result (rc={rc}): {err.strip()[-500:]}")
    evidence = {
        "host": status.get("host"), "reason": reason, "status": status.get("status"),
        "started": status.get("started"), "finished": status.get("finished"),
        "hooks": status.get("hooks", []),
        "repositories": [{k: r.get(k) for k in REPOSITORY_KEYS if r.get(k) is not None}
                         for r in status.get("repositories", [])],
    }
    if rc != 0 or status.get("status") != "ok":
        failed = [f"{r['repository']} ({r.get('error_kind', 'error')}: {r.get('error', '')})"
                  for r in evidence["repositories"] if r.get("status") == "failed"]
        module.fail_json(msg=f"backup FAILED on {status.get('host')}: "
                             + ("; ".join(failed) or status.get("error", f"rc={rc}")),
                         sop_evidence=evidence, changed=bool(evidence["repositories"]))
    module.exit_json(changed=True, msg="backup made: " + ", ".join(
        f"{r['repository']} {r.get('snapshot_id', '')[:8]}" for r in evidence["repositories"]),
        sop_evidence=evidence)


if __name__ == "__main__":
    main()
