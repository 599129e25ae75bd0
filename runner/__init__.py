"""SOP-as-code runner: runs SOP playbooks and keeps tamper-evident audit evidence of every run.

Public API: ``run_playbook(RunOptions(...)) -> RunOutcome`` and the error types. The runner names are loaded on
first use, so the audit callback (which imports runner.audit inside every ansible process) stays light.
"""

from typing import Any

from runner.errors import AuditIntegrityError, ConfigError, LabError, PolicyError, RefusedError, SopError

__all__ = ["AuditIntegrityError", "ConfigError", "LabError", "PolicyError", "RefusedError", "RunOptions",
           "RunOutcome", "SopError", "run_playbook"]
__version__ = "0.1.0"

_LAZY = {"RunOptions", "RunOutcome", "run_playbook"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from runner import ansible_run

        return getattr(ansible_run, name)
    raise AttributeError(f"module 'runner' has no attribute {name!r}")
