"""A small restic client: one object per repository, ``--json`` output, timeouts and mapped errors.

Why not resticpy for this: resticpy keeps the repository and password file in module-level globals (two
repositories -- local and cloud -- cannot be used side by side), takes credentials only from os.environ,
returns None from ``check()`` on failure instead of raising, and has no timeout. Each call here builds its
own environment, goes through ``runner.execute`` (secrets masked in debug logs) and raises a
``runner.backup.errors.ResticError`` subclass that says what went wrong.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runner import execute
from runner.backup.errors import RepositoryMissingError, ResticError, ResticTimeoutError, classify

RESTIC = "restic"


@dataclass(frozen=True)
class Repository:
    """Where a repository is and how to open it. ``env`` holds backend credentials (AWS_* for S3)."""

    location: str
    password: str
    env: Mapping[str, str] = field(default_factory=dict)
    name: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} ({self.location})" if self.name else self.location

    def secrets(self) -> list[str]:
        hidden = [self.password]
        hidden += [v for k, v in self.env.items() if "SECRET" in k or "TOKEN" in k or "PASSWORD" in k]
        return [s for s in hidden if s]


@dataclass(frozen=True)
class CallResult:
    stdout: str
    stderr: str
    seconds: float


class Restic:
    """restic against one repository. Every method raises ResticError (a SopError) on failure."""

    def __init__(self, repository: Repository, *, timeout: float = 600, binary: str = RESTIC) -> None:
        self.repository = repository
        self.timeout = timeout
        self.binary = binary

    # --- plumbing -----------------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        # The password travels in the environment, never on the command line (visible in ps and logs).
        return {**self.repository.env, "RESTIC_REPOSITORY": self.repository.location,
                "RESTIC_PASSWORD": self.repository.password, "RESTIC_PROGRESS_FPS": "0.2"}

    def call(self, *args: str, timeout: float | None = None) -> CallResult:
        command = [self.binary, "--no-cache", *args]
        started = time.monotonic()
        try:
            result = execute.run(command, env=self._env(), check=False, timeout=timeout or self.timeout,
                                 secrets=self.repository.secrets())
        except subprocess.TimeoutExpired:
            raise ResticTimeoutError(self.repository.label, f"{args[0]} took longer than "
                                     f"{timeout or self.timeout:.0f}s", hint="is the endpoint reachable "
                                     "and responsive?") from None
        if result.returncode != 0:
            raise classify(self.repository.label, result.returncode, self._mask(result.stderr))
        return CallResult(result.stdout, result.stderr, time.monotonic() - started)

    def _mask(self, text: str) -> str:
        for secret in self.repository.secrets():
            text = text.replace(secret, "****")
        return text

    def call_json(self, *args: str, timeout: float | None = None) -> Any:
        out = self.call(*args, "--json", timeout=timeout).stdout
        try:
            return json.loads(out)
        except json.JSONDecodeError:
            raise ResticError(self.repository.label, f"{args[0]}: unexpected non-JSON output") from None

    # --- commands -----------------------------------------------------------------------------------------
    def init(self) -> None:
        self.call("init")

    def exists(self) -> bool:
        """True if a repository opens here; False only when it is missing (other errors still raise)."""
        try:
            self.call("cat", "config")
        except RepositoryMissingError:
            return False
        return True

    def backup(self, paths: Sequence[str], *, tags: Sequence[str] = (), excludes: Sequence[str] = (),
               host: str | None = None) -> dict[str, Any]:
        args = ["backup", *paths]
        for tag in tags:
            args += ["--tag", tag]
        for pattern in excludes:
            args += ["--exclude", pattern]
        if host:
            args += ["--host", host]
        out = self.call(*args, "--json").stdout
        return _summary(out)

    def snapshots(self, *, tags: Sequence[str] = (), host: str | None = None) -> list[dict[str, Any]]:
        args = ["snapshots"]
        if tags:
            args += ["--tag", ",".join(tags)]
        if host:
            args += ["--host", host]
        result = self.call_json(*args)
        return list(result or [])

    def check(self, read_data_subset: str | None = None) -> CallResult:
        """``restic check``; raises ResticError naming the first error line if the repository is damaged."""
        args = ["check"]
        if read_data_subset:
            args.append(f"--read-data-subset={read_data_subset}")
        return self.call(*args)

    def restore(self, target: str, *, snapshot: str = "latest", includes: Sequence[str] = (),
                verify: bool = True) -> CallResult:
        args = ["restore", snapshot, "--target", target]
        for path in includes:
            args += ["--include", path]
        if verify:
            args.append("--verify")
        return self.call(*args)

    def forget(self, *, keep_daily: int, keep_weekly: int, keep_monthly: int,
               prune: bool = True) -> CallResult:
        args = ["forget", "--keep-daily", str(keep_daily), "--keep-weekly", str(keep_weekly),
                "--keep-monthly", str(keep_monthly)]
        if prune:
            args.append("--prune")
        return self.call(*args)


def _summary(stream: str) -> dict[str, Any]:
    """The ``summary`` message of ``restic backup --json`` (a stream of JSON lines)."""
    for line in reversed(stream.splitlines()):
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(message, dict) and message.get("message_type") == "summary":
            return message
    return {}
