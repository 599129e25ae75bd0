"""Writing audit artifacts: atomically (tmp + rename, so readers never see half a file) and owner-only (0600)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_private(path: Path, text: str, *, durable: bool = False) -> None:
    """Write ``text`` to ``path``; ``durable`` also fsyncs before the rename (run records)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    tmp.replace(path)


def write_json_private(path: Path, data: Any) -> None:
    """JSON (indented, UTF-8) written durably: used for records a crash must not tear."""
    write_private(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", durable=True)
