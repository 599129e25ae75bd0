"""Shim, no logic: loads the collection's audit callback sop.core.audit under its legacy name sop_audit.

Why a shim: ansible-runner and AWX override ANSIBLE_CALLBACK_PLUGINS (ansible.cfg's callback_plugins is then
ignored), and a collection callback loads only when named in callbacks_enabled, which a job's environment can
override too. A callback_plugins/ folder beside the playbook is always searched and its callbacks load without
being enabled, so this file keeps every entry point recorded (docs/audit-record.md).
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: sop_audit
type: notification
short_description: The sop.core.audit callback, under the name the playbooks' callback_plugins/ folder gives it
description:
  - See C(ansible-doc -t callback sop.core.audit).
extends_documentation_fragment:
  - sop.core.audit
"""

from ansible_collections.sop.core.plugins.callback.audit import CallbackModule

__all__ = ["CallbackModule"]
