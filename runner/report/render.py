"""Render a document to HTML/Markdown/JSON files (written to .tmp, 0600, then renamed)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache, partial
from pathlib import Path
from typing import Any

import jinja2

from runner.files import write_private
from runner.report.i18n import N_, gettext, label, translate_marked, translations
from runner.report.model import run_model
from runner.settings import language

TEMPLATES = Path(__file__).with_name("templates")
FORMATS = ("html", "md", "json")
NONE = N_("(none)")


@cache
def _environment(extra_dirs: tuple[str, ...], autoescape: bool, lang: str = "en") -> jinja2.Environment:
    loader = jinja2.FileSystemLoader([*extra_dirs, str(TEMPLATES)])
    env = jinja2.Environment(
        loader=loader,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.ChainableUndefined,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = lang
    env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=2, ensure_ascii=False, default=str)
    env.filters["json_inline"] = lambda v: json.dumps(v, ensure_ascii=False, default=str)
    env.filters["mdcell"] = lambda v: str(v if v is not None else "").replace("|", "\\|").replace("\n", " ")
    env.filters["duration"] = duration
    env.filters["kv"] = partial(key_values, none=gettext(lang, NONE))
    env.filters["tr"] = partial(translate_marked, lang)  # a text Python marked with N_
    env.filters["label"] = partial(label, lang)  # code | label("kind"): the word for a code
    return env


def key_values(value: Any, prefix: str = "", none: str = NONE) -> list[str]:
    """A finding's seen/required value as readable ``key: value`` lines (nested keys joined with a dot)."""
    if isinstance(value, dict):
        lines = [line for k, v in value.items() for line in key_values(v, f"{prefix}{k}.", none)]
        return lines or [f"{prefix.rstrip('.')}: {none}" if prefix else none]
    if isinstance(value, list) and all(isinstance(v, list) and len(v) == 2 for v in value) and value:
        return [line for k, v in value for line in key_values(v, f"{prefix}{k}.", none)]
    shown = ", ".join(str(v) for v in value) if isinstance(value, list) else (none if value is None else value)
    return [f"{prefix.rstrip('.')}: {shown}" if prefix else str(shown)]


def duration(seconds: float | None) -> str:
    """``5400`` -> ``1h 30m``; negative values keep their sign; None -> an em dash."""
    if seconds is None:
        return "\u2014"
    sign, rest = ("-" if seconds < 0 else ""), round(abs(seconds))
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if not (days or hours or minutes):
        return f"{sign}{secs}s"
    parts = [f"{days}d"] * bool(days) + [f"{hours}h"] * bool(hours) + [f"{minutes}m"] * bool(minutes)
    return sign + " ".join(parts)


def render(
    document: dict[str, Any],
    out_dir: Path,
    *,
    template: str = "run",
    basename: str = "report",
    formats: Sequence[str] = FORMATS,
    template_dirs: Iterable[Path] = (),
    lang: str | None = None,
) -> dict[str, Path]:
    """Write ``<basename>.<fmt>`` for each format, in ``lang`` (default: settings.language()); return
    {format: path}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dirs = tuple(str(d) for d in template_dirs)
    lang = language(lang)
    paths: dict[str, Path] = {}
    for fmt in formats:
        path = out_dir / f"{basename}.{fmt}"
        if fmt == "json":
            text = json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
        else:
            env = _environment(dirs, autoescape=fmt == "html", lang=lang)
            text = env.get_template(f"{template}.{fmt}.j2").render(doc=document)
        write_private(path, text)
        paths[fmt] = path
    return paths


def render_run(
    record: dict[str, Any], out_dir: Path, formats: Sequence[str] = FORMATS, lang: str | None = None
) -> dict[str, Path]:
    """The run report (HTML, Markdown, JSON) of one run record."""
    return render(run_model(record), out_dir, template="run", formats=formats, lang=lang)


def render_text(
    document: dict[str, Any], *, template: str = "run", fmt: str = "md", template_dirs: Iterable[Path] = (),
    lang: str | None = None,
) -> str:
    """One rendering as a string (e.g. Markdown for the terminal)."""
    env = _environment(tuple(str(d) for d in template_dirs), autoescape=fmt == "html", lang=language(lang))
    return env.get_template(f"{template}.{fmt}.j2").render(doc=document)
