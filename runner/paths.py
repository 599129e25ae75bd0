"""Where the project's files are. One place, so nothing else guesses."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS = REPO_ROOT / "playbooks"
POLICIES = REPO_ROOT / "policies"
INVENTORIES = REPO_ROOT / "inventories"
LAB_STATE = REPO_ROOT / ".lab"


def cache_dir() -> Path:
    """Where built artefacts that outlive a checkout go (the lab image tarball)."""
    base = os.environ.get("SOP_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "sop-as-code" if "SOP_CACHE_DIR" not in os.environ else Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path
