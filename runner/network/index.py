"""A static HTML index of the config store: every device, its backup health, its last change, links to diffs.

Written by each backup run into ``index/`` of the store (committed with the run, so it travels with a push and
is pinned by the run's commit): ``index.html|md|json`` and ``changes/<device>.html|json`` with the device's
last :data:`KEEP_CHANGES` diffs, newest first. Rendered by the shared report renderer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.network import status
from runner.report.i18n import N_, labels
from runner.report.render import render

DIRNAME = "index"
KEEP_CHANGES = 20
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
HEALTH_TEXT = labels("health", {"ok": N_("ok"), "failing": N_("failing"), "stale": N_("stale"),
                                "never": N_("never")})  # the pages' words (the JSON keeps the codes)


def page_name(device: str) -> str:
    return _SAFE.sub("_", device)


def _changes_doc(path: Path, device: str) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        doc = {}
    changes = doc.get("changes") if isinstance(doc, dict) else None
    return {"title": f"Configuration changes of {device}", "device": device,
            "changes": changes if isinstance(changes, list) else []}


def _write_changes(root: Path, device: str, diff: str, run_id: str, at: str, *, lang: str | None) -> None:
    folder = root / "changes"
    doc = _changes_doc(folder / f"{page_name(device)}.json", device)
    doc["changes"] = [{"run_id": run_id, "at": at, "diff": diff}, *doc["changes"]][:KEEP_CHANGES]
    render(doc, folder, template="netchanges", basename=page_name(device), formats=("html", "json"), lang=lang)


def _row(name: str, entry: Mapping[str, Any], has_changes: bool) -> dict[str, Any]:
    return {"name": name, "device_type": entry.get("device_type"), "mask_family": entry.get("mask_family"),
            "health": status.health(entry), "last_success": (entry.get("last_success") or {}).get("at"),
            "last_change": (entry.get("last_change") or {}).get("at"),
            "failing_since": entry.get("failing_since"), "consecutive_failures": entry.get("consecutive_failures", 0),
            "last_failure": entry.get("last_failure"),
            "changes_page": f"changes/{page_name(name)}.html" if has_changes else None}


def write_index(store: Path, devices: Mapping[str, Mapping[str, Any]], diffs: Mapping[str, str], *,
                run_id: str, at: str, remote: str | None = None, lang: str | None = None) -> Path:
    """(Re)write the index for one run; ``diffs`` are this run's per-device diffs (already masked); the pages in
    ``lang`` (default settings.language())."""
    root = Path(store) / DIRNAME
    for name, diff in diffs.items():
        _write_changes(root, name, diff, run_id, at, lang=lang)
    rows = [_row(name, entry, (root / "changes" / f"{page_name(name)}.json").exists())
            for name, entry in sorted(devices.items())]
    counts = {state: sum(1 for r in rows if r["health"] == state) for state in ("ok", "failing", "stale", "never")}
    doc = {"title": "Network configuration store", "generated": at, "run_id": run_id, "remote": remote,
           "counts": counts, "devices": rows}
    return render(doc, root, template="netindex", basename="index", lang=lang)["html"]
