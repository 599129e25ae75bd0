"""The few exceptions a user can cause. Each one's str() is the message shown to the user, and carries an exit code.

Anything else escaping to ``main`` is a bug and shows a traceback.
"""

from __future__ import annotations


class SopError(Exception):
    """Base of every user-facing error."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message}\n  hint: {self.hint}" if self.hint else message


class ConfigError(SopError):
    """Malformed input the user wrote: inventory, variables, settings, CLI arguments."""


class InventoryError(ConfigError):
    """An inventory source that does not parse, or an inventory with no host."""


class PolicyError(SopError):
    """Malformed control catalogue, waivers or other policy data."""


class LabError(SopError):
    """The embedded lab cannot be built, started or reached."""

    exit_code = 3


class RefusedError(SopError):
    """A safety gate refused to act (missing approval, identity check, staging gate)."""

    exit_code = 5


class AuditIntegrityError(SopError):
    """The audit ledger or a run record is missing, altered, reordered or inserted."""

    exit_code = 6
