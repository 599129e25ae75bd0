"""The embedded lab: Debian 12 hosts (podman + systemd, real SSH), emulated network devices, an S3 store."""

from runner.lab.instance import Lab, default_lab_name

__all__ = ["Lab", "default_lab_name"]
