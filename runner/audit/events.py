"""The run's event log: JSON Lines, one event a line, each line chained to the previous by sha256.

Lines are written through a buffer and flushed at task boundaries (not fsynced per event), so a crash loses at
most the results of the task that was running; a torn last line is ignored on reading.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

GENESIS = "0" * 64


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


def open_private(path: Path, flags: int) -> int:
    """os.open with mode 0600 (files in the audit dir are never group/world readable)."""
    return os.open(path, flags, 0o600)


class EventLog:
    """Append-only writer of one run's events.jsonl."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        self.path = path
        self._fh: IO[str] = os.fdopen(fd, "w", encoding="utf-8", buffering=1 << 16)
        self._prev = GENESIS
        self._seq = 0
        self.first_line_sha256: str | None = None

    def append(self, kind: str, data: dict[str, Any], *, flush: bool = False) -> dict[str, Any]:
        """Write one event (buffered; flushed when ``flush``) and return it."""
        self._seq += 1
        event = {"seq": self._seq, "ts": utcnow(), "type": kind, "prev": self._prev, **data}
        line = dumps(event)
        self._fh.write(line + "\n")
        self._prev = sha256_bytes(line.encode())
        if self.first_line_sha256 is None:
            self.first_line_sha256 = self._prev
        if flush:
            self._fh.flush()
        return event

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()


@dataclass
class EventRead:
    events: list[dict[str, Any]] = field(default_factory=list)
    torn_tail: bool = False  # last line incomplete (crash while writing): ignored
    chain_break: int | None = None  # seq of the first event whose prev hash does not match
    first_line_sha256: str | None = None


def read_events(path: Path) -> EventRead:
    """Read an events.jsonl, check its hash chain; a torn (unterminated/unparsable) last line is dropped."""
    return parse_events(path.read_bytes())


def parse_events(data: bytes) -> EventRead:
    """The events of an events.jsonl's bytes (see read_events)."""
    out = EventRead()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        out.torn_tail = True
        lines.pop()
    prev = GENESIS
    for index, raw in enumerate(lines):
        try:
            event = json.loads(raw)
        except ValueError:
            if index == len(lines) - 1:
                out.torn_tail = True
                break
            out.chain_break = index + 1
            break
        if event.get("prev") != prev or event.get("seq") != index + 1:
            out.chain_break = index + 1
            break
        prev = sha256_bytes(raw)
        if index == 0:
            out.first_line_sha256 = prev
        out.events.append(event)
    return out
