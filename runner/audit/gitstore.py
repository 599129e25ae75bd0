"""Checking a git-versioned evidence store (the network config store) against the commit a record names."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from runner import execute

COMMIT = re.compile(r"^[0-9a-f]{40}$")


def _git(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return execute.run(["git", "-C", str(store), *args], check=False, timeout=60)


def commit_problems(store: str, commit: str, *, check_tree: bool = True) -> list[str]:
    """Empty when ``commit`` is in the store's history (an ancestor of HEAD) and nothing is edited since.

    A commit id is the hash of its tree: a record naming it (hashed into the ledger) pins every file of it."""
    path = Path(store)
    label = f"network config store {path}"
    problem = _history_problem(path, commit)
    if problem is None and check_tree:
        edited = [line[3:] for line in _git(path, "status", "--porcelain").stdout.split("\n") if line.strip()]
        if edited:
            problem = f"{edited[0]} differs from the last commit (edited outside a backup run)"
    return [f"{label}: {problem}"] if problem else []


def _history_problem(path: Path, commit: str) -> str | None:
    if not COMMIT.match(commit):
        return f"{commit!r} is not a commit id"
    if not (path / ".git").exists():
        return f"missing (commit {commit[:12]} cannot be checked)"
    if _git(path, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        return f"commit {commit[:12]} is missing (history rewritten)"
    if _git(path, "merge-base", "--is-ancestor", commit, "HEAD").returncode != 0:
        return f"commit {commit[:12]} is no longer in the history of HEAD (history rewritten)"
    return None
