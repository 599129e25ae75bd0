"""The message catalogue of every human-facing document: English msgids in the templates (Jinja2's i18n
extension, ``{% trans %}`` and ``_()``), Indonesian in ``locale/id/LC_MESSAGES/*.po`` (gettext PO, read with
Babel, so ``pybabel extract/update`` maintain them; no compiled .mo is kept in git).

One PO file per document family (``run.po``, ``check.po``, ``monthly.po`` ...); all of a language's files form
one catalogue.

Fixed English words that Python puts into a document (a run's status text, a check's status) stay English in
its JSON: Python marks them with :func:`N_` (a no-op pybabel extracts) and the templates translate them at render
time, a marked text with the ``tr`` filter, a code with ``label`` (its word from a table registered with
:func:`labels`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from runner.errors import ConfigError

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = {"en": "English", "id": "Bahasa Indonesia"}
SOURCE_LANGUAGE = "en"  # the msgids
_MARKED: set[str] = set()  # texts marked with N_: the only Python-made texts the `tr` filter translates
_LABELS: dict[str, Mapping[str, str]] = {}  # kind -> {code: word}, for the `label` filter


def N_(message: str) -> str:  # gettext's conventional name, a pybabel default keyword
    """Mark a fixed English text Python puts into a document: returned as is, translated when rendered."""
    _MARKED.add(message)
    return message


def labels(kind: str, table: Mapping[str, str]) -> Mapping[str, str]:
    """Register the words (marked with N_) of a kind of code, e.g. ``labels("check_status", {"pass": ...})``."""
    _LABELS[kind] = table
    return table


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


def translate_marked(lang: str, value: Any) -> Any:
    """``value`` in ``lang`` when it is a text marked with N_; anything else (data) as it is."""
    return gettext(lang, value) if isinstance(value, str) and value in _MARKED else value


def label(lang: str, code: Any, kind: str) -> Any:
    """The word for ``code`` of ``kind`` in ``lang``; an unknown code as it is."""
    word = _LABELS.get(kind, {}).get(code) if isinstance(code, str) else None
    return gettext(lang, word) if word else code
