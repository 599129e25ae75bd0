"""The asset register (SOP 2): devices, their disks, who holds them, and every change as history.

``Register`` (runner.assets.register) is the one Python API that changes the register; the Ansible action
``sop.core.sop_asset`` calls it from playbooks, so each change lands in the run record as evidence.
"""

from runner.assets.model import MEDIA_TYPES, STATUSES, TYPES, Asset, Disk
from runner.assets.register import ACTIONS, Change, Register

__all__ = ["ACTIONS", "MEDIA_TYPES", "STATUSES", "TYPES", "Asset", "Change", "Disk", "Register"]
