"""Shared helpers of the restic modules (restic_verify, restic_restore) that run on targets as root.

Repositories are read from the restic_backup role's config (/etc/sop-restic-backup/config.json and its
root-only env files). Error patterns are those of runner/backup/errors.py (restic 0.14). Known secrets are
masked in every message the modules return.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import time
from collections.abc import Collection, Sequence
from typing import IO, Any

CONFIG = "/etc/sop-restic-backup/config.json"

_RULES = [
    (r"wrong password or no key found", "wrong_password"),
    (r"already locked|unable to create lock", "locked"),
    (r"dial tcp|connection refused|no such host|i/o timeout|network is unreachable", "unreachable"),
    (r"Is there a repository at the following location|unable to open config file|NoSuchBucket", "missing"),
]


def classify(stderr: str) -> str:
    for pattern, kind in _RULES:
        if re.search(pattern, stderr):
            return kind
    return "error"


def error_lines(text: str, limit: int = 5) -> list[str]:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    interesting = [ln for ln in lines if re.search(r"(?i)fatal|error|mismatch|does not match|damaged|invalid", ln)]
    return (interesting or lines)[-limit:]


def load_config(path: str = CONFIG) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_env(path: str) -> dict[str, str]:
    env = {}
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.strip()
            if line and not line.startswith("#") and "=" in line:
                key, dummy, value = line.partition("=")
                env[key.strip()] = value.strip()
    return env


class Repo:
    """One configured repository: name, location and the environment that opens it."""

    def __init__(self, name: str, env_file: str) -> None:
        self.name = name
        self.env = load_env(env_file)
        self.location = self.env.get("RESTIC_REPOSITORY", "")
        self.secrets = [v for k, v in self.env.items()
                        if any(s in k for s in ("SECRET", "PASSWORD", "TOKEN")) and not k.endswith("_FILE")]
        pw_file = self.env.get("RESTIC_PASSWORD_FILE")
        if pw_file and os.path.exists(pw_file):
            with open(pw_file, encoding="utf-8") as handle:
                self.secrets.append(handle.read().strip())
        self.secrets = [s for s in self.secrets if s]

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "****")
        return text

    def run(self, args: Sequence[str], timeout: float = 3600,
            stdout_file: IO[bytes] | None = None) -> tuple[int, str, str, float]:
        """(rc, stdout, stderr, seconds); stderr is masked; rc 124 on timeout."""
        env = dict(os.environ)
        env.update(self.env)
        started = time.monotonic()
        try:
            proc = subprocess.run(["restic", "--no-cache", *args], env=env, text=stdout_file is None,
                                  stdout=stdout_file or subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return 124, "", f"timeout after {timeout}s", time.monotonic() - started
        err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode("utf-8", "replace")
        out = proc.stdout if isinstance(proc.stdout, str) else ""
        return proc.returncode, self.mask(out), self.mask(err), time.monotonic() - started


def repositories(config: dict[str, Any], only: Collection[str] | None = None) -> list[Repo]:
    return [Repo(item["name"], item["env_file"]) for item in config["repositories"]
            if not only or item["name"] in only]


def parse_time(text: str) -> dt.datetime:
    """restic timestamps carry nanoseconds; Python wants at most microseconds."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    return dt.datetime.fromisoformat(text)


def latest_snapshot(repo: Repo, host: str, snapshot: str = "latest",
                    timeout: float = 600) -> tuple[dict[str, Any] | None, dict[str, str] | None]:
    """(snapshot dict or None, error dict or None)."""
    args = ["snapshots", "--json", "--host", host, "--tag", "sop"]
    rc, out, err, dummy = repo.run(args, timeout=timeout)
    if rc != 0:
        return None, {"error_kind": classify(err), "error": " | ".join(error_lines(err, 2))}
    snaps = json.loads(out or "[]") or []
    if snapshot != "latest":
        snaps = [s for s in snaps if s.get("id", "").startswith(snapshot) or s.get("short_id") == snapshot]
    if not snaps:
        return None, {"error_kind": "no_snapshot", "error": f"no snapshot {snapshot} of host {host}"}
    return max(snaps, key=lambda s: parse_time(s["time"])), None


def list_files(repo: Repo, snapshot_id: str, paths: Sequence[str] = (), timeout: float = 1800) -> list[dict[str, Any]]:
    """Regular files in the snapshot (optionally under ``paths``): [{path, size, mtime}]."""
    args = ["ls", "--json", snapshot_id] + (["--recursive", *paths] if paths else [])
    rc, out, err, dummy = repo.run(args, timeout=timeout)
    if rc != 0:
        raise RuntimeError(f"restic ls: {classify(err)}: {' | '.join(error_lines(err, 2))}")
    files = []
    for line in out.splitlines():
        try:
            node = json.loads(line)
        except ValueError:
            continue
        if node.get("struct_type") == "node" and node.get("type") == "file":
            files.append({"path": node["path"], "size": node.get("size", 0), "mtime": node.get("mtime")})
    return files


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def same_metadata(path: str, node: dict[str, Any]) -> bool:
    """True if the live file still has the size and mtime recorded in the snapshot."""
    try:
        stat = os.stat(path)
    except OSError:
        return False
    if stat.st_size != node["size"] or not node.get("mtime"):
        return False
    return abs(stat.st_mtime - parse_time(node["mtime"]).timestamp()) < 0.001


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
