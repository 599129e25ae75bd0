"""The audit directory: ``ledger.jsonl``, ``ledger.pub`` and ``runs/<run_id>/`` per run (``checks/`` too).

A run directory holds ``events.jsonl`` (written while the run goes), ``record.json`` (the consolidated record,
written at the end) and the reports (``report.html``, ``report.md``, ``report.json``). The entry that closes a
run hashes all of them. With a WORM store (``$SOP_AUDIT_STORE``) the ledger lives in the store and the
directory is the spool of what is still to be uploaded.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner.audit import anchor, ledger
from runner.audit.events import read_events, sha256_file
from runner.audit.record import build_record
from runner.audit.remote import RemoteLedger
from runner.errors import ConfigError
from runner.files import write_json_private

RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
REPORT_FORMATS = ("html", "md", "json")


def new_run_id() -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class RunFiles:
    run_id: str
    dir: Path

    @property
    def events(self) -> Path:
        return self.dir / "events.jsonl"

    @property
    def record(self) -> Path:
        return self.dir / "record.json"

    def report(self, fmt: str) -> Path:
        return self.dir / f"report.{fmt}"


def run_hashes(run: RunFiles) -> dict[str, str]:
    """What the entry closing a run hashes: record, events and every report that exists."""
    hashes = {"record": sha256_file(run.record), "events": sha256_file(run.events)}
    for fmt in REPORT_FORMATS:
        if run.report(fmt).is_file():
            hashes[f"report.{fmt}"] = sha256_file(run.report(fmt))
    return hashes


def hash_file_name(name: str) -> str:
    """The file in a run directory that a key of an end entry's ``hashes`` covers."""
    return {"record": "record.json", "events": "events.jsonl", "start_event": "events.jsonl"}.get(name, name)


class AuditStore:
    def __init__(self, root: Path, remote: RemoteLedger | None = None) -> None:
        self.root = Path(root)
        self.ledger_paths = ledger.LedgerPaths(self.root)
        self.remote = remote
        self.flush_error: str | None = None
        self.document_error: str | None = None

    @classmethod
    def configured(cls, root: Path, store_url: str | None = None) -> AuditStore:
        """The audit dir, with the WORM store of ``store_url`` / ``$SOP_AUDIT_STORE`` when one is set."""
        url = store_url or os.environ.get("SOP_AUDIT_STORE")
        if not url:
            return cls(root)
        from runner.audit.policy import retention_days
        from runner.audit.worm import WormStore

        return cls(root, RemoteLedger(Path(root), WormStore(url, retention_days=retention_days())))

    def append(
        self, kind: str, run_id: str, hashes: dict[str, str], *, status: str | None = None,
        files: tuple[str, ...] = (),
    ) -> dict[str, Any] | None:
        """A signed ledger entry: local, or spooled and flushed to the WORM store (None while spooled)."""
        if self.remote is None:
            return ledger.append(self.root, kind, run_id, hashes, status=status)
        if kind == "start" and not files:  # the store then holds the first event the entry hashes
            files = (f"runs/{run_id}/events.jsonl",)
        flushed = self.remote.append(kind, run_id, hashes, status=status, files=files)
        self.flush_error = flushed.error
        return flushed.pushed[-1] if flushed.pushed and not flushed.pending else None

    def attach(self, run_id: str, files: dict[str, Path]) -> dict[str, Any] | None:
        """An ``attach`` entry hashing artifacts written after a run closed (check reports, re-renders)."""
        rel = {str(p.resolve().relative_to(self.root.resolve())): p for p in files.values() if p.is_file()}
        hashes = {name: sha256_file(path) for name, path in sorted(rel.items())}
        return self.append("attach", run_id, hashes, files=tuple(sorted(rel)))

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def run(self, run_id: str) -> RunFiles:
        if not RUN_ID.match(run_id):
            raise ConfigError(f"{run_id!r}: not a run id (expected YYYYMMDDTHHMMSSZ-xxxxxxxx)")
        return RunFiles(run_id, self.runs_dir / run_id)

    def run_ids(self) -> list[str]:
        if not self.runs_dir.is_dir():
            return []
        return sorted(p.name for p in self.runs_dir.iterdir() if p.is_dir() and RUN_ID.match(p.name))

    def find(self, ref: str) -> RunFiles:
        """A run by id, unique id prefix/suffix, or ``last``."""
        ids = self.run_ids()
        if ref == "last" and ids:
            return self.run(ids[-1])
        matches = [i for i in ids if i == ref] or [i for i in ids if i.startswith(ref) or i.endswith(ref)]
        if len(matches) != 1:
            what = "no run" if not matches else f"{len(matches)} runs"
            raise ConfigError(f"{self.root}: {what} matching {ref!r}", hint="see `sop audit list`")
        return self.run(matches[0])

    def load(self, run: RunFiles) -> dict[str, Any]:
        """The final record, else one folded from the events (status ``running`` or ``aborted``)."""
        if run.record.exists():
            return json.loads(run.record.read_text())
        if not run.events.exists():
            raise ConfigError(f"{run.dir}: no record and no events")
        events = read_events(run.events).events
        return build_record(events)

    def records(self) -> Iterator[dict[str, Any]]:
        for run_id in self.run_ids():
            try:
                yield self.load(self.run(run_id))
            except (ConfigError, OSError, ValueError):
                continue

    def finish(self, run: RunFiles, record: dict[str, Any], kind: str = "end",
               lang: str | None = None) -> dict[str, Any]:
        """Write the final record and its reports (in ``lang``, default settings.language()), then append the
        signed ``end`` (or ``seal``) entry."""
        write_json_private(run.record, record)
        render_reports(run, record, lang)
        hashes = run_hashes(run)
        rel = tuple(f"runs/{run.run_id}/{hash_file_name(name)}" for name in hashes)
        entry = self.append(kind, run.run_id, hashes, status=record.get("status"), files=rel)
        self._documents(record)
        if self.remote is None:
            self._anchor()
        return entry

    def _documents(self, record: dict[str, Any]) -> None:
        """Documents built from several runs (a change's record), rewritten after each; a failure is reported
        (``document_error``) and never costs the run its record."""
        from runner.change.record import update_after

        try:
            update_after(self, record)
        except Exception as exc:  # any failure of a derived document must not lose the run
            self.document_error = f"change record of {record.get('change_ref')} not written: {exc}"

    def _anchor(self) -> None:
        """Publish the local ledger's head to $SOP_AUDIT_ANCHOR (a failure only delays the anchor)."""
        target = anchor.configured()
        if target is None:
            return
        with self.ledger_paths.ledger.open("rb") as handle:
            first = handle.readline().rstrip(b"\n")
        last = ledger.last_line(self.ledger_paths.ledger) or first
        try:
            anchor.publish(target, first, int(json.loads(last)["seq"]), last, self.root)
        except anchor.StoreUnavailable as exc:
            self.flush_error = f"ledger head not anchored: {exc}"


def render_reports(run: RunFiles, record: dict[str, Any], lang: str | None = None) -> dict[str, Path]:
    """HTML, Markdown and JSON reports beside the record (a report failure never loses the record)."""
    from runner.report import render_run

    return render_run(record, run.dir, lang=lang)
