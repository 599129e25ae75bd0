"""The podman calls the lab makes, all with the lab's containers.conf."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runner import execute
from runner.errors import LabError

CONTAINERS_CONF = Path(__file__).with_name("assets") / "containers.conf"
ENV = {"CONTAINERS_CONF": str(CONTAINERS_CONF)}


MIN_INOTIFY_INSTANCES = 1024  # each systemd container holds several; Debian's default 128 stalls ~30 containers


def preflight() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (rootful podman, loop devices)", hint="sudo sop lab up")
    if shutil.which("podman") is None:
        raise LabError("podman is not installed",
                       hint="./bootstrap setup  (or: apt-get install -y podman runc slirp4netns uidmap)")
    limit = int(Path("/proc/sys/fs/inotify/max_user_instances").read_text())
    if limit < MIN_INOTIFY_INSTANCES:
        raise LabError(f"fs.inotify.max_user_instances is {limit}: systemd in lab hosts stalls at boot below "
                       f"{MIN_INOTIFY_INSTANCES}",
                       hint="./bootstrap setup  (or: sysctl -w fs.inotify.max_user_instances=8192)")


def podman(*args: str, check: bool = True, timeout: float = 300, input_text: str | None = None,
           secrets: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    try:
        return execute.run(["podman", *args], env=ENV, check=check, timeout=timeout,
                           input_text=input_text, secrets=secrets)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or exc.stdout or "").strip().splitlines()
        raise LabError(f"podman {args[0]} failed: {detail[-1] if detail else exc}") from None


def exists(kind: str, name: str) -> bool:
    return podman(kind, "exists", name, check=False).returncode == 0


def containers(label: str) -> list[dict[str, Any]]:
    out = podman("ps", "-a", "--filter", f"label={label}", "--format", "json").stdout
    return json.loads(out or "[]")


def container_state(name: str) -> str | None:
    result = podman("inspect", "--format", "{{.State.Status}}", name, check=False)
    return result.stdout.strip() if result.returncode == 0 else None
