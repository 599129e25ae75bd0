"""Backups with restic: a typed wrapper with clear errors, and the backup policy loader."""

from runner.backup.errors import (
    EndpointUnreachableError,
    RepositoryLockedError,
    RepositoryMissingError,
    ResticError,
    WrongPasswordError,
)
from runner.backup.policy import load_backup_policy
from runner.backup.restic import Repository, Restic

__all__ = [
    "EndpointUnreachableError",
    "Repository",
    "RepositoryLockedError",
    "RepositoryMissingError",
    "Restic",
    "ResticError",
    "WrongPasswordError",
    "load_backup_policy",
]
