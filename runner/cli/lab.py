"""`sop lab up|down|status`: the embedded lab of Debian hosts, network devices and S3 store."""

from __future__ import annotations

import json

import click

from runner.lab import Lab, default_lab_name

name_option = click.option("--name", default=default_lab_name, show_default="default (or $SOP_LAB_NAME)",
                           help="Lab instance; several can run side by side.")


@click.group("lab")
def command() -> None:
    """Start, inspect and remove the embedded lab."""


@command.command("up")
@name_option
def up(name: str) -> None:
    """Start the lab (idempotent; fast when the image is cached) and write its inventory."""
    Lab(name, progress=lambda msg: click.echo(f"lab: {msg}")).up()


@command.command("down")
@name_option
def down(name: str) -> None:
    """Remove every container and network the lab created (the cached image stays)."""
    Lab(name, progress=lambda msg: click.echo(f"lab: {msg}")).down()


@command.command("status")
@name_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(name: str, as_json: bool) -> None:
    """Show each lab node and its state."""
    rows = Lab(name).status()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']:<12} {row['kind']:<8} {row['state']:<9} {row['address']}")
