"""Benchmark: the SOP 2.6 wipe (sop.core.sop_sanitize: one pass of zeros, O_DIRECT, 4 MiB writes, then the
sampled read-back) on a loop device, against `dd if=/dev/zero bs=4M oflag=direct` and `shred -n1` on the
same device. Not a test (no timing asserts); run on demand, as root:

    .venv/bin/python tests/benchmarks/bench_wipe.py [--size-gib 2]

The loop device is backed by a file in /var/tmp (free space for --size-gib is needed), picked with
`losetup -f` and always detached; an untimed dd pass first allocates the file's blocks (else whichever tool
runs first pays for the allocation). Reports seconds and MiB/s of each, the sampled verification's time and
coverage, a full read-back for comparison, and the ratios to dd.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "collections"))


def _timed(command: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, timeout=3600)
    return time.monotonic() - started


def main() -> None:
    from ansible_collections.sop.core.plugins.module_utils import sop_sanitize as san

    parser = argparse.ArgumentParser()
    parser.add_argument("--size-gib", type=float, default=2.0)
    args = parser.parse_args()
    size = int(args.size_gib * 1024**3)
    mib = size / 1048576
    with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="sop-bench-wipe-") as tmp:
        image = Path(tmp) / "BENCHDISK01.img"
        subprocess.run(["truncate", "-s", str(size), str(image)], check=True)
        loop = subprocess.run(["losetup", "-f", "--show", str(image)], check=True, capture_output=True,
                              text=True).stdout.strip()
        try:
            # untimed warm-up: the first writer of a fresh backing file pays for allocating its blocks
            _timed(["dd", "if=/dev/zero", f"of={loop}", "bs=4M", "oflag=direct", f"count={size // (4 * 1024 * 1024)}"])
            rows = {}
            rows["dd bs=4M oflag=direct"] = _timed(["dd", "if=/dev/zero", f"of={loop}", "bs=4M", "oflag=direct",
                                                    f"count={size // (4 * 1024 * 1024)}"])
            rows["shred -n1"] = _timed(["shred", "-n1", loop])
            started = time.monotonic()
            result = san.sanitize(loop, "BENCHDISK01", "", "BENCHDISK01", seed=1)
            total = time.monotonic() - started
            overwrite = result["overwrite_end"] - result["start"]
            rows["sop_sanitize overwrite"] = overwrite
            ver = result["verification"]
            fd = os.open(loop, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                full = san.verify(fd, size, "full", 4096, 0, 0, 0)
            finally:
                os.close(fd)
        finally:
            subprocess.run(["losetup", "-d", loop], check=False)
    base = rows["dd bs=4M oflag=direct"]
    print(f"device: {loop} ({args.size_gib:g} GiB loop device on /var/tmp)")
    for name, seconds in rows.items():
        print(f"  {name:<26} {seconds:7.2f} s  {mib / seconds:8.1f} MiB/s  ratio to dd {seconds / base:5.2f}")
    print(f"  sop_sanitize total (gates + overwrite + sampled verify) {total:.2f} s")
    print(f"  sampled verify: {ver['duration_s']:.3f} s, {ver['samples']} samples, {ver['coverage_percent']}% read,"
          f" {ver['result']}")
    print(f"  full read-back verify: {full['duration_s']:.2f} s ({full['coverage_percent']}% read, {full['result']});"
          f" sampled/full time ratio {ver['duration_s'] / full['duration_s']:.4f}")


if __name__ == "__main__":
    main()
