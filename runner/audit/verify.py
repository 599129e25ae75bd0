"""`sop audit verify`: the chain, signatures against pinned keys, every artifact's hash, every record against
its events, the ledger head against its anchor, and runs that never finished."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.audit import anchor, keys, ledger, trust
from runner.audit.events import parse_events, read_events, sha256_bytes
from runner.audit.record import build_record
from runner.audit.source import LocalSource, Source, StoreSource
from runner.audit.store import AuditStore, RunFiles, hash_file_name
from runner.audit.worm import StoreUnavailable, WormStore

ABORT_REASON = (
    "the run's process ended without closing its record (killed or crashed); sealed by sop audit verify"
)
CLOSING = ("end", "seal")


@dataclass
class VerifyResult:
    entries: int = 0
    runs: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not breaks: unflushed spool, uncovered old files
    sealed: list[str] = field(default_factory=list)  # aborted runs sealed by this verify
    running: list[str] = field(default_factory=list)  # runs whose process is still alive
    aborted: list[str] = field(default_factory=list)  # every aborted run (sealed now or before)
    head: str | None = None  # sha256 of the last ledger line
    source: str = ""
    anchor: str | None = None  # "seq N at TS" of the newest anchor compared

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Walk:
    """What the chain says: runs started/closed, and the latest hash of every covered file."""

    started: set[str] = field(default_factory=set)
    closed: set[str] = field(default_factory=set)
    sealed: set[str] = field(default_factory=set)  # closed by verify (kind seal)
    expected: dict[str, tuple[str, str]] = field(default_factory=dict)  # rel -> (sha256, entry label)


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


def _parse_lines(data: bytes, result: VerifyResult) -> trust.Parsed:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        result.problems.append(
            f"ledger entry at line {len(lines)}: incomplete last line (altered or truncated)"
        )
    parsed: trust.Parsed = []
    for raw in lines:
        try:
            entry = json.loads(raw)
            parsed.append((raw, entry if isinstance(entry, dict) else None))
        except ValueError:
            parsed.append((raw, None))
    return parsed


def _signature_problem(label: str, entry: dict[str, Any], ring: trust.KeyRing, in_force: str | None) -> str | None:
    kid = str(entry.get("key"))
    if in_force is not None and kid != in_force:
        return f"{label}: signed by key {kid}, but the key in force is {in_force} (altered or inserted)"
    if kid not in ring.trusted:
        return (
            f"{label}: signed by {ring.describe(kid)}, which is not a pinned key "
            f"(pins from {ring.pin_source}: {', '.join(sorted(p[:16] for p in ring.pins)) or 'none'})"
        )
    public = ring.known.get(kid)
    if public is None or not ledger.signature_ok(entry, public):
        return f"{label}: signature does not verify (altered or inserted)"
    return None


def _entry_problem(line_no: int, raw: bytes, entry: dict[str, Any] | None) -> str | None:
    """Form of one line."""
    label = _entry_label(line_no, entry)
    if entry is None:
        return f"{label}: not a JSON entry (altered)"
    if entry.get("missing") is True:
        return f"ledger entry {line_no} is missing from the store (deleted)"
    if ledger.canonical(entry).encode() != raw:
        return f"{label}: bytes differ from the signed canonical form (altered)"
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


def _record_hashes(label: str, entry: dict[str, Any], source: Source, walk: _Walk) -> str | None:
    """Note the files an entry covers (checked after the walk: a later entry may re-hash a file)."""
    run_id = str(entry.get("run_id"))
    hashes = entry.get("hashes") or {}
    kind = entry.get("kind")
    if kind == "start":
        walk.started.add(run_id)
        events = source.read(f"runs/{run_id}/events.jsonl")
        if events is None:
            return f"{label}: the run's events file runs/{run_id}/events.jsonl is missing"
        if sha256_bytes(events.split(b"\n", 1)[0]) != hashes.get("start_event"):
            return f"{label}: the run's first event does not match its hash (altered)"
    elif kind in CLOSING:
        walk.closed.add(run_id)
        if kind == "seal":
            walk.sealed.add(run_id)
        for name, digest in hashes.items():
            walk.expected[f"runs/{run_id}/{hash_file_name(name)}"] = (str(digest), label)
    elif kind == "attach":
        for rel, digest in hashes.items():
            walk.expected[str(rel)] = (str(digest), label)
    return None


def _walk(parsed: trust.Parsed, ring: trust.KeyRing, source: Source, result: VerifyResult) -> _Walk:
    """Walk the chain; stop at the first broken entry."""
    walk = _Walk()
    seqs = [e.get("seq") if e else None for _, e in parsed]
    prev: bytes | None = None
    in_force: str | None = None
    for line_no, (raw, entry) in enumerate(parsed, start=1):
        problem = _entry_problem(line_no, raw, entry)
        if problem is None and entry is not None:
            problem = _signature_problem(_entry_label(line_no, entry), entry, ring, in_force)
        if problem is None and entry is not None:
            problem = _order_problem(line_no, entry, prev, seqs)
        if problem is None and entry is not None:
            in_force = str((entry.get("new_key") or {}).get("id") or entry.get("key"))
            problem = _record_hashes(_entry_label(line_no, entry), entry, source, walk)
            if entry.get("kind") in CLOSING and entry.get("status") == "aborted":
                result.aborted.append(str(entry.get("run_id")))
        if problem:
            result.problems.append(problem)
            break
        prev = raw
    return walk


def _check_files(source: Source, walk: _Walk, result: VerifyResult, where: str) -> None:
    """Every covered file against the newest hash the ledger holds for it (each one named by path)."""
    for rel, (digest, label) in sorted(walk.expected.items()):
        data = source.read(rel)
        if data is None:
            result.problems.append(f"{where}{rel}: missing (covered by {label})")
        elif sha256_bytes(data) != digest:
            result.problems.append(f"{where}{rel}: does not match its hash in {label} (altered)")
    covered = set(walk.expected)
    for prefix, what in (("checks/", "check"), ("assets/", "asset evidence"), ("changes/", "change record"),
                         ("reports/", "report")):
        stray = [rel for rel in source.files(prefix) if rel not in covered]
        if stray:
            result.notes.append(f"{len(stray)} {what} file(s) not covered by the ledger, e.g. {where}{stray[0]}")


def _comparable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _rebuild_problem(run_id: str, source: Source, sealed: bool) -> str | None:
    """A closed run's record must be the fold of its events."""
    record_bytes = source.read(f"runs/{run_id}/record.json")
    events_bytes = source.read(f"runs/{run_id}/events.jsonl")
    if record_bytes is None or events_bytes is None:
        return None  # named by the file check
    events = parse_events(events_bytes)
    if events.chain_break is not None:
        return f"run {run_id}: event {events.chain_break} of events.jsonl breaks the event hash chain (altered)"
    record = json.loads(record_bytes)
    rebuilt = build_record(events.events, seal_status="aborted" if sealed else None,
                           abort_reason=ABORT_REASON if sealed else None)
    if sealed:
        rebuilt["sealed_by"] = record.get("sealed_by")
    rebuilt = _comparable(rebuilt)
    fields = sorted(k for k in set(record) | set(rebuilt) if record.get(k) != rebuilt.get(k))
    if not fields:
        return None
    where, said, seen = _first_difference(record, rebuilt)
    return (
        f"run {run_id}: record.json disagrees with its events.jsonl in {', '.join(fields)} "
        f"({where}: record says {_short(said)}, events say {_short(seen)})"
    )


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _first_difference(a: Any, b: Any, path: str = "") -> tuple[str, Any, Any]:
    """The first (sorted) path where two JSON values differ, and both values there."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{index}]")
    return path, a, b


def _check_records(source: Source, walk: _Walk, result: VerifyResult) -> None:
    for run_id in sorted(walk.closed):
        problem = _rebuild_problem(run_id, source, run_id in walk.sealed)
        if problem:
            result.problems.append(problem)


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


def _check_runs(store: AuditStore | None, source: Source, walk: _Walk, seal: bool, result: VerifyResult) -> None:
    """Runs in the source must be in the ledger; unfinished ones are running or get sealed as aborted."""
    for run_id in sorted(set(source.run_ids()) | walk.started):
        if run_id not in walk.started:
            result.problems.append(
                f"run {run_id}: has no ledger entry (inserted, or its ledger entries removed)"
            )
        elif run_id in walk.closed:
            continue
        elif source.read(f"runs/{run_id}/record.json") is not None:
            result.problems.append(
                f"run {run_id}: its final record exists but its ledger end entry is missing (removed)"
            )
        elif seal and store is not None and store.run(run_id).events.exists():
            _seal(store, store.run(run_id), result)
        else:
            result.running.append(run_id)


def _check_anchor(target: WormStore, parsed: trust.Parsed, result: VerifyResult) -> None:
    try:
        head = anchor.latest(target, parsed[0][0])
    except StoreUnavailable as exc:
        result.problems.append(f"cannot read the ledger's anchor: {exc}")
        return
    if head is None:
        result.notes.append(f"the ledger has no anchor in {target.url} yet")
        return
    seq = int(head.get("seq", 0))
    result.anchor = f"seq {seq} at {head.get('ts')} in {target.url}"
    if seq > len(parsed):
        missing = f"{len(parsed) + 1}" if seq == len(parsed) + 1 else f"{len(parsed) + 1}-{seq}"
        result.problems.append(
            f"ledger entries {missing} are missing: the ledger ends at entry {len(parsed)}, but its anchor "
            f"({result.anchor}) records entry {seq} (deleted)"
        )
    elif sha256_bytes(parsed[seq - 1][0]) != head.get("hash"):
        result.problems.append(f"ledger entry {seq} differs from its anchor ({result.anchor}): rewritten")


def _check_network_stores(source: Source, walk: _Walk, result: VerifyResult) -> None:
    """Network config store commits named in the records must exist, be on the store's history, and the
    store's working tree must hold what was committed."""
    from runner.audit.gitstore import commit_problems

    trees_checked: set[str] = set()  # each store's working tree once
    for run_id in sorted(walk.closed):
        data = source.read(f"runs/{run_id}/record.json")
        record = json.loads(data) if data else {}
        for play in record.get("plays", []):
            for task in play.get("tasks", []):
                for res in task.get("results", []):
                    evidence = res.get("evidence") or {}
                    if not (evidence.get("store") and evidence.get("commit")):
                        continue
                    store = str(evidence["store"])
                    found = commit_problems(store, str(evidence["commit"]), check_tree=store not in trees_checked)
                    trees_checked.add(store)
                    result.problems += [f"run {run_id}: {p}" for p in found]


def _pinned_ring(parsed: trust.Parsed, source: Source, trusted: tuple[str, ...], result: VerifyResult) -> trust.KeyRing:
    pins, pin_source = keys.pinned_fingerprints(trusted)
    beside_bytes = source.read("ledger.pub")
    beside = None
    if beside_bytes:
        try:
            beside = keys.parse_public(beside_bytes, "ledger.pub")
        except Exception:
            result.problems.append(f"{source.name}/ledger.pub: not a public key (altered)")
    ring = trust.build(parsed, pins, pin_source, beside)
    ring.beside = beside
    return ring


def _beside_problem(ring: trust.KeyRing, where: str) -> str | None:
    """ledger.pub beside the ledger is a convenience copy: it must be one of the trusted keys."""
    beside = ring.beside
    if beside is None or keys.key_id(beside) in ring.trusted:
        return None
    return (
        f"{where}ledger.pub: key {keys.key_id(beside)} (fingerprint {keys.fingerprint(beside)}) is neither "
        f"pinned nor rotated to from a pinned key (replaced; pins from {ring.pin_source})"
    )


def _check_contents(source: Source, walk: _Walk, result: VerifyResult, where: str) -> None:
    _check_files(source, walk, result, where)
    _check_records(source, walk, result)
    if isinstance(source, LocalSource):
        _check_network_stores(source, walk, result)


def _anchored(target: WormStore | None, parsed: trust.Parsed, result: VerifyResult) -> None:
    if target is not None:
        _check_anchor(target, parsed, result)
    else:
        result.notes.append("no anchor configured ($SOP_AUDIT_ANCHOR): deleting the newest runs goes unnoticed")


def _spool_note(store: AuditStore | None, source: Source, result: VerifyResult) -> None:
    pending = store.remote.pending() if store is not None and store.remote is not None else []
    if pending and store is not None and store.remote is not None:
        result.notes.append(
            f"{len(pending)} ledger entries not yet flushed to {source.name} (spooled in {store.remote.spool})"
        )


def verify(
    store: AuditStore | None,
    *,
    seal: bool = True,
    trusted: tuple[str, ...] = (),
    source: Source | None = None,
    anchor_target: WormStore | None = None,
) -> VerifyResult:
    """Check everything; seal runs whose process died (status ``aborted``) unless ``seal`` is False.

    ``source`` defaults to the store's WORM store when it has one, else its directory; ``trusted`` are
    pinned keys (fingerprints or PEM files), default $SOP_AUDIT_TRUSTED_KEYS or the key directory's key."""
    if source is None:
        if store is None:
            raise ValueError("verify needs an audit store or a source")
        source = StoreSource(store.remote.store) if store.remote else LocalSource(store.root)
    result = VerifyResult(source=source.name)
    _spool_note(store, source, result)
    if store is not None and (store.root / "keys" / "ledger.key").exists():
        result.notes.append(
            f"{store.root}/keys/ledger.key: a signing key inside the audit directory (written before key "
            "custody); move it to the key directory and delete it here (docs/audit-record.md, Key custody)"
        )
    try:
        _verify(store, source, result, seal=seal, trusted=trusted, anchor_target=anchor_target)
    except StoreUnavailable as exc:
        result.problems.append(f"cannot read the evidence: {exc}")
    return result


def _verify(
    store: AuditStore | None,
    source: Source,
    result: VerifyResult,
    *,
    seal: bool,
    trusted: tuple[str, ...],
    anchor_target: WormStore | None,
) -> None:
    where = f"{source.root}/" if isinstance(source, LocalSource) else f"{source.name}/"
    result.runs = len(source.run_ids())
    data = source.ledger()
    if data is None:
        if result.runs:
            result.problems.append(f"{where}ledger: missing, but {result.runs} run(s) are recorded")
        return
    parsed = _parse_lines(data, result)
    result.entries = len(parsed)
    if parsed:
        result.head = sha256_bytes(parsed[-1][0])
    ring = _pinned_ring(parsed, source, trusted, result)
    walk = _walk(parsed, ring, source, result)
    if (beside_problem := _beside_problem(ring, where)) is not None:
        result.problems.append(beside_problem)
    if not result.problems:
        _check_contents(source, walk, result, where)
    if isinstance(source, LocalSource) and parsed:
        _anchored(anchor_target or anchor.configured(), parsed, result)
    if not result.problems:
        _check_runs(store, source, walk, seal, result)
