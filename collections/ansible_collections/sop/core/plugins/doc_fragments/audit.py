"""Options of the audit callback, shared by sop.core.audit and the playbooks' callback_plugins/sop_audit.py."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  audit_dir:
    description: Audit directory (default audit/ at the repository root).
    type: path
    env: [{name: SOP_AUDIT_DIR}]
    ini: [{section: sop, key: audit_dir}]
  run_id:
    description: Run id chosen by the caller (sop run); generated otherwise.
    type: str
    env: [{name: SOP_RUN_ID}]
  change_ref:
    description: Change reference (also the extra var sop_change_ref).
    type: str
    env: [{name: SOP_CHANGE_REF}]
  reason:
    description: Why the run happens (also the extra var sop_reason).
    type: str
    env: [{name: SOP_REASON}]
  approvals:
    description: JSON object role -> approver name (also the extra var sop_approvals).
    type: str
    env: [{name: SOP_APPROVALS}]
"""
