"""`sop run PLAYBOOK` (being built: issue 3)."""

import click


@click.command("run")
def command() -> None:
    """Run a playbook and record it as audit evidence."""
    raise click.ClickException("not implemented yet")
