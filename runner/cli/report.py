"""`sop report RUN`: re-render the reports of a recorded run from its record."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli.audit import AUDIT_DIR_OPTION, store_for
from runner.cli.options import LANG_OPTION
from runner.report import render_run
from runner.report.render import FORMATS


@click.command("report")
@click.argument("run")
@click.option(
    "--format", "formats", multiple=True, type=click.Choice(FORMATS), help="Formats (default: all)."
)
@click.option("--out", type=click.Path(file_okay=False), help="Write here instead of the run's directory.")
@AUDIT_DIR_OPTION
@LANG_OPTION
def command(run: str, formats: tuple[str, ...], out: str | None, audit_dir: str | None, lang: str) -> None:
    """Render the HTML/Markdown/JSON reports of RUN (id, unique prefix/suffix, or `last`)."""
    store = store_for(audit_dir)
    files = store.find(run)
    record = store.load(files)
    paths = render_run(record, Path(out) if out else files.dir, formats=formats or FORMATS, lang=lang)
    if not out:  # re-rendered in place: the ledger must hold the new hashes, or verify names the reports
        store.attach(files.run_id, {fmt: path for fmt, path in paths.items()})
    for fmt, path in paths.items():
        click.echo(f"report ({fmt}): {path}")
