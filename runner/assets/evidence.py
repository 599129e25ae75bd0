"""Evidence the asset commands write outside a playbook run (imports, forms, certificates): files under
``<audit dir>/assets/`` sealed in the ledger by an ``attach`` entry, so ``sop audit verify`` covers them."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Any

from runner.audit.store import AuditStore
from runner.files import write_json_private
from runner.settings import audit_dir


def evidence_dir(*parts: str, root: Path | None = None) -> Path:
    path = (root or audit_dir()).joinpath("assets", *parts)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def seal(files: dict[str, Path], run_id: str = "-", root: Path | None = None) -> dict[str, Any] | None:
    """An ``attach`` ledger entry hashing ``files`` (all under the audit dir)."""
    return AuditStore.configured(root or audit_dir()).attach(run_id or "-", files)


def record_cli_change(kind: str, document: dict[str, Any], root: Path | None = None) -> Path:
    """A JSON record of a change made from the command line (an import), sealed in the ledger."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = evidence_dir(kind, root=root) / f"{stamp}-{secrets.token_hex(4)}.json"
    write_json_private(path, document)
    seal({"record": path}, root=root)
    return path


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)
