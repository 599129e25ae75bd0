"""The message catalogue of every human-facing document: English msgids in the templates (Jinja2's i18n
extension, ``{% trans %}`` and ``_()``), Indonesian in ``locale/id/LC_MESSAGES/*.po`` (gettext PO, read with
Babel, so ``pybabel extract/update`` maintain them; no compiled .mo is kept in git).

One PO file per document family (``run.po``, ``check.po``, ``monthly.po`` ...); all of a language's files form
one catalogue.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from runner.errors import ConfigError

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = {"en": "English", "id": "Bahasa Indonesia"}
SOURCE_LANGUAGE = "en"  # the msgids


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ConfigError(f"language {lang!r}: not one of {', '.join(LANGUAGES)}")
    return lang


@cache
def translations(lang: str) -> NullTranslations:
    """The catalogue of ``lang`` (English: the msgids themselves)."""
    check_language(lang)
    if lang == SOURCE_LANGUAGE:
        return NullTranslations()
    merged = Translations()
    for path in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=lang, domain=path.stem)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        merged.merge(Translations(fp=buffer, domain="messages"))
    return merged


def gettext(lang: str, message: str) -> str:
    """One message in ``lang`` (for text built in Python, e.g. a summary line)."""
    return translations(lang).gettext(message)


def message(msgid: str, **args: object) -> dict[str, object]:
    """A sentence a document carries language-neutral (``msgid`` with %(name)s fields and their values): the
    JSON keeps it, templates translate it with ``_(m.msg, **m.args)``, ``text()`` gives the English."""
    return {"msg": msgid, "args": args}


def text(item: dict[str, object]) -> str:
    return str(item["msg"]) % dict(item["args"])  # type: ignore[call-overload]
