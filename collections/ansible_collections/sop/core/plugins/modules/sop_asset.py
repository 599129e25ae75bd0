# The code is the action plugin plugins/action/sop_asset.py (it runs on the controller); this file
# carries its documentation for ansible-doc and ansible-test.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_asset
short_description: Change the asset register (SOP 2) and record the change as evidence
description:
  - Creates or changes one asset of the register (runner.assets) by an I(action) that names the SOP move
    (assign, maintain, return, sanitize, restock...). Each action may only move the status the way the SOP
    allows; a refused move fails the task and writes nothing.
  - The change (fields before and after, history id) is returned as C(sop_evidence), so it lands in the run
    record. Idempotent; check mode reports the change without writing it.
  - Runs on the controller (action plugin); needs the project's Python package C(runner).
options:
  tag:
    description: Asset tag.
    type: str
    required: true
  action:
    description: The SOP move this change records (create and import may create the asset).
    type: str
    default: update
    choices: [assign, create, import, maintain, maintenance_start, provision, restock, retire, return, sanitize,
              update]
  changes:
    description: Asset fields to set (serial, make, model, type, hostname, assignee_name, assignee_id,
      assignee_username, department, status, dates, notes, disks).
    type: dict
    default: {}
  require_status:
    description: Refuse unless the asset's current status is one of these.
    type: list
    elements: str
    default: []
  actor:
    description: Who makes the change (recorded in the asset's history).
    type: str
    default: ""
  db:
    description: "Register file; default $SOP_ASSETS_DB, else assets/register.sqlite beside the audit dir."
    type: path
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Record the next maintenance date | sop2.4
  sop.core.sop_asset:
    tag: LT-0001
    action: maintain
    changes:
      last_maintenance: "2026-01-05"
      next_maintenance_due: "2026-04-05"
  delegate_to: localhost
"""

RETURN = r"""
asset:
  description: The asset after the change (or as it would be, in check mode).
  returned: success
  type: dict
sop_evidence:
  description: "C(asset_change): asset, action, changed, fields, before, after, status, history_id."
  returned: success
  type: dict
"""
