"""`sop audit list|show|verify` (being built: issue 3)."""

import click


@click.group("audit")
def command() -> None:
    """Inspect and verify the audit ledger."""
