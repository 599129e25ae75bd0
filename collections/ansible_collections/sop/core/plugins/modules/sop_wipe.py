# The code is the action plugin plugins/action/sop_wipe.py (it runs on the controller and calls
# sop.core.sop_sanitize on the target); this file carries its documentation for ansible-doc and ansible-test.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_wipe
short_description: Sanitize a returned asset's disk (NIST SP 800-88 Clear) with approval, and certify it
description:
  - SOP 2.6. Refuses, writing nothing, unless every approver role of policies/assets.yml approved (not the
    operator), the asset is C(returned) in the register, I(device) is named explicitly, the register holds
    the disk and the operator confirmed its serial (I(confirm_serial)), the policy's method for the media
    type is one this tool performs, and on the target the device's serial/model match and it is not
    mounted, not the running root or its disk and not in use.
  - With I(phase=gate) only the checks run; tag that task C(sop_gate), so a refusal ends the run as refused.
  - With I(phase=wipe) the device is overwritten and verified (sop.core.sop_sanitize), a certificate of
    sanitization (JSON signed with the ledger key, HTML, PDF) is written under the audit dir's
    assets/certificates/ and sealed in the ledger, and the asset moves to C(sanitized), then I(destination).
  - Approvals come from I(approvals), merged over C(sop_approvals) and $SOP_APPROVALS (sop run --approved-by).
options:
  tag:
    description: Asset tag.
    type: str
    required: true
  device:
    description: Device path on the target, e.g. /dev/sdb (never discovered; empty is refused).
    type: str
    default: ""
  disk_index:
    description: Which of the asset's registered disks this is.
    type: int
    default: 0
  confirm_serial:
    description: The disk serial as typed by the operator.
    type: str
    default: ""
  approvals:
    description: "role -> name, e.g. {it_manager: Budi}."
    type: dict
    default: {}
  operator:
    description: Operator name on the certificate (default the detected operator).
    type: str
    default: ""
  destination:
    description: Where the device goes after sanitization (in_stock or retired, per the policy).
    type: str
    default: in_stock
  phase:
    description: gate (checks only) or wipe.
    type: str
    choices: [gate, wipe]
    default: wipe
  seed:
    description: Seed of the verification's sample locations (default random, recorded).
    type: int
  policy:
    description: Asset policy file (default policies/assets.yml).
    type: path
  db:
    description: Asset register (default $SOP_ASSETS_DB, else assets/register.sqlite beside the audit dir).
    type: path
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Sanitize the returned laptop's disk | sop2.6
  sop.core.sop_wipe:
    tag: LT-0001
    device: /dev/sdb
    confirm_serial: "{{ wipe_confirm_serial }}"
"""

RETURN = r"""
certificate:
  description: Certificate id and the paths of certificate.json, .html and .pdf.
  returned: when wiped
  type: dict
sanitization:
  description: What sop_sanitize returned (bytes written, times, verification).
  returned: when wiped
  type: dict
refused:
  description: True when a gate refused (nothing written).
  returned: when refused
  type: bool
sop_evidence:
  description: "C(wipe): allowed, reasons, approver, operator, method, device identity, certificate."
  returned: always
  type: dict
"""
