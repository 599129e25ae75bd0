"""The restic wrapper against real restic 0.14 on local directories and a closed loopback port.

Each failure a user can cause maps to one error class with a clear message that names the repository and
never contains the password.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.backup import errors
from runner.backup.restic import Repository, Restic

PASSWORD = "correct-horse-battery-staple-7781"


@pytest.fixture
def repo(tmp_path: Path) -> Restic:
    client = Restic(Repository(str(tmp_path / "repo"), PASSWORD, name="local"), timeout=60)
    client.init()
    return client


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the with-block ends


def test_round_trip_backup_snapshots_check_restore(repo: Restic, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.txt").write_text("alpha\n")
    summary = repo.backup([str(source)], tags=["sop"], host="unit")
    assert summary["snapshot_id"]
    assert [s["hostname"] for s in repo.snapshots(tags=["sop"], host="unit")] == ["unit"]
    repo.check(read_data_subset="100%")
    repo.restore(str(tmp_path / "out"))
    assert (tmp_path / "out" / str(source).lstrip("/") / "a.txt").read_text() == "alpha\n"
    assert repo.exists()


def test_wrong_password(repo: Restic) -> None:
    wrong = Restic(Repository(repo.repository.location, "not-the-password", name="local"), timeout=60)
    with pytest.raises(errors.WrongPasswordError) as caught:
        wrong.snapshots()
    assert "wrong password" in str(caught.value)
    assert "local" in str(caught.value)
    assert "not-the-password" not in str(caught.value)


def test_missing_repository(tmp_path: Path) -> None:
    client = Restic(Repository(str(tmp_path / "nothing-here"), PASSWORD, name="local"), timeout=60)
    with pytest.raises(errors.RepositoryMissingError) as caught:
        client.snapshots()
    assert str(tmp_path / "nothing-here") in str(caught.value)
    assert not client.exists()


@pytest.fixture
def held_lock(repo: Restic) -> Iterator[subprocess.Popen[bytes]]:
    """A real lock: `restic backup --stdin` keeps its lock while stdin stays open."""
    env = {**os.environ, "RESTIC_REPOSITORY": repo.repository.location, "RESTIC_PASSWORD": PASSWORD}
    proc = subprocess.Popen(["restic", "--no-cache", "backup", "--stdin"], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    locks = Path(repo.repository.location) / "locks"
    deadline = time.monotonic() + 20
    while not any(locks.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(locks.iterdir()), "restic did not take its lock within 20 s"
    yield proc
    proc.kill()
    proc.wait(timeout=10)


def test_locked_repository(repo: Restic, held_lock: subprocess.Popen[bytes]) -> None:
    with pytest.raises(errors.RepositoryLockedError) as caught:
        repo.check()  # check needs an exclusive lock
    assert "locked" in str(caught.value)
    assert caught.value.hint and "unlock" in caught.value.hint


def test_unreachable_cloud_endpoint() -> None:
    port = _closed_port()
    client = Restic(Repository(f"s3:http://127.0.0.1:{port}/bucket/host", PASSWORD, name="cloud",
                               env={"AWS_ACCESS_KEY_ID": "AKIAUNIT",
                                    "AWS_SECRET_ACCESS_KEY": "s3-secret-unit-99"}),
                    timeout=60)
    with pytest.raises(errors.EndpointUnreachableError) as caught:
        client.snapshots()
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message
    assert "s3-secret-unit-99" not in message
    assert PASSWORD not in message


def test_timeout_is_an_error_not_a_hang(repo: Restic) -> None:
    with pytest.raises(errors.ResticTimeoutError):
        repo.call("check", "--read-data", timeout=0.001)


@pytest.mark.parametrize(("stderr", "expected"), [
    ("Fatal: wrong password or no key found\n", errors.WrongPasswordError),
    ("unable to create lock in backend: repository is already locked exclusively by PID 7\n",
     errors.RepositoryLockedError),
    ('Fatal: unable to open config file: Stat: Get "http://s3:5000/b/?location=": dial tcp: lookup s3: '
     "no such host\nIs there a repository at the following location?\n", errors.EndpointUnreachableError),
    ("Fatal: unable to open config file: stat /x/config: no such file or directory\n"
     "Is there a repository at the following location?\n/x\n", errors.RepositoryMissingError),
    ("Fatal: something new\n", errors.ResticError),
])
def test_classification(stderr: str, expected: type[errors.ResticError]) -> None:
    error = errors.classify("repo", 1, stderr)
    assert type(error) is expected
    assert str(error).startswith("restic repository repo: ")
