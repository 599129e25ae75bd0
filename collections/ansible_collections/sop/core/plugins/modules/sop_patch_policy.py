# The code is the action plugin plugins/action/sop_patch_policy.py (it runs on the controller); this file
# carries its documentation for ansible-doc and ansible-test.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_patch_policy
short_description: Load and validate the patching policy (policies/patching.yml) and check the window
description:
  - Reads the patching policy, validates it against the policy schema (one line naming the file, the line and
    every problem) and sets it as the fact C(sop_patch_policy).
  - Sets C(sop_patch_window) saying whether now is inside a maintenance window, in the policy's time zone.
  - Runs on the controller (action plugin); needs the project's Python package C(runner).
options:
  path:
    description: Policy file; default policies/patching.yml of the checkout.
    type: path
  now:
    description: ISO date-time to judge the window at, instead of the current time (tests, planning).
    type: str
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Load the patching policy
  sop.core.sop_patch_policy:
"""

RETURN = r"""
ansible_facts:
  description: The validated policy and the window status.
  returned: success
  type: dict
  contains:
    sop_patch_policy:
      description: Windows, batches, staging validity, reboot, validation and holds (see policies/patching.yml).
      type: dict
      returned: success
    sop_patch_window:
      description: C(inside), C(local_time), C(timezone), C(day), C(window) and C(windows).
      type: dict
      returned: success
"""
