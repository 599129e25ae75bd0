"""The git-versioned configuration store: one file per device and kind, one commit per backup run."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

from runner import execute
from runner.errors import ConfigError

KINDS = ("running", "startup")
PUSH_TIMEOUT = 60
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
_IDENTITY = ["-c", "user.name=sop-network-backup", "-c", "user.email=sop-network-backup@localhost",
             "-c", "commit.gpgsign=false"]


class ConfigStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def git(self, *args: str, check: bool = True) -> str:
        try:
            command = ["git", "-C", str(self.path), *_IDENTITY, *args]
            return execute.run(command, check=check, timeout=120).stdout
        except subprocess.CalledProcessError as exc:
            raise ConfigError(f"network config store {self.path}: git {args[0]} failed: "
                              f"{(exc.stderr or '').strip()[:200]}") from None

    def ensure(self) -> None:
        """Create the store (a git repository) on first use."""
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"network config store {self.path}: exists and is not a directory")
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not (self.path / ".git").exists():
            self.git("init", "-q", "-b", "main")
            (self.path / "README.md").write_text(
                "# Network device configuration backups\n\nWritten by `playbooks/network_backup.yml` "
                "(SOP 3). One file per device under `running/` and `startup/`, secrets masked; one commit "
                "per backup run naming its run id. `git log -p running/<device>.cfg` shows its history; "
                "`status.json` each device's last success and failure; `index/index.html` an overview with "
                "links to each device's recent diffs.\n")
            self.git("add", "README.md")
            self.git("commit", "-q", "-m", "Create the network configuration store")

    def file(self, device: str, kind: str) -> Path:
        return self.path / kind / f"{device}.cfg"

    def write(self, device: str, kind: str, text: str) -> None:
        target = self.file(device, kind)
        target.parent.mkdir(exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(target)

    def stage(self, *extra: str) -> None:
        """Stage the configurations (and ``extra`` paths of the store, e.g. the status and the index).

        Only paths that exist: git fails on a pathspec that matches nothing (a first run in which every device
        failed, or was refused, wrote no configuration)."""
        present = [p for p in (*KINDS, *extra) if (self.path / p).exists()]
        if present:
            self.git("add", "-A", "--", *present)

    def tracked(self) -> set[str]:
        """Paths committed at HEAD (one git call for the whole run)."""
        return set(self.git("ls-tree", "-r", "--name-only", "HEAD").splitlines())

    def staged_diffs(self) -> dict[str, str]:
        """Unified diff of everything staged, split per path (one git call for the whole run)."""
        diffs: dict[str, list[str]] = {}
        current: list[str] | None = None
        for line in self.git("diff", "--cached", "--no-color", "-U3").splitlines():
            if line.startswith("diff --git a/"):
                path = line.split(" b/", 1)[1]
                current = diffs.setdefault(path, [])
            if current is not None:
                current.append(line)
        return {path: "\n".join(lines) + "\n" for path, lines in diffs.items()}

    def commit(self, message: str) -> str:
        """Commit what is staged (an empty commit when nothing changed: every run leaves its mark)."""
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def push(self, remote: str, timeout: float = PUSH_TIMEOUT) -> dict[str, Any]:
        """Push HEAD to ``remote``'s main branch; never raises: a failed push is reported, the backup stands.

        No force: a remote whose history differs (rewritten here or there) is refused, as a review copy should."""
        shown = redact_url(remote)
        command = ["git", "-C", str(self.path), *_IDENTITY, "push", "--porcelain", remote, "HEAD:refs/heads/main"]
        try:
            done = execute.run(command, check=False, timeout=timeout,
                               env={"GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": _batch_ssh()})
        except subprocess.TimeoutExpired:
            return {"remote": shown, "ok": False, "error": f"git push timed out after {timeout:g} s"}
        if done.returncode == 0:
            return {"remote": shown, "ok": True}
        detail = [line for line in (done.stderr or "").splitlines() if line.strip()]
        reason = " ".join(detail[:2])[:300] if detail else f"git push exited {done.returncode}"
        return {"remote": shown, "ok": False, "error": redact_url(reason.replace(remote, shown))}

    def log(self, limit: int = 20) -> list[str]:
        return self.git("log", f"-{limit}", "--format=%H %s").splitlines()


def redact_url(text: str) -> str:
    """``https://user:token@host/x`` -> ``https://****@host/x``: credentials in a remote URL never reach a record."""
    return _URL_CREDENTIALS.sub("****@", text)


def _batch_ssh() -> str:
    """The operator's ssh command for git (key, port...), never prompting: a scheduled push must not hang."""
    return f"{os.environ.get('GIT_SSH_COMMAND', 'ssh')} -o BatchMode=yes"
