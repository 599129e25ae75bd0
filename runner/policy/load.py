"""Reading and validating policy files: one place, so every policy error reads the same way.

Errors are one line: the file, then every problem with its path (``at 'a.b.0': message``), and its line in the
file when the caller read it with :func:`read_yaml_lines` (``at 'a.b.0' (line 12): message``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from runner.errors import PolicyError


def read_yaml(path: Path) -> Any:
    """YAML with dates turned back into ISO strings (schemas speak JSON)."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise PolicyError(f"{path}:{where} not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return _stringify_dates(data)


def read_yaml_lines(path: Path) -> tuple[Any, dict[tuple[str, ...], int]]:
    """:func:`read_yaml` plus the 1-based line of every mapping key / sequence item, keyed by its path."""
    data = read_yaml(path)
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, where: tuple[str, ...]) -> None:
        lines.setdefault(where, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                lines[(*where, str(key.value))] = key.start_mark.line + 1
                walk(value, (*where, str(key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*where, str(index)))

    root = yaml.compose(Path(path).read_text(), Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, ())
    return data, lines


def read_validated(path: Path | str, schema: dict[str, Any], what: str) -> Any:
    """A policy file read and checked against ``schema``: every problem named with its path and line."""
    data, lines = read_yaml_lines(Path(path))
    validate(data, schema, str(path), what, lines)
    return data


def _line_of(lines: dict[tuple[str, ...], int], where: tuple[str, ...]) -> int | None:
    """The line of ``where``, else of its nearest ancestor present in the file (a missing key's parent)."""
    for end in range(len(where), -1, -1):
        if where[:end] in lines:
            return lines[where[:end]]
    return None


def _stringify_dates(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stringify_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify_dates(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def validate(data: Any, schema: dict[str, Any], source: str, what: str,
             lines: dict[tuple[str, ...], int] | None = None) -> None:
    """Raise PolicyError ``<source>: invalid <what>: at '<path>' (line N): <message>; ...`` listing every
    violation (the line only when ``lines`` from :func:`read_yaml_lines` is given)."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise PolicyError(f"{source}: invalid {what}: " + "; ".join(_problem(e, lines) for e in errors))


def _problem(error: jsonschema.ValidationError, lines: dict[tuple[str, ...], int] | None) -> str:
    where = tuple(str(p) for p in error.absolute_path)
    line = _line_of(lines, where) if lines else None
    return f"at '{'.'.join(where) or '(top)'}'{f' (line {line})' if line else ''}: {error.message}"
