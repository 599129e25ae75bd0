"""`sop check` (being built: issue 4; `--network` by issue 6)."""

import click


@click.command("check")
def command() -> None:
    """Audit hosts against the security baseline without changing anything."""
    raise click.ClickException("not implemented yet")
