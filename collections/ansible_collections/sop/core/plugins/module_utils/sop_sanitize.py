# Sanitization of one explicitly named block device (NIST SP 800-88 Clear: overwrite, then verify by
# reading back samples across the whole device). Runs on the target; standard library only.
#
# Safety: the device is only ever the path the caller names (nothing is discovered); its identity (model,
# serial, size) is read from sysfs and compared with what the caller expects; a device that is mounted,
# holds the running root, has holders (dm, md) or that the kernel will not open exclusively (O_EXCL: mounted
# or claimed anywhere on the machine, also outside this container) is refused before it is opened for writing.

from __future__ import annotations

import errno
import fcntl
import hashlib
import mmap
import os
import random
import stat
import struct
import time
from typing import Any

BLKGETSIZE64 = 0x80081272
BLKSSZGET = 0x1268
TOOL = "sop.core.sop_sanitize"


class Refused(Exception):
    """A safety gate refused the device; nothing was written."""


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def sysfs_dir(major_minor: str) -> str:
    """The device's sysfs directory. Containers mask /sys/dev/block, so /sys/class/block is searched too."""
    direct = "/sys/dev/block/" + major_minor
    if os.path.isdir(direct):
        return direct
    try:
        names = sorted(os.listdir("/sys/class/block"))
    except OSError:
        names = []
    for name in names:
        if _read(f"/sys/class/block/{name}/dev") == major_minor:
            return os.path.realpath(f"/sys/class/block/{name}")
    return direct


def identity(path: str) -> dict[str, Any]:
    """Model, serial, size, media type and kernel name of the block device at ``path`` (no discovery)."""
    if not path or not os.path.isabs(path):
        raise Refused("no explicit device path given (a wipe never discovers its device)")
    try:
        info = os.stat(path)
    except OSError as exc:
        raise Refused(f"{path}: {exc.strerror}") from None
    if not stat.S_ISBLK(info.st_mode):
        raise Refused(f"{path} is not a block device")
    major_minor = f"{os.major(info.st_rdev)}:{os.minor(info.st_rdev)}"
    sysdir = sysfs_dir(major_minor)
    kernel_name = os.path.basename(os.path.realpath(sysdir))
    model = _read(sysdir + "/device/model")
    serial = _read(sysdir + "/device/serial") or _read(sysdir + "/serial")
    backing = _read(sysdir + "/loop/backing_file")
    if backing:
        # A loop device has no model or serial: its identity is its backing file (the lab names the file
        # after the disk's serial, so the register's serial check is real).
        model = model or "Linux loop device"
        serial = serial or os.path.splitext(os.path.basename(backing.replace(" (deleted)", "")))[0]
    rotational = _read(sysdir + "/queue/rotational")
    if kernel_name.startswith("nvme"):
        media = "nvme"
    elif backing:
        media = "virtual"
    else:
        media = "hdd" if rotational == "1" else "ssd" if rotational == "0" else "unknown"
    fd = os.open(path, os.O_RDONLY)
    try:
        size = struct.unpack("Q", fcntl.ioctl(fd, BLKGETSIZE64, b"\0" * 8))[0]
        sector = struct.unpack("I", fcntl.ioctl(fd, BLKSSZGET, b"\0" * 4))[0]
    finally:
        os.close(fd)
    return {"path": path, "kernel_name": kernel_name, "major_minor": major_minor,
            "model": model, "serial": serial, "size_bytes": size, "logical_block_size": sector, "media_type": media,
            "backing_file": backing or None}


def _mounted_devices() -> set[str]:
    """major:minor of every mounted device in this mount namespace (/proc/self/mountinfo field 3)."""
    out = set()
    for line in _read("/proc/self/mountinfo").splitlines():
        parts = line.split()
        if len(parts) > 2:
            out.add(parts[2])
    return out


def _partitions(sysdir: str) -> list[str]:
    out = []
    try:
        entries = os.listdir(sysdir)
    except OSError:
        return out
    for entry in entries:
        dev = _read(f"{sysdir}/{entry}/dev")
        if dev and os.path.exists(f"{sysdir}/{entry}/partition"):
            out.append(dev)
    return out


def in_use(ident: dict[str, Any]) -> list[str]:
    """Reasons the device must not be written (empty: free)."""
    reasons = []
    sysdir = sysfs_dir(ident["major_minor"])
    own = {ident["major_minor"], *_partitions(sysdir)}
    mounted = _mounted_devices() & own
    if mounted:
        reasons.append("mounted ({})".format(", ".join(sorted(mounted))))
    root = os.stat("/").st_dev
    root_mm = f"{os.major(root)}:{os.minor(root)}"
    if root_mm in own:
        reasons.append(f"holds the running root filesystem ({root_mm})")
    parent = os.path.basename(os.path.dirname(os.path.realpath(sysfs_dir(root_mm))))
    if ident["kernel_name"] == parent:
        reasons.append("the running root is on a partition of it")
    holders = sorted(os.listdir(sysdir + "/holders")) if os.path.isdir(sysdir + "/holders") else []
    if holders:
        reasons.append("in use by {}".format(", ".join(holders)))
    try:
        fd = os.open(ident["path"], os.O_RDONLY | os.O_EXCL)
        os.close(fd)
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            reasons.append("busy: the kernel refuses exclusive access (mounted or claimed, possibly outside "
                           "this container)")
        else:
            reasons.append(f"cannot open exclusively: {exc.strerror}")
    return reasons


def gates(path: str, expected_serial: str, expected_model: str, confirm_serial: str) -> dict[str, Any]:
    """Identity and in-use checks; raises Refused with every reason. Returns the identity."""
    ident = identity(path)
    reasons = []
    if not expected_serial or ident["serial"] != expected_serial:
        reasons.append(f"serial {ident['serial']!r} of {path} does not match the register's {expected_serial!r}")
    if expected_model and ident["model"] != expected_model:
        reasons.append(f"model {ident['model']!r} of {path} does not match the register's {expected_model!r}")
    if confirm_serial != ident["serial"]:
        reasons.append(f"the operator did not confirm the serial {ident['serial']!r} "
                       f"(confirmed: {confirm_serial or ''!r})")
    reasons += in_use(ident)
    if reasons:
        raise Refused("; ".join(reasons))
    return ident


def overwrite(fd: int, size: int, chunk: int) -> int:
    """One pass of zeros over every byte (O_DIRECT, page-aligned buffer); returns bytes written."""
    buf = mmap.mmap(-1, chunk)
    written = 0
    while written < size:
        length = min(chunk, size - written)
        view = memoryview(buf)[:length]
        count = os.pwrite(fd, view, written)
        view.release()
        if count <= 0:
            raise OSError(errno.EIO, f"short write at offset {written}")
        written += count
    os.fsync(fd)
    buf.close()
    return written


def sample_offsets(size: int, block: int, subsections: int, per_subsection: int, seed: int) -> list[int]:
    """First and last block, then ``per_subsection`` pseudorandom block-aligned offsets in each of
    ``subsections`` equal spans of the device (NIST SP 800-88 Rev. 1 section 4.7.1)."""
    blocks = size // block
    offsets = {0, size - block}
    rng = random.Random(seed)
    span = max(1, blocks // subsections)
    for index in range(subsections):
        start = index * span
        end = blocks if index == subsections - 1 else min(blocks, start + span)
        if start >= blocks:
            break
        for dummy in range(per_subsection):
            offsets.add(rng.randrange(start, end) * block)
    return sorted(offsets)


def verify(fd: int, size: int, mode: str, block: int, subsections: int, per_subsection: int,  # noqa: PLR0917
           seed: int) -> dict[str, Any]:
    """Read back: ``full`` reads every byte, ``sampled`` the sample offsets; every byte must be zero."""
    zero = bytes(block)
    mismatches = []
    read = 0
    started = time.monotonic()
    if mode == "full":
        chunk = 4 * 1024 * 1024
        zero_chunk = bytes(chunk)
        offset = 0
        while offset < size:
            data = os.pread(fd, min(chunk, size - offset), offset)
            if data != zero_chunk[:len(data)] and len(mismatches) < 10:
                mismatches.append(offset + next(i for i, b in enumerate(data) if b))
            read += len(data)
            offset += len(data) or chunk
        offsets_count = None
    else:
        offsets = sample_offsets(size, block, subsections, per_subsection, seed)
        for offset in offsets:
            data = os.pread(fd, block, offset)
            read += len(data)
            if data != zero[:len(data)] and len(mismatches) < 10:
                mismatches.append(offset)
        offsets_count = len(offsets)
    digest = hashlib.sha256(str(seed).encode()).hexdigest()[:16]
    return {"mode": mode, "pattern_expected": "0x00", "subsections": subsections if mode == "sampled" else None,
            "samples_per_subsection": per_subsection if mode == "sampled" else None, "sample_bytes": block,
            "samples": offsets_count, "first_and_last_block": True, "seed": seed, "seed_id": digest,
            "bytes_read": read, "coverage_percent": round(100.0 * read / size, 4) if size else 0.0,
            "mismatches": mismatches, "result": "pass" if not mismatches else "fail",
            "duration_s": round(time.monotonic() - started, 3)}


def sanitize(path: str, expected_serial: str, expected_model: str, confirm_serial: str, *, verify_mode: str = "sampled",
             subsections: int = 100, per_subsection: int = 10, sample_bytes: int = 4096, chunk: int = 4 * 1024 * 1024,
             seed: int | None = None, gates_only: bool = False) -> dict[str, Any]:
    """Gates, then Clear (one pass of zeros) and verification. Raises Refused before any write."""
    ident = gates(path, expected_serial, expected_model, confirm_serial)
    if gates_only:
        return {"device": ident, "gates": "passed", "written": False}
    seed = seed if seed is not None else random.SystemRandom().randrange(2 ** 63)
    fd = os.open(path, os.O_RDWR | os.O_EXCL | os.O_DIRECT)  # fsync at the end makes it durable
    try:
        started = time.time()
        written = overwrite(fd, ident["size_bytes"], chunk)
        wrote = time.time()
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    # Verification reads through a fresh descriptor without O_DIRECT, the page cache dropped first.
    fd = os.open(path, os.O_RDONLY | os.O_EXCL)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        result = verify(fd, ident["size_bytes"], verify_mode, max(sample_bytes, ident["logical_block_size"]),
                        subsections, per_subsection, seed)
    finally:
        os.close(fd)
    ended = time.time()
    return {"device": ident, "gates": "passed", "written": True, "bytes_written": written,
            "start": started, "overwrite_end": wrote, "end": ended,
            "overwrite_throughput_mib_s": round(written / 1048576 / max(wrote - started, 1e-6), 1),
            "verification": result}
