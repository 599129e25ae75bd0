"""Helpers shared by the lab tests (import as `from labtools import ...`; tests/ is on sys.path via conftest)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto S3 server of the caller's own on a free 127.0.0.1 port (in memory, not the lab's); yields its
    endpoint once it answers (bounded: 30 s)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(REPO_ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(endpoint, timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield endpoint
    finally:
        server.kill()  # in-memory: nothing to lose; it ignores SIGTERM for a long time
        server.wait()


def scratch_lab_name(purpose: str) -> str:
    """A lab name for a test's own lab (``<session lab>-<purpose><n>``) in another slot (ports, subnet) than the
    session's lab, so the session's lab (tests/conftest.py) is never reused, overwritten or taken down by it:
    names hash into 30 slots."""
    from runner.lab import Lab

    session_lab = os.environ.get("SOP_TEST_LAB", "test")
    session = Lab(session_lab, progress=lambda _msg: None).index
    for number in range(1, 100):
        name = f"{session_lab[:14]}-{purpose}{number}"
        if Lab(name, progress=lambda _msg: None).index != session:
            return name
    raise AssertionError("no free lab slot")
