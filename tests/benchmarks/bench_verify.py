"""Benchmark: `sop audit verify` on a synthetic 100,000-entry ledger, against sha256 over the same bytes.
Not a test (no timing asserts); run on demand:

    .venv/bin/python tests/benchmarks/bench_verify.py [--entries 100000]

The ledger is written with the runner's own signing path (ledger.next_entry) in a temp dir: 100,000 signed
`attach` entries, each covering the same small check report (so the timing is the ledger walk, not the
file system: parse, canonical form, ed25519 signature against the pinned key, seq and prev hash of every
entry; the report is hashed once). Timed: runner.audit.verify() and the `sop audit verify` command. Baselines
measured in the same run: hashlib.sha256 over the ledger's bytes, and sha256 of each line.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def synthesize(root: Path, entries: int) -> None:
    from runner.audit import keys, ledger
    from runner.audit.events import sha256_file

    report = root / "checks" / "bench" / "check.json"
    report.parent.mkdir(parents=True)
    report.write_text('{"results": []}\n')
    hashes = {"checks/bench/check.json": sha256_file(report)}
    key = keys.signing_key(root)
    last: bytes | None = None
    with (root / "ledger.jsonl").open("wb") as out:
        for seq in range(entries):
            entry = ledger.next_entry(last, "attach", f"20260101T000000Z-{seq:08x}", hashes, key)
            last = ledger.canonical(entry).encode()
            out.write(last + b"\n")


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sop-bench-verify-"))
    os.environ["SOP_AUDIT_KEY_DIR"] = str(work / "keys")  # not the real /etc/sop-as-code/audit
    for name in ("SOP_AUDIT_STORE", "SOP_AUDIT_ANCHOR", "SOP_AUDIT_KEY", "SOP_AUDIT_KEY_FILE"):
        os.environ.pop(name, None)
    root = work / "audit"
    root.mkdir()
    written = timed(lambda: synthesize(root, args.entries))
    data = (root / "ledger.jsonl").read_bytes()
    whole = timed(lambda: hashlib.sha256(data).hexdigest())
    per_line = timed(lambda: [hashlib.sha256(line).digest() for line in data.splitlines()])

    from runner.audit import AuditStore, verify

    results = []
    api = timed(lambda: results.append(verify(AuditStore(root))))
    assert results[0].ok and results[0].entries == args.entries, results[0].problems[:1]
    cli = timed(lambda: subprocess.run([str(REPO / ".venv" / "bin" / "sop"), "audit", "verify", "--audit-dir",
                                        str(root)], check=True, capture_output=True))
    mb = len(data) / 1e6
    print(f"synthetic ledger: {args.entries} entries, {mb:.1f} MB (written and signed in {written:.1f}s)")
    print(f"  sha256 of the bytes     {whole:7.3f}s  {mb / whole:6.0f} MB/s   baseline")
    print(f"  sha256 of each line     {per_line:7.3f}s  ratio {per_line / whole:7.1f}x")
    print(f"  verify()                {api:7.3f}s  ratio {api / whole:7.1f}x  ({args.entries / api:,.0f} entries/s)")
    print(f"  sop audit verify (CLI)  {cli:7.3f}s  ratio {cli / whole:7.1f}x")


if __name__ == "__main__":
    main()
