"""`python -m runner.audit.callback_path`: print the folder holding the sop_audit callback.

For setups that cannot put the playbooks' own callback_plugins/ folder beside their playbooks: add the printed
folder to ANSIBLE_CALLBACK_PLUGINS (or `callback_plugins =` in their ansible.cfg).
"""

from __future__ import annotations

from runner.ansible_run import CALLBACK_DIR

if __name__ == "__main__":
    print(CALLBACK_DIR)
