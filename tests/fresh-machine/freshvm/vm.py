"""Booting the VM: QEMU with the cached kernel/initrd, a qcow2 overlay of the base image and the job disk, the
serial console in a file that is followed live. KVM first (a bounded probe), else TCG."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .host import Log, run
from .image import BaseImage

# Link-local only: never QEMU's default 10.0.2.0/24 (nor any 10.x/172.16-31.x/192.168.x address).
NETWORK = ["-netdev", "user,id=n0,net=169.254.77.0/24,host=169.254.77.2,dns=169.254.77.3",
           "-device", "virtio-net-pci,netdev=n0"]
ACCELERATORS = {
    "kvm": ["-accel", "kvm", "-cpu", "host", "-smp", "2"],
    "tcg": ["-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2"],
}
KERNEL_ARGS = "root=/dev/vda rw console=ttyS0 loglevel=5 panic=5"
MEMORY_MB = 8192
PREFIX = "FRESHVM| "
BOOT_MARKER = PREFIX + "booted"  # the first line of the job unit (guest/fresh-job)
FINISHED_MARKER = PREFIX + "job finished"  # its last line, before the power-off
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")
TICK = 1.0  # seconds between looks at the console and the QEMU process
HEARTBEAT = 300  # seconds between "still running" lines when the console is quiet


@dataclass
class Disks:
    overlay: Path
    job: Path


def make_overlay(image: BaseImage, overlay: Path) -> None:
    """A fresh qcow2 overlay, so the cached base image stays pristine."""
    overlay.unlink(missing_ok=True)
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(image.disk), "-F", "raw", str(overlay)], timeout=60)


def qemu_command(image: BaseImage, disks: Disks, console: Path, accel: str) -> list[str]:
    return ["qemu-system-x86_64", "-name", "sop-fresh-vm", "-nodefaults", "-machine", "pc",
            *ACCELERATORS[accel], "-m", str(MEMORY_MB),
            "-kernel", str(image.kernel), "-initrd", str(image.initrd), "-append", KERNEL_ARGS,
            "-drive", f"file={disks.overlay},format=qcow2,if=virtio,cache=unsafe",
            "-drive", f"file={disks.job},format=raw,if=virtio",
            *NETWORK, "-device", "virtio-rng-pci",
            "-display", "none", "-serial", f"file:{console}", "-monitor", "none", "-no-reboot"]


class Console:
    """Follows the serial console file: complete lines, ANSI and CR stripped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = ""
        self.last_line = ""

    def new_lines(self) -> list[str]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as console:
            console.seek(self._offset)
            data = console.read()
        self._offset += len(data)
        text = self._partial + data.decode("utf-8", errors="replace")
        *lines, self._partial = text.split("\n")
        lines = [ANSI.sub("", line) for line in lines]
        if lines:
            self.last_line = next((line for line in reversed(lines) if line.strip()), self.last_line)
        return lines

    def rest(self) -> list[str]:
        """The unterminated last line, once the console is closed."""
        rest, self._partial = self._partial, ""
        return [ANSI.sub("", rest)] if rest.strip() else []


class Vm:
    """One QEMU process; stop() is safe to call any number of times."""

    def __init__(self, cmd: list[str], qemu_log: Path, console: Path) -> None:
        self.started = time.monotonic()
        self.console = Console(console)
        with qemu_log.open("a", encoding="utf-8") as out:
            out.write(f"$ {' '.join(cmd)}\n")
            out.flush()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)  # Ctrl-C reaches us, and we stop QEMU

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if not self.running():
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)


def show(line: str) -> str | None:
    """What of a console line is shown live: the job's own lines, bootstrap's "==>", the lab's progress and the
    demo's step titles."""
    if line.startswith(PREFIX):
        return line[len(PREFIX):]
    stripped = line.strip()
    if stripped.startswith(("==> ", "lab: ")) or re.match(r"^\[\d+/\d+\] ", stripped):
        return "  " + stripped
    return None


def watch(vm: Vm, log: Log, deadline: float, until: Callable[[str], bool] | None = None,
          verbose: bool = False) -> str:
    """Follow the console until QEMU exits ("exited"), a line satisfies `until` ("marker") or the monotonic
    `deadline` passes ("timeout"). Bounded: at most one look per TICK until the deadline."""
    ticks = int(max(0.0, deadline - time.monotonic()) / TICK) + 2
    quiet_since = time.monotonic()
    for _ in range(ticks):
        marker = False
        for line in vm.console.new_lines():
            shown = line if verbose else show(line)
            if shown is not None:
                log.say(shown)
                quiet_since = time.monotonic()
            marker = marker or (until is not None and until(line))
        if marker:
            return "marker"
        if not vm.running():
            for line in vm.console.new_lines() + vm.console.rest():
                if (shown := show(line)) is not None:
                    log.say(shown)
            return "exited"
        if time.monotonic() >= deadline:
            return "timeout"
        if time.monotonic() - quiet_since > HEARTBEAT:
            log.say(f"... VM running for {time.monotonic() - vm.started:.0f}s; console: {vm.console.last_line[:100]}")
            quiet_since = time.monotonic()
        time.sleep(TICK)
    return "timeout"


def last_error(qemu_log: Path) -> str:
    """QEMU's first complaint after the last command line ("$ ...") in its log."""
    text = qemu_log.read_text(encoding="utf-8", errors="replace").rpartition("\n$ ")[2]
    lines = [line for line in text.splitlines()[1:] if line.strip()]
    return lines[0][:160] if lines else "(no message)"


def is_boot_marker(line: str) -> bool:
    return line.startswith(BOOT_MARKER)
