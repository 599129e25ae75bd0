"""Monthly patching and installs (install/update SOP upd1-upd6, SOP 5.3): policy, plan, change record."""
