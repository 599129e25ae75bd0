# The code is the action plugin plugins/action/sop_provision_request.py (it runs on the controller); this file
# carries its documentation for ansible-doc and ansible-test.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_provision_request
short_description: Check a device request and plan its provisioning (SOP 2.1)
description:
  - Validates a device request (employee id, name, department, job role, asset tag; optionally username,
    title, e-mail, hostname, SSH public key), looks its job role up in C(policies/job_roles.yml) and the asset
    in the register.
  - Refuses an asset that is not in stock, unless it is already assigned to the same employee (a re-run).
  - Returns the plan (account name, local and directory groups, software, access, accessories, hostname, how
    the first login works) as C(provision) and in C(sop_evidence). Read-only; runs on the controller.
options:
  request:
    description: The request, with C(employee_id), C(name), C(department), C(job_role), C(asset_tag) and
      optionally C(username), C(title), C(email), C(hostname), C(ssh_public_key).
    type: dict
    required: true
  officer:
    description: The IT officer handing the device over, with C(name), C(employee_id) and C(title).
    type: dict
    required: true
  policy:
    description: Job roles policy; default C(policies/job_roles.yml).
    type: path
  db:
    description: "Register file; default $SOP_ASSETS_DB, else assets/register.sqlite beside the audit dir."
    type: path
  mail_domain:
    description: Domain of the e-mail address made when the request names none.
    type: str
    default: sop.lab
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Check the request | sop2.1
  sop.core.sop_provision_request:
    request: {employee_id: E-1042, name: Sari Dewi, department: Finance, job_role: finance_staff,
              asset_tag: LT-0001}
    officer: {name: Budi Santoso, employee_id: IT-007, title: IT Support}
  register: plan
  delegate_to: localhost
"""

RETURN = r"""
officer:
  description: The IT officer (name, employee_id, title), checked.
  returned: success
  type: dict
provision:
  description: The plan (username, full_name, employee_id, department, title, job_role, email, shell, groups,
    directory_groups, software, access, accessories, login, ssh_public_key, hostname, asset_tag, asset).
  returned: success
  type: dict
sop_evidence:
  description: "C(provision_request): asset_tag, hostname, username, employee_id, job_role, groups,
    directory_groups, software, login."
  returned: success
  type: dict
"""
