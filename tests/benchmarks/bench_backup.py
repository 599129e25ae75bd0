"""Benchmark (run on demand): backup and verification of a generated ~200 MB data set, local vs cloud.

    .venv/bin/python tests/benchmarks/bench_backup.py [--mb 200] [--keep]

Uses the project's restic wrapper (runner/backup/restic.py) with the controller's restic 0.14 against a
local directory repository (the baseline) and an S3 repository on a moto server started here on a free
127.0.0.1 port (the lab's "cloud"). Prints each phase's seconds and the cloud/local ratio. No assertions on
timings. Backups are timed once (each changes the repository); verification phases are the median of 3.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from runner.backup.restic import Repository, Restic
from runner.paths import REPO_ROOT

BIG_FILE_MB = 2
SMALL_FILES = 500
REPEAT = 3  # read-only verification phases: median of 3 runs


def generate(root: Path, megabytes: int) -> tuple[int, int]:
    """Random (incompressible) big files plus many small text files; returns (files, bytes)."""
    root.mkdir(parents=True)
    rng = random.Random(42)
    small_bytes = 0
    for i in range(SMALL_FILES):
        text = (f"row {i} " + " ".join(str(rng.random()) for _ in range(rng.randint(20, 400)))).encode()
        (root / f"small-{i:04d}.txt").write_bytes(text)
        small_bytes += len(text)
    big = max(1, (megabytes * 1024 * 1024 - small_bytes) // (BIG_FILE_MB * 1024 * 1024))
    for i in range(big):
        (root / f"big-{i:03d}.bin").write_bytes(os.urandom(BIG_FILE_MB * 1024 * 1024))
    total = sum(p.stat().st_size for p in root.iterdir())
    return SMALL_FILES + big, total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_server() -> Iterator[str]:
    port = free_port()
    binary = str(Path(sys.executable).parent / "moto_server")
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("moto_server did not start within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def make_bucket(endpoint: str, key: str, secret: str) -> None:
    import boto3  # test extra only

    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                 region_name="us-east-1").create_bucket(Bucket="bench")


def timed(action: Callable[[], object], repeat: int = 1) -> float:
    """Seconds of one run of ``action``, or the median of ``repeat`` runs (for repeatable read-only phases)."""
    samples = []
    for _ in range(repeat):
        started = time.monotonic()
        action()
        samples.append(time.monotonic() - started)
    return statistics.median(samples)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify(client: Restic, data: Path, scratch: Path, sample: list[Path]) -> dict[str, float]:
    """What backup_verify.yml does: snapshots (age), check --read-data-subset=10%, sample restore + hashes."""
    times = {"snapshots": timed(lambda: client.snapshots(tags=["sop"]), REPEAT)}
    times["check 10%"] = timed(lambda: client.check("10%"), REPEAT)
    includes = [str(p) for p in sample]

    def restore_and_hash() -> None:
        client.restore(str(scratch), includes=includes)
        for path in sample:
            assert sha256(scratch / str(path).lstrip("/")) == sha256(path), path

    times["sample restore+hash"] = timed(restore_and_hash, REPEAT)
    return times


def run_one(client: Restic, data: Path, scratch: Path, sample: list[Path]) -> dict[str, float]:
    client.init()
    times = {"backup (initial)": timed(lambda: client.backup([str(data)], tags=["sop"], host="bench"))}
    (data / "small-0000.txt").write_text("changed\n")
    times["backup (incremental)"] = timed(lambda: client.backup([str(data)], tags=["sop"], host="bench"))
    times.update(verify(client, data, scratch, sample))
    times["full restore"] = timed(lambda: client.restore(str(scratch / "full")))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-backup-", dir=os.environ.get("TMPDIR", "/var/tmp")))
    password, key, secret = secrets.token_urlsafe(16), "BENCHKEY", secrets.token_urlsafe(16)
    try:
        started = time.monotonic()
        files, size = generate(work / "data", args.mb)
        print(f"data set: {files} files, {size / 1e6:.0f} MB generated in {time.monotonic() - started:.1f}s")
        sample = sorted((work / "data").iterdir())[:: max(1, files // 5)][:5]
        local = Restic(Repository(str(work / "repo"), password, name="local"), timeout=1800)
        results = {"local": run_one(local, work / "data", work / "scratch-local", sample)}
        with moto_server() as endpoint:
            make_bucket(endpoint, key, secret)
            cloud = Restic(Repository(f"s3:{endpoint}/bench/host", password, name="cloud",
                                      env={"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}),
                           timeout=1800)
            (work / "data" / "small-0000.txt").write_text("row 0 restored for a fair second run\n")
            results["cloud"] = run_one(cloud, work / "data", work / "scratch-cloud", sample)
        report(results, size)
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def report(results: dict[str, dict[str, float]], size: int) -> None:
    print(f"\n{'phase':<24}{'local s':>10}{'cloud s':>10}{'cloud/local':>13}")
    for phase in results["local"]:
        loc, cld = results["local"][phase], results["cloud"][phase]
        print(f"{phase:<24}{loc:>10.2f}{cld:>10.2f}{cld / loc if loc else float('nan'):>12.1f}x")
    verify_phases = ("snapshots", "check 10%", "sample restore+hash")
    for name, times in results.items():
        print(f"{name}: initial backup {size / 1e6 / times['backup (initial)']:.0f} MB/s; "
              f"verify (age+check+sample) {sum(times[k] for k in verify_phases):.2f}s")
    version = subprocess.run(["restic", "version"], capture_output=True, text=True,
                             check=False).stdout.split()
    print(f"(restic {version[1] if len(version) > 1 else '?'}, moto S3 on loopback; checkout {REPO_ROOT})")


if __name__ == "__main__":
    sys.exit(main())
