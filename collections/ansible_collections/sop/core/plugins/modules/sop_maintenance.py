# The code is the action plugin plugins/action/sop_maintenance.py (it runs on the controller); this file
# carries its documentation for ansible-doc and ansible-test.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_maintenance
short_description: The maintenance policy of a host and the record of its maintenance (SOP 2.4, 3.4)
description:
  - C(phase=plan) returns the validated maintenance policy of C(policies/assets.yml) for the host - the cadence
    by its inventory groups (workstations every 90 days, servers every 7) and the cleanup limits.
  - C(phase=record) writes the maintenance into the asset register - the host's asset (found by hostname; a host
    with none, such as a server, gets an entry named by the host) gets C(last_maintenance) and
    C(next_maintenance_due), so C(sop assets due) lists what is overdue. The findings of the play's checks are
    returned in C(sop_evidence).
  - The same day twice changes nothing; check mode writes nothing. Runs on the controller.
options:
  phase:
    description: plan or record.
    type: str
    default: record
    choices: [plan, record]
  host:
    description: The host maintained (its inventory name, the asset's hostname).
    type: str
    required: true
  groups:
    description: Its inventory groups (they choose the cadence).
    type: list
    elements: str
    default: []
  findings:
    description: What the maintenance found (disk and memory, SMART, pending updates, baseline, cleanup).
    type: dict
    default: {}
  date:
    description: The maintenance date (YYYY-MM-DD); default today (UTC).
    type: str
    default: ""
  policy:
    description: Asset policy; default C(policies/assets.yml).
    type: path
  db:
    description: "Register file; default $SOP_ASSETS_DB, else assets/register.sqlite beside the audit dir."
    type: path
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Record the maintenance and the next due date | sop2.4
  sop.core.sop_maintenance:
    host: "{{ inventory_hostname }}"
    groups: "{{ group_names }}"
    findings: {updates_pending: 3}
  delegate_to: localhost
"""

RETURN = r"""
maintenance:
  description: plan - cadence_days, date, next_due, cleanup; record - also host, asset, findings, register.
  returned: success
  type: dict
sop_evidence:
  description: "C(maintenance): the record's maintenance."
  returned: success
  type: dict
"""
