# The code is the action plugin plugins/action/sop_backup_policy.py (it runs on the controller); this file
# carries its documentation for ansible-doc and ansible-test.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_backup_policy
short_description: Load and validate the backup policy (policies/backup.yml)
description:
  - Reads the backup policy, merges I(overrides) over it, validates the result against the policy schema and
    sets it as the fact C(sop_backup_policy).
  - A malformed policy fails the task with one line naming the file and every problem, before any host is
    touched.
  - Runs on the controller (action plugin); needs the project's Python package C(runner).
options:
  path:
    description: Policy file; default policies/backup.yml of the checkout.
    type: path
  overrides:
    description: Values merged over the file (same structure under backup_policy), validated too.
    type: dict
    default: {}
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Load the backup policy with a shorter retention for this run
  sop.core.sop_backup_policy:
    overrides:
      retention:
        keep_daily: 3
"""

RETURN = r"""
ansible_facts:
  description: The validated policy.
  returned: success
  type: dict
  contains:
    sop_backup_policy:
      description: Retention, schedule, verify and restore settings (see policies/backup.yml).
      type: dict
      returned: success
"""
