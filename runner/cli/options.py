"""Click options shared by several commands."""

from __future__ import annotations

import click

from runner.report.i18n import LANGUAGES


def _language(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    """--lang, else $SOP_LANG, else English; a language without a catalogue is a ConfigError (one line, exit 2)."""
    from runner.settings import language

    return language(value)


LANG_OPTION = click.option(
    "--lang",
    metavar=f"[{'|'.join(LANGUAGES)}]",
    callback=_language,
    help="Language of the reports, forms and certificates written (default: $SOP_LANG, else en).",
)
