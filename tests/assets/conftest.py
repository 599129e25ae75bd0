"""The sop.core collection's module_utils are imported by the unit tests (as ansible does, from collections/)."""

from __future__ import annotations

import sys

from runner.paths import REPO_ROOT

if str(REPO_ROOT / "collections") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "collections"))
