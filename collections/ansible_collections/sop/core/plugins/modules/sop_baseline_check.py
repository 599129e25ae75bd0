# The code is the action plugin plugins/action/sop_baseline_check.py (it runs on the controller and calls the
# module sop.core.sop_baseline_probe on the host); this file carries its documentation for ansible-doc.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_baseline_check
short_description: Audit a host against the security baseline without changing it
description:
  - Probes the host read-only with M(sop.core.sop_baseline_probe) and judges every applicable control on the
    controller (runner.check), honouring waivers.
  - Without I(spec), reads the control catalogue, policies/waivers.yml and the waivers.yml beside the host's
    inventory (standalone C(ansible-playbook playbooks/check.yml)); C(sop check) writes a spec file instead.
options:
  spec:
    description: JSON file with controls, waivers and today (written by sop check).
    type: path
  output_dir:
    description: Controller directory for <host>.json verdicts.
    type: path
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Security baseline audit
  sop.core.sop_baseline_check:
  changed_when: false
  check_mode: false
"""

RETURN = r"""
verdicts:
  description: One verdict per control (control, status, message, seen, required).
  returned: always
  type: list
  elements: dict
summary:
  description: Counts per status, for example C(pass=12 fail=1 error=0 waived=1 not_applicable=3).
  returned: always
  type: str
sop_evidence:
  description: The verdicts per control as stored in the audit record.
  returned: always
  type: dict
"""
