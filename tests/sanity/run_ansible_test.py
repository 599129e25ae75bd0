"""Run ``ansible-test sanity`` and the unit tests of the sop.core collection, offline, on this Python.

    .venv/bin/python tests/sanity/run_ansible_test.py            # both (what ./bootstrap test runs)
    .venv/bin/python tests/sanity/run_ansible_test.py sanity     # or units; extra arguments go to the tool

The unit tests (``tests/unit/plugins/...`` inside the collection) run with this venv's pytest rather than
``ansible-test units``: the controller plugins need the project's package ``runner``, which ansible-test's
clean units venv does not have.

ansible-test runs each sanity test in a virtual environment of its own (under ~/.ansible/test/venv) and
installs its pinned requirements there with pip, which it bootstraps by downloading get-pip.py from
ci-files.testing.ansible.com; that host is not reachable from the project's machines. So this script:

- points HOME at ``.venv/ansible-test-home`` (ansible-test's venvs and caches stay inside this checkout's
  git-ignored .venv, never in the user's home);
- puts an offline get-pip in ansible-test's cache: the venv's own ``ensurepip`` plus pip from the package
  index pip is configured with (the requirement versions ansible-test pins are installable there);
- runs with ``--local --python 3.11`` (no docker or venv delegation) and only the tests that need neither
  network nor containers and that apply here (pslint: no PowerShell; shellcheck: no shell scripts; changelog:
  no changelogs/ in this local collection).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLLECTION = REPO / "collections" / "ansible_collections" / "sop" / "core"
HOME = REPO / ".venv" / "ansible-test-home"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
SKIPPED = ("pslint", "shellcheck", "changelog")

GET_PIP = '''"""Offline stand-in for get-pip.py (written by tests/sanity/run_ansible_test.py)."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args])
'''


def _ansible_test() -> str:
    return str(Path(sys.executable).parent / "ansible-test")


def _pip_version() -> str:
    """The pip version ansible-test bootstraps into its venvs (get-pip.py is cached by that version)."""
    from ansible_test._internal.python_requirements import get_venv_packages

    class _Python:  # get_venv_packages reads only .version
        version = PYTHON

    return get_venv_packages(_Python())["pip"]


def _environment() -> dict[str, str]:
    cache = HOME / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / f"get_pip_{_pip_version().replace('.', '_')}.py").write_text(GET_PIP)
    return dict(os.environ, HOME=str(HOME))


def run(kind: str, extra: list[str]) -> int:
    if kind == "units":
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit", *extra]
        env = dict(os.environ)
    else:
        command = [_ansible_test(), "sanity", "--local", "--python", PYTHON, "--color", "no"]
        command += [arg for name in SKIPPED for arg in ("--skip-test", name)] + extra
        env = _environment()
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, cwd=COLLECTION, env=env, check=False).returncode


def main(argv: list[str]) -> int:
    kinds = [a for a in argv if a in ("sanity", "units")] or ["sanity", "units"]
    extra = [a for a in argv if a not in ("sanity", "units")]
    for kind in kinds:
        rc = run(kind, extra)
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
