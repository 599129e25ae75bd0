"""The git-versioned configuration store: one file per device and kind, one commit per backup run."""

from __future__ import annotations

import subprocess
from pathlib import Path

from runner import execute
from runner.errors import ConfigError

KINDS = ("running", "startup")
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
                "per backup run naming its run id. `git log -p running/<device>.cfg` shows its history.\n")
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

    def stage(self) -> None:
        # Only the kinds written so far: git fails on a pathspec that matches nothing (a first run in which
        # every device failed, or was refused, wrote no file).
        present = [kind for kind in KINDS if (self.path / kind).is_dir()]
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

    def log(self, limit: int = 20) -> list[str]:
        return self.git("log", f"-{limit}", "--format=%H %s").splitlines()
