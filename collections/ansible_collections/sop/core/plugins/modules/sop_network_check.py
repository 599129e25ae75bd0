# The code is the action plugin plugins/action/sop_network_check.py (it runs on the controller); this file
# carries its documentation for ansible-doc and ansible-test.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_network_check
short_description: Probe the network, diagnose the fault domain, summarise for the morning
description:
  - Runs the probes from the controller (the monitoring station), joins the daily server-health results of
    the same run and localises failures to ISP, router, switch, user or server, with a recommended action.
options:
  probes:
    description: Probe targets (name, kind, type tcp|ssh|dns, host, port, expect, query, depends_on).
    type: list
    elements: dict
    required: true
  policy:
    description: Probe kinds policy; default policies/network/probes.yml.
    type: path
  server_hosts:
    description: Hosts whose registered C(server_health) (M(sop.core.sop_server_health), same run) joins the diagnosis.
    type: list
    elements: str
    default: []
  fail_on_fault:
    description: Fail the task when a fault is localised (so a scheduled run alerts).
    type: bool
    default: true
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Morning network check
  sop.core.sop_network_check:
    probes: "{{ network_check_probes }}"
    server_hosts: "{{ groups['servers'] }}"
  run_once: true
"""

RETURN = r"""
status:
  description: C(ok), C(warn) or C(fault).
  returned: always
  type: str
domains:
  description: Fault domains found (isp, router, switch, user, server).
  returned: always
  type: list
  elements: str
sop_evidence:
  description: Probe results, server health, the diagnosis and the summary line.
  returned: always
  type: dict
"""
