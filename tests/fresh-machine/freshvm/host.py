"""Host-side helpers: a progress log, commands with bounded run times, host tools, safe removal of build roots."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

HOST_TOOLS = {  # command -> Debian package that provides it
    "qemu-system-x86_64": "qemu-system-x86",
    "qemu-img": "qemu-utils",
    "debootstrap": "debootstrap",
    "mkfs.ext4": "e2fsprogs",
    "debugfs": "e2fsprogs",
}


class FreshVmError(Exception):
    """A step of the check could not be carried out (not a failure inside the VM)."""


class Log:
    """Progress lines with the elapsed time, on stdout and in the run directory's host.log."""

    def __init__(self, path: Path) -> None:
        self.started = time.monotonic()
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def say(self, message: str) -> None:
        minutes, seconds = divmod(int(self.elapsed()), 60)
        line = f"[{minutes:3d}:{seconds:02d}] {message}"
        print(line, flush=True)
        self._file.write(line + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def run(cmd: Sequence[str], log_file: Path | None = None, timeout: float = 600,
        env: dict[str, str] | None = None) -> str:
    """Run a command to completion (killed after `timeout` seconds); its output goes to `log_file` if given,
    else it is returned. Raises FreshVmError with the tail of the output when it fails."""
    full_env = {**os.environ, **(env or {})}
    try:
        if log_file is None:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env,
                                    check=False, stdin=subprocess.DEVNULL)
            output = result.stdout + result.stderr
        else:
            with log_file.open("a", encoding="utf-8") as out:
                out.write(f"\n$ {' '.join(cmd)}\n")
                out.flush()
                result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, env=full_env,
                                        check=False, stdin=subprocess.DEVNULL)
            output = log_file.read_text(encoding="utf-8", errors="replace")[-3000:]
    except subprocess.TimeoutExpired as exc:
        raise FreshVmError(f"{cmd[0]} did not finish within {timeout:.0f}s: {' '.join(cmd)}") from exc
    if result.returncode != 0:
        raise FreshVmError(f"{' '.join(cmd)} failed (exit {result.returncode}):\n{output[-3000:]}")
    return result.stdout if log_file is None else ""


def require_root() -> None:
    if os.geteuid() != 0:
        raise FreshVmError("run as root (debootstrap, chroot and the image's device nodes need it)")


def ensure_host_tools(log: Log) -> None:
    """apt-get install the host tools that are missing (qemu, qemu-img, debootstrap, e2fsprogs)."""
    missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if shutil.which(tool) is None})
    if not missing:
        return
    log.say(f"host: apt-get install {' '.join(missing)}")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], timeout=600, env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], timeout=1200, env=env)
    still = [tool for tool in HOST_TOOLS if shutil.which(tool) is None]
    if still:
        raise FreshVmError(f"host tools still missing after apt-get install: {', '.join(still)}")


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path` (deepest first), from /proc/self/mountinfo."""
    root = str(path.resolve())
    found = []
    for line in Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == root or point.startswith(root + "/"):
            found.append(point)
    return sorted(found, key=len, reverse=True)


def remove_tree(path: Path) -> None:
    """Remove a build root or temp dir: unmount whatever debootstrap/chroot left mounted in it first, and never
    cross into another file system."""
    if not path.exists():
        return
    for point in mounts_under(path):
        subprocess.run(["umount", "-l", point], check=False, timeout=60)
    left = mounts_under(path)
    if left:
        raise FreshVmError(f"refusing to remove {path}: still mounted: {', '.join(left)}")
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=True, timeout=600)
