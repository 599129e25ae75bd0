"""`sop sla evaluate EXPORT`: judge a helpdesk ticket export against the SLA policy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from runner.cli.options import LANG_OPTION
from runner.errors import ConfigError


def _as_of(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--as-of {value!r}: not an ISO 8601 date/time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@click.group("sla")
def command() -> None:
    """Helpdesk service levels (SOP 1, SOP-IT-GEN-001)."""


@command.command("evaluate")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", help="The export's tool: glpi, zammad, osticket, generic (default: from its columns).")
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Export mappings file (default policies/ticket_exports.yml).")
@click.option("--scheme", help="SLA scheme of the policy (default: its default_scheme).")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="SLA policy (default policies/sla.yml).")
@click.option("--as-of", help="Judge open tickets as of this time (ISO 8601; default now).")
@click.option("--audit-dir", type=click.Path(path_type=Path), help="Audit directory (reports, ledger).")
@LANG_OPTION
def evaluate(*, export: Path, source: str | None, mapping_file: Path | None, scheme: str | None,
             policy_file: Path | None, as_of: str | None, audit_dir: Path | None, lang: str) -> None:
    """Per ticket: response and resolution time (business time, net of pauses), target, met or breached;
    per priority: compliance, median, p90. Exit 1 when rows could not be evaluated (listed with their line)."""
    from runner.sla.policy import load
    from runner.sla.report import run_evaluation

    result = run_evaluation(load(policy_file), export, source=source, mapping_file=mapping_file, scheme=scheme,
                            as_of=_as_of(as_of), audit_dir=audit_dir, lang=lang)
    for error in result.document["malformed"]:
        click.echo(f"{export}: {error['where']}: {error['field']}: {error['message']}", err=True)
    click.echo(result.summary())
    for fmt, path in result.paths.items():
        click.echo(f"report ({fmt}): {path}")
    raise SystemExit(1 if result.document["malformed"] else 0)
