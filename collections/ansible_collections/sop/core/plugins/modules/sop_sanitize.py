#!/usr/bin/python
# Runs on the target: sanitize one explicitly named block device (NIST SP 800-88 Clear) and verify it.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_sanitize
short_description: Clear one explicitly named block device (NIST SP 800-88) and verify it by reading back
description:
  - Refuses, before opening the device for writing, unless I(device) is an explicit path to a block device
    whose serial (and model, when given) match I(expected_serial) / I(expected_model), the operator confirmed
    the serial (I(confirm_serial)), and the device is not mounted, does not hold the running root, is not
    the disk of the root's partition, has no holders and the kernel grants exclusive access (O_EXCL).
  - Never discovers a device. A refusal fails with C(refused=true) and writes nothing.
  - Clear is one pass of zeros over every byte (O_DIRECT), then verification reads back the first and last
    block and pseudorandom blocks in each of I(subsections) equal spans (I(verify=sampled), NIST SP 800-88
    Rev. 1 section 4.7), or every byte (I(verify=full)).
  - Usually called by the sop_wipe action (which checks approval and the asset register first), not directly.
  - In check mode only the gates run.
options:
  device:
    description: The device path, e.g. /dev/sdb (required; never discovered).
    type: path
    required: true
  expected_serial:
    description: Serial the register holds for this disk.
    type: str
    required: true
  expected_model:
    description: Model the register holds for this disk (checked when given).
    type: str
    default: ""
  confirm_serial:
    description: The serial as typed by the operator.
    type: str
    required: true
  verify:
    description: Verification by sampling or by reading every byte.
    type: str
    choices: [sampled, full]
    default: sampled
  subsections:
    description: Equal spans of the device sampled.
    type: int
    default: 100
  samples_per_subsection:
    description: Pseudorandom blocks read in each span.
    type: int
    default: 10
  sample_bytes:
    description: Size of each sample read.
    type: int
    default: 4096
  seed:
    description: Seed of the sample locations (default a fresh random one, recorded).
    type: int
  gates_only:
    description: Run only the gates (identity, in use), write nothing.
    type: bool
    default: false
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Clear /dev/sdb after checking its identity
  sop.core.sop_sanitize:
    device: /dev/sdb
    expected_serial: WD-WCC4E1234567
    expected_model: WDC WD10EZEX-08W
    confirm_serial: WD-WCC4E1234567
"""

RETURN = r"""
device:
  description: Identity read from the device (path, kernel name, model, serial, size, media type).
  returned: always
  type: dict
refused:
  description: True when a safety gate refused (nothing written).
  returned: always
  type: bool
sanitization:
  description: Bytes written, start/end times, throughput and the verification (mode, samples, coverage,
    result).
  returned: when written
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sop.core.plugins.module_utils.sop_sanitize import TOOL, Refused, identity, sanitize


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "device": {"type": "path", "required": True},
            "expected_serial": {"type": "str", "required": True},
            "expected_model": {"type": "str", "default": ""},
            "confirm_serial": {"type": "str", "required": True},
            "verify": {"type": "str", "choices": ["sampled", "full"], "default": "sampled"},
            "subsections": {"type": "int", "default": 100},
            "samples_per_subsection": {"type": "int", "default": 10},
            "sample_bytes": {"type": "int", "default": 4096},
            "seed": {"type": "int"},
            "gates_only": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        result = sanitize(params["device"], params["expected_serial"], params["expected_model"],
                          params["confirm_serial"], verify_mode=params["verify"], subsections=params["subsections"],
                          per_subsection=params["samples_per_subsection"], sample_bytes=params["sample_bytes"],
                          seed=params["seed"], gates_only=params["gates_only"] or module.check_mode)
    except Refused as exc:
        try:
            device = identity(params["device"])
        except Refused:
            device = {"path": params["device"]}
        module.fail_json(msg=f"REFUSED: {exc}", refused=True, device=device, changed=False)
    except OSError as exc:
        module.fail_json(msg="{}: {}".format(params["device"], exc), refused=False, changed=False)
    if not result["written"]:
        module.exit_json(changed=False, refused=False, device=result["device"], msg="gates passed; nothing written")
    verification = result["verification"]
    module.exit_json(changed=True, refused=False, device=result["device"], tool=TOOL,
                     sanitization={k: v for k, v in result.items() if k != "device"},
                     failed=verification["result"] != "pass",
                     msg=f"cleared {params['device']} ({result['bytes_written']} bytes); verification "
                         f"{verification['result']}, {verification['coverage_percent']}% read")


if __name__ == "__main__":
    main()
