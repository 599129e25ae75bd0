"""Map restic's exit codes and messages to one clear, user-facing error each.

restic 0.14 (Debian 12) exits 1 for nearly every fatal error, so the message decides. The patterns below were
measured against restic 0.14.0 on local directories and S3 (moto); they are the same in the Ansible modules
(``collections/ansible_collections/sop/core/plugins/module_utils/sop_restic.py``) that run on targets.
"""

from __future__ import annotations

import re

from runner.errors import SopError


class ResticError(SopError):
    """restic failed; the message names the repository (never its password or keys) and the cause."""

    exit_code = 4
    cause = "restic failed"

    def __init__(self, repository: str, detail: str = "", *, hint: str | None = None) -> None:
        self.repository = repository
        self.detail = detail
        text = f"restic repository {repository}: {self.cause}"
        super().__init__(f"{text}: {detail}" if detail else text, hint=hint)


class WrongPasswordError(ResticError):
    cause = "wrong password (no key in the repository opens with it)"


class RepositoryMissingError(ResticError):
    cause = "no repository at this location (not initialised, or wrong path/bucket)"


class RepositoryLockedError(ResticError):
    cause = "repository is locked by another restic process"


class EndpointUnreachableError(ResticError):
    cause = "storage endpoint unreachable"


class ResticTimeoutError(ResticError):
    cause = "restic did not finish in time"


_RULES: list[tuple[re.Pattern[str], type[ResticError], str]] = [
    (re.compile(r"wrong password or no key found"), WrongPasswordError,
     "check the repository password in the vault / inventory"),
    (re.compile(r"already locked|unable to create lock"), RepositoryLockedError,
     "wait for the other job, or run `restic unlock` if the lock is stale"),
    (re.compile(r"dial tcp|connection refused|no such host|i/o timeout|network is unreachable"
                r"|TLS handshake|context deadline exceeded"), EndpointUnreachableError,
     "check the endpoint URL, DNS and firewall, and that the object store is running"),
    (re.compile(r"Is there a repository at the following location|unable to open config file"
                r"|repository does not exist|The specified bucket does not exist|NoSuchBucket"),
     RepositoryMissingError, "initialise it (the restic_backup role does) or fix the location"),
]


def classify(repository: str, returncode: int, stderr: str) -> ResticError:
    """The most specific error for a failed restic call.

    Unreachable wins over 'missing': both print "unable to open config file".
    """
    detail = _last_fatal_line(stderr)
    for pattern, error, hint in _RULES:
        if pattern.search(stderr):
            return error(repository, detail, hint=hint)
    return ResticError(repository, detail or f"exit code {returncode}")


def _last_fatal_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith("Fatal:")]
    chosen = (fatal or lines or [""])[-1]
    return chosen.removeprefix("Fatal: ")[:300]
