"""One SLA evaluation, end to end: read the export, judge it, write HTML/Markdown/JSON/CSV sealed in the ledger."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner import settings
from runner.errors import ConfigError
from runner.files import write_private
from runner.report.i18n import N_, labels
from runner.report.render import render
from runner.sla import exports
from runner.sla.evaluate import evaluate
from runner.sla.policy import SlaPolicy

CSV_FIELDS = ("ticket", "where", "priority", "source_priority", "status", "clock", "response_verdict",
              "response_s", "response_target_s", "resolution_verdict", "resolution_s", "resolution_target_s",
              "auto_close_eligible")
# The words HTML and Markdown show for the codes of a judgement, a ticket's status and a target's clock (the
# JSON and CSV keep the codes).
VERDICT_TEXT = labels("verdict", {"met": N_("met"), "breached": N_("breached"), "open": N_("open"),
                                  "paused": N_("paused"), "not_measurable": N_("not measurable"),
                                  "no_target": N_("no target")})
TICKET_STATUS_TEXT = labels("ticket_status", {"open": N_("open"), "paused": N_("paused"), "solved": N_("solved"),
                                              "closed": N_("closed")})
CLOCK_TEXT = labels("clock", {"wall": N_("wall"), "business": N_("business")})


@dataclass
class Evaluation:
    document: dict[str, Any]
    paths: dict[str, Path]

    def summary(self) -> str:
        doc = self.document
        parts = []
        for prio, stats in doc["per_priority"].items():
            if stats["tickets"]:
                resp, res = stats["response"]["compliance_pct"], stats["resolution"]["compliance_pct"]
                parts.append(f"{prio} {stats['tickets']} (response {_pct(resp)}, resolution {_pct(res)})")
        counts = doc["counts"]
        return (f"SLA {doc['scheme']['name']}: {counts['evaluated']} tickets evaluated, {counts['breached']} "
                f"breached, {counts['malformed']} rows not evaluated; " + "; ".join(parts or ["no tickets"]))


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{value}%"


def detect_source(path: Path, mappings: dict[str, exports.ExportMapping]) -> str:
    """The mapping whose required columns the export has (the first that fits)."""
    try:
        head = Path(path).read_text(encoding="utf-8-sig")[:65536]
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the export: {exc}") from None
    keys: set[str] = set()
    if Path(path).suffix.lower() == ".json":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: line {exc.lineno}: not valid JSON: {exc.msg}") from None
        items = data.get("tickets", data.get("data")) if isinstance(data, dict) else data
        keys = set(items[0]) if isinstance(items, list) and items and isinstance(items[0], dict) else set()
    for name, mapping in mappings.items():
        header = keys or set(next(csv.reader(io.StringIO(head), delimiter=mapping.delimiter), []))
        if all(mapping.columns[k] in header for k in ("id", "priority", "created")):
            return name
    raise ConfigError(f"{path}: no ticket export mapping fits its columns",
                      hint=f"name the tool with --source ({', '.join(mappings)}) or pass --mapping FILE")


def _csv(document: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for r in document["tickets"]:
        writer.writerow([r["id"], r["where"], r["priority"], r["source_priority"], r["status"], r["clock"],
                         r["response"]["verdict"], r["response"]["seconds"], r["response"]["target_s"],
                         r["resolution"]["verdict"], r["resolution"]["seconds"], r["resolution"]["target_s"],
                         r["auto_close_eligible"]])
    for e in document["malformed"]:
        writer.writerow(["", e["where"], "", "", "", "", "malformed", "", "", f"{e['field']}: {e['message']}", "", "",
                         ""])
    return out.getvalue()


def run_evaluation(policy: SlaPolicy, export: Path, *, source: str | None = None, mapping_file: Path | None = None,
                   scheme: str | None = None, as_of: dt.datetime | None = None,
                   audit_dir: Path | None = None, lang: str | None = None) -> Evaluation:
    mappings = exports.load_mappings(mapping_file)
    source = source or detect_source(export, mappings)
    if source not in mappings:
        raise ConfigError(f"--source {source!r}: no such export mapping (known: {', '.join(mappings)})")
    chosen = policy.scheme(scheme)
    tickets, errors = exports.read_export(export, mappings[source])
    moment = as_of or dt.datetime.now(dt.UTC)
    document = evaluate(policy, chosen, tickets, errors, priority_of=mappings[source].priorities, as_of=moment)
    document.update({"title": f"SLA evaluation {chosen.name}", "export": str(export), "source": source,
                     "policy": policy.source})
    return Evaluation(document, _write(document, audit_dir, lang))


def _write(document: dict[str, Any], audit_dir: Path | None, lang: str | None) -> dict[str, Path]:
    from runner.audit.store import AuditStore

    root = settings.audit_dir(audit_dir)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = root / "checks" / f"sla-{stamp}"
    paths = render(document, folder, template="sla", basename="sla", lang=lang)
    paths["csv"] = folder / "sla.csv"
    write_private(paths["csv"], _csv(document))
    AuditStore.configured(root).attach("-", paths)  # sealed: `sop audit verify` covers every file
    return paths
