"""The audit directory: ``ledger.jsonl``, ``ledger.pub``, ``keys/`` and ``runs/<run_id>/`` per run.

A run directory holds ``events.jsonl`` (written while the run goes), ``record.json`` (the consolidated record,
written at the end) and the reports (``report.html``, ``report.md``, ``report.json``).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner.audit import ledger
from runner.audit.events import read_events, sha256_file
from runner.audit.record import build_record
from runner.errors import ConfigError
from runner.files import write_json_private

RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")


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


class AuditStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.ledger_paths = ledger.LedgerPaths(self.root)

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

    def finish(self, run: RunFiles, record: dict[str, Any], kind: str = "end") -> dict[str, Any]:
        """Write the final record and its reports, then append the signed ``end`` (or ``seal``) entry."""
        write_json_private(run.record, record)
        render_reports(run, record)
        return ledger.append(
            self.root,
            kind,
            run.run_id,
            {"record": sha256_file(run.record), "events": sha256_file(run.events)},
            status=record.get("status"),
        )


def render_reports(run: RunFiles, record: dict[str, Any]) -> dict[str, Path]:
    """HTML, Markdown and JSON reports beside the record (a report failure never loses the record)."""
    from runner.report import render_run

    return render_run(record, run.dir)
