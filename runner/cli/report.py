"""`sop report RUN`: re-render the reports of a recorded run; `sop report monthly YYYY-MM`: the monthly report."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli.audit import AUDIT_DIR_OPTION, store_for
from runner.cli.options import LANG_OPTION
from runner.report import render_run
from runner.report.render import FORMATS
from runner.settings import audit_dir as resolve_audit_dir


class _RunByDefault(click.Group):
    """A first argument that is not a subcommand names a run: `sop report RUN` stays `sop report run RUN`."""

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


@click.group("report", cls=_RunByDefault)
def command() -> None:
    """Reports: `sop report RUN` (a run's reports, re-rendered) and `sop report monthly YYYY-MM`."""


@command.command("run")
@click.argument("run")
@click.option(
    "--format", "formats", multiple=True, type=click.Choice(FORMATS), help="Formats (default: all)."
)
@click.option("--out", type=click.Path(file_okay=False), help="Write here instead of the run's directory.")
@AUDIT_DIR_OPTION
@LANG_OPTION
def run_report(run: str, formats: tuple[str, ...], out: str | None, audit_dir: str | None, lang: str) -> None:
    """Render the HTML/Markdown/JSON reports of RUN (id, unique prefix/suffix, or `last`)."""
    store = store_for(audit_dir)
    files = store.find(run)
    record = store.load(files)
    paths = render_run(record, Path(out) if out else files.dir, formats=formats or FORMATS, lang=lang)
    if not out:  # re-rendered in place: the ledger must hold the new hashes, or verify names the reports
        store.attach(files.run_id, {fmt: path for fmt, path in paths.items()})
    for fmt, path in paths.items():
        click.echo(f"report ({fmt}): {path}")


@command.command("monthly")
@click.argument("month")
@click.option("--tickets", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Helpdesk ticket export (CSV/JSON) for the support section (else: no data).")
@click.option("--ticket-source", help="The export's tool: glpi, zammad, osticket, generic (default: from its columns).")
@click.option("--no-pdf", is_flag=True, help="HTML, Markdown and JSON only.")
@click.option("--deliver-command", metavar="CMD",
              help="Run CMD with the report files as arguments (e.g. a mail script).")
@click.option("--webhook", metavar="URL", help="POST the summary and file paths as JSON to URL.")
@AUDIT_DIR_OPTION
@LANG_OPTION
def monthly(*, month: str, tickets: Path | None, ticket_source: str | None, lang: str, no_pdf: bool,
            deliver_command: str | None, webhook: str | None, audit_dir: str | None) -> None:
    """The monthly report to management for MONTH (YYYY-MM): support requests, devices, security, incidents,
    backups, patches and network, from the sealed evidence of the month; sealed in the ledger itself.

    Exit 1 (after writing the report, which says so at the top) when the ledger does not verify."""
    from runner.monthly.report import deliver
    from runner.monthly.report import monthly as build_monthly

    report = build_monthly(resolve_audit_dir(audit_dir), month, lang=lang, tickets=tickets,
                           ticket_source=ticket_source, pdf=not no_pdf)
    click.secho(report.summary(), fg="green" if report.document["ledger"]["ok"] else "red", bold=True)
    for fmt, path in report.paths.items():
        click.echo(f"report ({fmt}): {path}")
    for line in deliver(report.paths, report.summary(), command=deliver_command, webhook=webhook):
        click.echo(line)
    raise SystemExit(0 if report.document["ledger"]["ok"] else 1)
