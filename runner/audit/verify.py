"""`sop audit verify`: ledger chain, signatures, every record's hash, and runs that never finished."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.audit import ledger
from runner.audit.events import read_events, sha256_bytes, sha256_file
from runner.audit.record import build_record
from runner.audit.store import AuditStore, RunFiles

ABORT_REASON = (
    "the run's process ended without closing its record (killed or crashed); sealed by sop audit verify"
)


@dataclass
class VerifyResult:
    entries: int = 0
    runs: int = 0
    problems: list[str] = field(default_factory=list)
    sealed: list[str] = field(default_factory=list)  # aborted runs sealed by this verify
    running: list[str] = field(default_factory=list)  # runs whose process is still alive
    aborted: list[str] = field(default_factory=list)  # every aborted run (sealed now or before)
    head: str | None = None  # sha256 of the last ledger line

    @property
    def ok(self) -> bool:
        return not self.problems


def _process_alive(controller: dict[str, Any]) -> bool:
    """True while the run's ansible process may still be running. A run started on another controller (a
    shared audit dir) counts as alive: only a verify on that host can tell, so it is never sealed from here."""
    if controller.get("host") != socket.gethostname():
        return True
    try:
        cmdline = Path(f"/proc/{int(controller['pid'])}/cmdline").read_bytes()
    except (OSError, KeyError, ValueError, TypeError):
        return False
    return b"ansible" in cmdline or b"sop" in cmdline


def _entry_label(line_no: int, entry: dict[str, Any] | None) -> str:
    if not entry:
        return f"ledger entry at line {line_no}"
    return (
        f"ledger entry {entry.get('seq')} (line {line_no}, {entry.get('kind')} of run {entry.get('run_id')})"
    )


def _parse_lines(data: bytes, result: VerifyResult) -> list[tuple[bytes, dict[str, Any] | None]]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        result.problems.append(
            f"ledger entry at line {len(lines)}: incomplete last line (altered or truncated)"
        )
    parsed: list[tuple[bytes, dict[str, Any] | None]] = []
    for raw in lines:
        try:
            entry = json.loads(raw)
            parsed.append((raw, entry if isinstance(entry, dict) else None))
        except ValueError:
            parsed.append((raw, None))
    return parsed


def _entry_problem(line_no: int, raw: bytes, entry: dict[str, Any] | None, public: Any) -> str | None:
    """Form and signature of one line."""
    label = _entry_label(line_no, entry)
    if entry is None:
        return f"{label}: not a JSON entry (altered)"
    if ledger.canonical(entry).encode() != raw:
        return f"{label}: bytes differ from the signed canonical form (altered)"
    if not ledger.signature_ok(entry, public):
        return f"{label}: signature does not verify (altered or inserted)"
    return None


def _order_problem(line_no: int, entry: dict[str, Any], prev: bytes | None, seqs: list[Any]) -> str | None:
    """Sequence number and previous-entry hash of one (well-formed, signed) entry."""
    seq = entry.get("seq")
    if seq != line_no:
        if seqs.count(seq) > 1:
            problem = (
                f"{_entry_label(line_no, entry)}: entry {seq} appears more than once (inserted duplicate)"
            )
        elif line_no in seqs:
            problem = f"ledger entry {line_no} is out of order (line {line_no} holds entry {seq}): reordered"
        else:
            problem = f"ledger entry {line_no} is missing (line {line_no} holds entry {seq}): deleted"
        return problem
    expected_prev = sha256_bytes(prev) if prev is not None else ledger.GENESIS
    if entry.get("prev") != expected_prev:
        return (
            f"{_entry_label(line_no, entry)}: previous-entry hash does not match "
            f"(an entry before it was altered or removed)"
        )
    return None


def _check_run_files(label: str, entry: dict[str, Any], run: RunFiles) -> str | None:
    hashes = entry.get("hashes") or {}
    if entry["kind"] == "start":
        if not run.events.exists():
            return f"{label}: the run's events file {run.events} is missing"
        first = run.events.open("rb").readline().rstrip(b"\n")
        if sha256_bytes(first) != hashes.get("start_event"):
            return f"{label}: the run's first event does not match its hash (altered)"
        return None
    for name, path in (("record", run.record), ("events", run.events)):
        if not path.exists():
            return f"{label}: the run's {name} file {path} is missing"
        if sha256_file(path) != hashes.get(name):
            return f"{label}: the run's {name} file {path.name} does not match its hash (altered)"
    return None


def _seal(store: AuditStore, run: RunFiles, result: VerifyResult) -> None:
    read = read_events(run.events)
    if read.chain_break is not None:
        result.problems.append(f"run {run.run_id}: event {read.chain_break} of its partial record is altered")
        return
    record = build_record(read.events, seal_status="aborted", abort_reason=ABORT_REASON)
    record["sealed_by"] = "sop audit verify"
    if _process_alive(record.get("controller") or {}):
        result.running.append(run.run_id)
        return
    store.finish(run, record, kind="seal")
    result.sealed.append(run.run_id)
    result.aborted.append(run.run_id)


def _check_ledger(
    store: AuditStore, parsed: list[tuple[bytes, dict[str, Any] | None]], public: Any, result: VerifyResult
) -> tuple[set[str], set[str]]:
    """Walk the chain; stop at the first broken entry. Returns (runs started, runs closed)."""
    run_ids = set(store.run_ids())
    seqs = [e.get("seq") if e else None for _, e in parsed]
    started: set[str] = set()
    closed: set[str] = set()
    prev: bytes | None = None
    for line_no, (raw, entry) in enumerate(parsed, start=1):
        problem = _entry_problem(line_no, raw, entry, public)
        if problem is None and entry is not None:
            problem = _order_problem(line_no, entry, prev, seqs)
        if problem is None and entry is not None:
            run_id = str(entry.get("run_id"))
            if run_id not in run_ids:
                problem = (
                    f"{_entry_label(line_no, entry)}: its run directory {store.runs_dir / run_id} is missing"
                )
            else:
                problem = _check_run_files(_entry_label(line_no, entry), entry, store.run(run_id))
            (started if entry.get("kind") == "start" else closed).add(run_id)
            if entry.get("kind") != "start" and entry.get("status") == "aborted":
                result.aborted.append(run_id)
        if problem:
            result.problems.append(problem)
            break
        prev = raw
    return started, closed


def _check_runs(
    store: AuditStore, started: set[str], closed: set[str], seal: bool, result: VerifyResult
) -> None:
    """Runs on disk: each must be in the ledger; unfinished ones are running or get sealed as aborted."""
    for run_id in store.run_ids():
        run = store.run(run_id)
        if run_id not in started:
            result.problems.append(
                f"run {run_id}: has no ledger entry (inserted, or its ledger entries removed)"
            )
        elif run_id in closed:
            continue
        elif run.record.exists():
            result.problems.append(
                f"run {run_id}: its final record exists but its ledger end entry is missing (removed)"
            )
        elif seal:
            _seal(store, run, result)
        else:
            result.running.append(run_id)


def verify(store: AuditStore, *, seal: bool = True) -> VerifyResult:
    """Check everything; seal runs whose process died (status ``aborted``) unless ``seal`` is False."""
    result = VerifyResult()
    paths = store.ledger_paths
    result.runs = len(store.run_ids())
    if not paths.ledger.exists():
        if result.runs:
            result.problems.append(f"{paths.ledger}: missing, but {result.runs} run(s) are recorded")
        return result
    try:
        public = ledger.load_public_key(paths)
    except (OSError, ValueError) as exc:
        result.problems.append(f"{paths.public_key}: cannot load the ledger's public key: {exc}")
        return result
    parsed = _parse_lines(paths.ledger.read_bytes(), result)
    result.entries = len(parsed)
    if parsed:
        result.head = sha256_bytes(parsed[-1][0])
    started, closed = _check_ledger(store, parsed, public, result)
    if not result.problems:
        _check_runs(store, started, closed, seal, result)
    return result
