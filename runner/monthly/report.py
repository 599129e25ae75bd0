"""`sop report monthly`: build the month's report from sealed evidence, render it (HTML, Markdown, JSON, PDF) in
one language, seal it in the ledger, and hand it to a delivery hook."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner import execute
from runner.audit import AuditStore
from runner.audit.events import utcnow
from runner.errors import ConfigError
from runner.files import write_private
from runner.monthly import charts, sections
from runner.monthly.period import Month
from runner.monthly.sources import MonthEvidence, collect
from runner.policy.refs import sop_steps
from runner.report.render import render
from runner.settings import assets_db

HOOK_TIMEOUT_S = 60


@dataclass
class MonthlyReport:
    document: dict[str, Any]
    paths: dict[str, Path]

    def summary(self) -> str:
        doc, head = self.document, self.document["headline"]
        ledger = "ledger verified" if doc["ledger"]["ok"] else "LEDGER BROKEN"
        return (f"monthly report {doc['month']}: {head['runs']} runs, {head['problem_runs']} failed/refused, "
                f"{head['incidents']} incident(s), {ledger}")


def _tickets(export: Path, month: Month, source: str | None) -> dict[str, Any]:
    """The SLA evaluation of the tickets created in the month (malformed rows: all of them, with their line)."""
    from runner.sla import exports
    from runner.sla.evaluate import evaluate
    from runner.sla.policy import load
    from runner.sla.report import detect_source

    policy, mappings = load(), exports.load_mappings()
    source = source or detect_source(export, mappings)
    if source not in mappings:
        raise ConfigError(f"--ticket-source {source!r}: no such export mapping (known: {', '.join(mappings)})")
    tickets, errors = exports.read_export(export, mappings[source])
    mine = [t for t in tickets if month.contains(t.created)]
    as_of = min(dt.datetime.now(dt.UTC), month.end)
    scheme = policy.scheme(None)
    document = evaluate(policy, scheme, mine, errors, priority_of=mappings[source].priorities, as_of=as_of)
    document.update(export=str(export), source=source,
                    export_sha256=hashlib.sha256(export.read_bytes()).hexdigest())
    return document


def _register() -> Any | None:
    from runner.assets.register import Register

    path = assets_db()
    return Register.configured(path) if path.is_file() else None


def timezone() -> Any:
    from runner.sla.policy import load

    return load().calendar.timezone


def build(root: Path, month: Month, *, tickets: Path | None = None, ticket_source: str | None = None,
          evidence: MonthEvidence | None = None) -> dict[str, Any]:
    """The report document (language-neutral JSON; the templates translate)."""
    ev = evidence or collect(root, month)
    register = _register()
    try:
        devices = sections.devices(register, month, ev.certificates)
    finally:
        if register is not None:
            register.close()
    backup, net = sections.backups(ev), sections.network(ev)
    incidents = sections.incidents(ev, backup, net)
    security = sections.security(ev)
    support = sections.support(_tickets(tickets, month, ticket_source) if tickets else None)
    problem_runs = incidents["runs"]
    return {
        "report": "monthly", "month": month.label, "generated": utcnow(),
        "period": {"start": month.start.isoformat(), "end": month.end.isoformat(), "timezone": str(month.timezone)},
        "audit_dir": str(root),
        "ledger": {"ok": ev.ledger.ok, "entries": ev.ledger.entries, "head": ev.ledger.head,
                   "problems": ev.ledger.problems},
        "unsealed": ev.unsealed,
        "headline": {"runs": len(ev.runs), "problem_runs": len(problem_runs),
                     "incidents": len(problem_runs) + len(incidents["tamper"]) + len(incidents["network_faults"]),
                     "security_hosts": len(security.get("hosts") or []),
                     "sla_breaches": len(support.get("breaches") or []) if support["data"] else None},
        "activity": sections.activity(ev),
        "sections": {"support": support, "devices": devices, "security": security, "incidents": incidents,
                     "backups": backup, "patches": sections.patches(ev), "network": net},
        "sop_steps": sections.sop_steps(ev, sop_steps()),
    }


def _days(month: Month) -> list[str]:
    day, days = month.start.date(), []
    while day < month.end.date():
        days.append(day.isoformat())
        day += dt.timedelta(days=1)
    return days


def _view(document: dict[str, Any], month: Month) -> dict[str, Any]:
    """What the HTML/Markdown templates show: the document plus its charts (SVG is not kept in the JSON)."""
    security = document["sections"]["security"]
    return {**document, "charts": {
        "activity": charts.daily_stacked(document["activity"]["per_day"], _days(month), "runs per day"),
        "security": charts.horizontal_bars([(h["host"], h["score_pct"]) for h in security.get("hosts") or []],
                                           "compliance per host") if security["data"] else "",
    }}


def write(document: dict[str, Any], root: Path, month: Month, *, lang: str, pdf: bool = True) -> dict[str, Path]:
    """``reports/monthly-YYYY-MM/monthly-YYYY-MM-<lang>.{html,md,json,pdf}``, sealed by one ``attach`` entry."""
    folder = Path(root) / "reports" / f"monthly-{month.label}"
    base = f"monthly-{month.label}-{lang}"
    paths = render(_view(document, month), folder, template="monthly", basename=base, formats=("html", "md"),
                   lang=lang)
    paths["json"] = folder / f"{base}.json"
    write_private(paths["json"], json.dumps({**document, "lang": lang}, indent=2, ensure_ascii=False,
                                            default=str) + "\n")
    if pdf:
        from runner.report.pdf import html_to_pdf

        paths["pdf"] = html_to_pdf(paths["html"], folder / f"{base}.pdf")
    AuditStore.configured(Path(root)).attach("-", paths)
    return paths


def deliver(paths: dict[str, Path], summary: str, *, command: str | None = None,
            webhook: str | None = None) -> list[str]:
    """Hand the sealed report over: a command (mail, scp ...) with the files as arguments, and/or a webhook that
    receives JSON (summary and paths). Returns one line per delivery; a failure is a ConfigError."""
    lines = []
    if command:
        import shlex

        argv = [*shlex.split(command), *(str(p) for p in paths.values())]
        result = execute.run(argv, check=False, timeout=HOOK_TIMEOUT_S)
        if result.returncode != 0:
            raise ConfigError(f"delivery command {argv[0]} failed ({result.returncode}): "
                              f"{(result.stderr or result.stdout).strip()[:300]}")
        lines.append(f"delivered by {argv[0]}")
    if webhook:
        body = json.dumps({"summary": summary, "files": {k: str(v) for k, v in paths.items()}}).encode()
        request = urllib.request.Request(webhook, data=body, headers={"Content-Type": "application/json"},
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=HOOK_TIMEOUT_S) as response:
                lines.append(f"delivered to webhook (HTTP {response.status})")
        except OSError as exc:
            raise ConfigError(f"delivery webhook {webhook}: {exc}") from None
    return lines


def monthly(root: Path, month_label: str, *, lang: str, tickets: Path | None = None,
            ticket_source: str | None = None, pdf: bool = True) -> MonthlyReport:
    month = Month.parse(month_label, timezone())
    document = build(root, month, tickets=tickets, ticket_source=ticket_source)
    return MonthlyReport(document, write(document, root, month, lang=lang, pdf=pdf))
