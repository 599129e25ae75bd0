"""Reading and validating policy files: one place, so every policy error reads the same way.

Errors are one line: the file, then every problem with its path (``at 'a.b.0': message``).
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


def _stringify_dates(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stringify_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify_dates(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def validate(data: Any, schema: dict[str, Any], source: str, what: str) -> None:
    """Raise PolicyError ``<source>: invalid <what>: at '<path>': <message>; ...`` listing every violation."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"at '{'.'.join(str(p) for p in e.absolute_path) or '(top)'}': {e.message}" for e in errors]
        raise PolicyError(f"{source}: invalid {what}: " + "; ".join(lines))
