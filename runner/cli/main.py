"""`sop`: the single entry point. Subcommands register here and only here."""

from __future__ import annotations

import logging
import sys

import click

from runner.errors import SopError


class SopGroup(click.Group):
    """Turns user errors into one clear line and an exit code; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except SopError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.secho(f"sop: error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.secho(f"sop: error: {exc}", fg="red", err=True)
            sys.exit(2)


@click.group(cls=SopGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show debug logs and tracebacks.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """SOP-as-code: run IT standard operating procedures and keep audit evidence of every run."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(message)s")


def _register() -> None:
    from runner.cli import assets, audit, check, demo, handover, lab, report, run, sla

    for module in (run, check, audit, report, sla, assets, handover, lab, demo):
        cli.add_command(module.command)


_register()


def main() -> None:
    cli(prog_name="sop")


if __name__ == "__main__":
    main()
