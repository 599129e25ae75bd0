"""The podman calls the lab makes, all with the lab's containers.conf."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
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
    check_network_stack()


AARDVARK = (Path("/usr/lib/podman/aardvark-dns"), Path("/usr/libexec/podman/aardvark-dns"))
CNI_CONFIG_DIR = Path("/etc/cni/net.d")
FIX_DNS = "apt-get install -y netavark aardvark-dns  (./bootstrap setup does it)"


def network_backend() -> str:
    """The backend podman uses with the lab's containers.conf (``netavark`` or ``cni``)."""
    result = podman("info", "--format", "{{.Host.NetworkBackend}}", check=False, timeout=60)
    if result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()
        raise LabError(f"podman info failed: {detail[-1] if detail else 'no output'}", hint=FIX_DNS)
    return result.stdout.strip()


def check_network_stack() -> None:
    """Lab containers find each other by name only with netavark + aardvark-dns (CNI here has no DNS plugin)."""
    backend = network_backend()
    if backend != "netavark":
        raise LabError(f"podman's network backend is {backend!r}: lab hosts could not resolve 's3' and the "
                       f"probe targets by name", hint=FIX_DNS)
    if not any(path.exists() for path in AARDVARK):
        raise LabError("aardvark-dns (podman's DNS server) is missing: lab hosts could not resolve each other",
                       hint=FIX_DNS)


def cni_leftover(network: str, config_dir: Path | None = None) -> Path | None:
    """The CNI config of a lab network that an older setup (CNI backend, no DNS) created, if any."""
    path = (config_dir or CNI_CONFIG_DIR) / f"{network}.conflist"
    return path if path.is_file() else None


def remove_cni_leftover(path: Path) -> str | None:
    """Delete a CNI lab network's config and its bridge (netavark recreates the network); return the bridge."""
    try:
        plugins = json.loads(path.read_text()).get("plugins") or [{}]
        bridge = plugins[0].get("bridge")
    except (OSError, ValueError, AttributeError):
        bridge = None
    path.unlink(missing_ok=True)
    if bridge and shutil.which("ip") and Path(f"/sys/class/net/{bridge}").exists():
        execute.run(["ip", "link", "delete", bridge], check=False, timeout=30)
    return bridge


def podman(*args: str, check: bool = True, timeout: float = 300, input_text: str | None = None,
           secrets: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    try:
        return execute.run(["podman", *args], env=ENV, check=check, timeout=timeout,
                           input_text=input_text, secrets=secrets)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or exc.stdout or "").strip().splitlines()
        raise LabError(f"podman {args[0]} failed: {detail[-1] if detail else exc}") from None


REMOVE_ATTEMPTS = 4  # podman rm -f can lose a race with conmon ("container state improper") under load


def remove_container(name_or_id: str) -> None:
    """``podman rm -f``, retried a few times while podman is still stopping the container, since a slow or
    loaded machine can race conmon; it is done once the container no longer exists."""
    for attempt in range(REMOVE_ATTEMPTS):
        result = podman("rm", "-f", "-t", "2", name_or_id, check=False)
        if result.returncode == 0 or not exists("container", name_or_id):
            return
        if attempt < REMOVE_ATTEMPTS - 1:
            time.sleep(1 + attempt)
    detail = (result.stderr or result.stdout or "").strip().splitlines()
    raise LabError(f"podman rm failed after {REMOVE_ATTEMPTS} attempts: {detail[-1] if detail else 'no output'}",
                   hint=f"podman rm -f {name_or_id}")


def exists(kind: str, name: str) -> bool:
    return podman(kind, "exists", name, check=False).returncode == 0


def containers(label: str) -> list[dict[str, Any]]:
    out = podman("ps", "-a", "--filter", f"label={label}", "--format", "json").stdout
    return json.loads(out or "[]")


def container_state(name: str) -> str | None:
    result = podman("inspect", "--format", "{{.State.Status}}", name, check=False)
    return result.stdout.strip() if result.returncode == 0 else None
