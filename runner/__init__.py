"""SOP-as-code runner: runs SOP playbooks and keeps tamper-evident audit evidence of every run."""

from runner.errors import AuditIntegrityError, ConfigError, LabError, PolicyError, SopError

__all__ = ["AuditIntegrityError", "ConfigError", "LabError", "PolicyError", "SopError"]
__version__ = "0.1.0"
