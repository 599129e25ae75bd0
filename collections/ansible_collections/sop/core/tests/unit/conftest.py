"""pytest setup for the collection's unit tests: make ``ansible_collections.sop.core`` importable.

ansible-test units does this with its collection loader; under plain pytest the repository's collections/
folder goes on sys.path (``ansible_collections`` is a namespace package, so the collections the ansible
package ships stay importable too).
"""

from __future__ import annotations

import sys
from pathlib import Path

COLLECTIONS_ROOT = Path(__file__).resolve().parents[5]  # .../collections (holds ansible_collections/)
if str(COLLECTIONS_ROOT) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_ROOT))
