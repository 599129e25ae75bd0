# The code is the action plugin plugins/action/sop_form.py (it runs on the controller); this file
# carries its documentation for ansible-doc and ansible-test.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_form
short_description: Write and seal a device handover or return form (SOP 2.3, 2.5)
description:
  - Writes the handover form (Berita Acara Serah Terima) or the return condition form (Berita Acara
    Pengembalian) of one asset as JSON, self-contained HTML and PDF (WeasyPrint), in Indonesian or English,
    and seals every file in the audit ledger.
  - The device (brand, type, serial, tag) comes from the asset register; the parties, accessories, installed
    software and access from the task.
  - A form of the same content that exists already is not written again (a second run changes nothing).
    C(sop handover accept TAG --by NAME) records the signatures later and refuses a form changed since.
  - Runs on the controller (action plugin); needs the project's Python package C(runner). Check mode writes
    nothing.
options:
  kind:
    description: Which form.
    type: str
    default: handover
    choices: [handover, return]
  tag:
    description: Asset tag (the asset must be in the register).
    type: str
    required: true
  employee:
    description: The employee (second party) with C(name), C(employee_id), C(title), C(department).
    type: dict
    required: true
  officer:
    description: The IT officer (first party) with C(name), C(employee_id), C(title).
    type: dict
    required: true
  hostname:
    description: The device's hostname (default the register's).
    type: str
    default: ""
  condition:
    description: The device's condition (good, fair, damaged, incomplete).
    type: str
    default: good
  accessories:
    description: Accessories handed over or returned, each with C(item) (charger, bag...), C(quantity), C(serial).
    type: list
    elements: dict
    default: []
  software:
    description: Installed software, each with C(name) and C(version).
    type: list
    elements: dict
    default: []
  access:
    description: Access granted (handover) or revoked (return), each with C(system), C(account), C(groups).
    type: list
    elements: dict
    default: []
  remarks:
    description: Remarks (the return form).
    type: str
    default: ""
  backup:
    description: Snapshot id of the user's data backed up before the return, if any.
    type: str
  lang:
    description: Language of the HTML and PDF (default the setting C(SOP_LANG), else English).
    type: str
    choices: [en, id]
  pdf:
    description: Also write the PDF.
    type: bool
    default: true
  db:
    description: "Register file; default $SOP_ASSETS_DB, else assets/register.sqlite beside the audit dir."
    type: path
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Write the handover form | sop2.3
  sop.core.sop_form:
    kind: handover
    tag: LT-0001
    employee: {name: Sari Dewi, employee_id: E-1042, title: Finance Staff, department: Finance}
    officer: {name: Budi Santoso, employee_id: IT-007, title: IT Support}
    accessories: [{item: charger}, {item: bag}]
    software: [{name: libreoffice, version: "7.4"}]
    access: [{system: directory, account: sdewi, groups: [finance, mail]}]
    lang: id
  delegate_to: localhost
"""

RETURN = r"""
form:
  description: File name -> path of the form's files (form.json, form.html, form.pdf).
  returned: success
  type: dict
sha256:
  description: File name -> sha256, as sealed in the ledger.
  returned: success
  type: dict
sop_evidence:
  description: "C(form): kind, document_number, asset, files, sha256, employee."
  returned: success
  type: dict
"""
