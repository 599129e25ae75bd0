"""The audit callback, sop.core.audit: the logic lives in runner.audit.callback (see docs/audit-record.md).

In this repository it is loaded through the thin shim playbooks/callback_plugins/sop_audit.py (a folder beside
the playbooks is searched under every entry point, and its callbacks load without being enabled). Elsewhere,
enable it by name: callbacks_enabled = sop.core.audit. Do not do both: each loaded copy records the run.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: audit
type: notification
short_description: Record every run as tamper-evident SOP audit evidence
description:
  - Writes the run's events (JSON Lines) while it runs, then the run record, HTML/Markdown/JSON reports and a
    signed, hash-chained ledger entry under the audit directory.
requirements:
  - The project's Python package (C(runner), C(pip install -e .) of the repository) in the controller's Python.
extends_documentation_fragment:
  - sop.core.audit
"""

from runner.audit.callback import AuditCallback


class CallbackModule(AuditCallback):
    """ansible loads the class named CallbackModule."""

    CALLBACK_NAME = "sop.core.audit"
