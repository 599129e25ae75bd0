"""Helpers shared by the lab tests (import as `from labtools import ...`; tests/ is on sys.path via conftest)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from runner.paths import REPO_ROOT


def ansible_playbook(playbook: str | Path, inventory: Path, *args: str, env: dict[str, str] | None = None,
                     environ: dict[str, str] | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run plain ansible-playbook from the repo root (so ansible.cfg applies) and return the result.

    ``env`` adds to the environment, which is ``environ`` when given (e.g. scrubbed of CI variables), else ours.
    """
    venv_bin = Path(REPO_ROOT / ".venv" / "bin")
    command = [str(venv_bin / "ansible-playbook"), "-i", str(inventory), str(playbook), *args]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800,
                            env={**(os.environ if environ is None else environ), **(env or {})}, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n"
                             f"{result.stderr[-2000:]}")
    return result
