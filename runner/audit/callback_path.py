"""`python -m runner.audit.callback_path [--collections]`: print the folder holding the sop_audit callback shim
(or, with --collections, the folder holding the sop.core collection).

For setups that cannot put the playbooks' own callback_plugins/ and collections/ folders beside their playbooks:
add the first to ANSIBLE_CALLBACK_PLUGINS and the second to ANSIBLE_COLLECTIONS_PATH (the shim loads the real
callback, sop.core.audit, from the collection). Or, with only the collections path, enable the callback by name:
ANSIBLE_CALLBACKS_ENABLED=sop.core.audit (not both ways at once: each loaded copy records the run).
"""

from __future__ import annotations

import sys

from runner.ansible_run import CALLBACK_DIR
from runner.paths import REPO_ROOT

COLLECTIONS_DIR = REPO_ROOT / "collections"

if __name__ == "__main__":
    print(COLLECTIONS_DIR if "--collections" in sys.argv[1:] else CALLBACK_DIR)
