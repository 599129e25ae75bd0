# The code is the action plugin plugins/action/sop_network_backup.py (it runs on the controller); this file
# carries its documentation for ansible-doc and ansible-test.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sop_network_backup
short_description: Back up network device configurations (netmiko, thread pool) into a git store
description:
  - One task for the whole play (use C(run_once)); netmiko sessions in a bounded thread pool instead of one
    network_cli connection per device. Devices and credentials come from the play's hostvars.
  - A device with C(network_transport=netconf) (or C(ansible_connection=ansible.netcommon.netconf)), such as
    Junos, is fetched over NETCONF with ncclient (get-config of the running datastore, stored as XML; port
    default 830); it has no startup configuration.
  - Secrets are masked before anything is written, by the rules of the device type's vendor family
    (runner/network/masking_rules.yml); one commit per run, which also holds each device's backup status
    (C(status.json)) and a static HTML index (C(index/index.html)). In check mode nothing is fetched.
  - A device type without a masking family is not stored (the device fails with error_kind C(unmasked)) unless
    the host sets C(network_mask_family) (C(generic), or a family name); then it is stored masked by those rules
    and the task returns a warning for it.
  - Before anything is written the masked text is scanned for the host's known secrets and for high-entropy
    tokens; a suspect fails that device (error_kind C(leak), the line number and why, never the value) and
    nothing of it is stored; its last good backup is kept.
options:
  devices:
    description: Inventory hostnames to back up; default the play's hosts (after --limit).
    type: list
    elements: str
  store:
    description: Git store directory (created on first use); default audit/network-configs of the checkout.
    type: path
  workers:
    description: Concurrent SSH sessions at most.
    type: int
    default: 16
  timeout:
    description: Per-device connect/read timeout in seconds.
    type: int
    default: 20
  notify_command:
    description: Command (argv list) run when a configuration changed; diffs on stdin, SOP_NETWORK_* env.
    type: list
    elements: str
  run_id:
    description: Run id named in the commit; default SOP_RUN_ID (set by sop run) or a new one.
    type: str
  remote:
    description:
      - Git remote (URL or path) the store is pushed to after each run (C(HEAD) to its C(main), never forced).
      - A failed push is reported in C(push) and as a warning; the backup itself stands.
      - Credentials in an URL are shown as C(****) wherever the remote is named.
    type: str
author: SOP-as-code team (@sop-as-code)
"""

EXAMPLES = r"""
- name: Back up every network device
  sop.core.sop_network_backup:
    workers: 16
  run_once: true
  register: __network_backup
"""

RETURN = r"""
status:
  description: C(ok), C(partial) or C(failed).
  returned: success
  type: str
failed_devices:
  description: Devices that could not be backed up.
  returned: success
  type: list
  elements: str
changed_devices:
  description: Devices whose configuration changed since the last backup.
  returned: success
  type: list
  elements: str
commit:
  description: Commit of the store made by this run.
  returned: success
  type: str
push:
  description: The push to O(remote) - C(remote) (credentials masked), C(ok), and C(error) when it failed.
  returned: when O(remote) is set
  type: dict
sop_evidence:
  description:
    - Per-device results, changed devices, unified diffs, the commit, the push and C(warnings).
    - Each device record has C(status), C(device_type), C(mask_family) (the rules it was masked with, null when
      none), C(warnings) and C(seconds); a failed one also C(error_kind) (auth, timeout, unreachable, error,
      unmasked, leak) and C(error).
  returned: success
  type: dict
"""
