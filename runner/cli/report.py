"""`sop report` (being built: issue 3)."""

import click


@click.command("report")
def command() -> None:
    """Render reports of recorded runs."""
    raise click.ClickException("not implemented yet")
