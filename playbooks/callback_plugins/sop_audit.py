"""Audit callback shim: the logic lives in runner.audit.callback (see docs/audit-record.md).

Found by ansible-playbook through ansible.cfg, and by ansible-runner and AWX (which override
ANSIBLE_CALLBACK_PLUGINS) because this folder sits beside the playbooks. It needs no callbacks_enabled entry.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCUMENTATION = """
name: sop_audit
type: notification
short_description: Record every run as tamper-evident SOP audit evidence
description:
  - Writes the run's events (JSON Lines) while it runs, then the run record, HTML/Markdown/JSON reports and a
    signed, hash-chained ledger entry under the audit directory.
options:
  audit_dir:
    description: Audit directory (default audit/ at the repository root).
    env: [{name: SOP_AUDIT_DIR}]
    ini: [{section: sop, key: audit_dir}]
  run_id:
    description: Run id chosen by the caller (sop run); generated otherwise.
    env: [{name: SOP_RUN_ID}]
  change_ref:
    description: Change reference (also the extra var sop_change_ref).
    env: [{name: SOP_CHANGE_REF}]
  reason:
    description: Why the run happens (also the extra var sop_reason).
    env: [{name: SOP_REASON}]
  approvals:
    description: JSON object role -> approver name (also the extra var sop_approvals).
    env: [{name: SOP_APPROVALS}]
"""

try:
    from runner.audit.callback import AuditCallback
except ImportError:  # the project is not installed in this Python: use the checkout this file lives in
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from runner.audit.callback import AuditCallback


class CallbackModule(AuditCallback):
    """ansible loads the class named CallbackModule."""
