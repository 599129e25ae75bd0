# The code is the action plugin plugins/action/sop_change_gate.py (it runs on the controller); this file
# carries its documentation for ansible-doc and ansible-test.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_change_gate
short_description: Refuse to change protected (production) hosts without change ref, approvals and staging evidence
description:
  - Used by the change_gate role, tagged C(sop_gate), so a refusal ends the run as C(refused) (exit 5).
  - Allows the run when no target is protected; otherwise needs a change reference, an approval of every
    approver role (not by the operator) and, with I(require_staging), a successful run of the same playbook
    on staging in the audit ledger.
options:
  protected_groups:
    description: Inventory groups whose hosts are protected.
    type: list
    elements: str
    default: [production]
  staging_groups:
    description: Inventory groups whose hosts count as staging.
    type: list
    elements: str
    default: [staging]
  approver_roles:
    description: Roles that must each approve a change of a protected host.
    type: list
    elements: str
    default: [it_manager]
  require_staging:
    description: Require a successful run of the same playbook on staging first.
    type: bool
    default: true
  staging_max_age_hours:
    description: A staging success counts only if it ended at most this many hours ago (no limit when unset).
    type: float
  change_ref:
    description: "Default: sop_change_ref, else $SOP_CHANGE_REF (set by sop run)."
    type: str
  approvals:
    description: "role -> name; merged over $SOP_APPROVALS and sop_approvals."
    type: dict
  playbook:
    description: "Playbook file name the staging run must match; default the one running."
    type: str
  audit_dir:
    description: "Default: $SOP_AUDIT_DIR, else audit/ of the checkout."
    type: path
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Production change gate
  sop.core.sop_change_gate:
    approver_roles: [it_manager]
  run_once: true
  delegate_to: localhost
  tags: [always, sop_gate]
"""

RETURN = r"""
sop_evidence:
  description: The decision (allowed, protected targets, change ref, approvals, reasons, staging run).
  returned: always
  type: dict
"""
