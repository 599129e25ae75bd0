"""The security baseline control catalogue: load, validate against the packaged schema, cross-check refs.

Every problem is collected first and reported at once, one line each: ``file: control ID: at 'path': reason``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from runner.errors import PolicyError
from runner.paths import POLICIES, REPO_ROOT
from runner.policy import refs
from runner.policy.load import read_yaml

SCHEMA_DIR = Path(__file__).with_name("schema")
DEFAULT_CATALOGUE = POLICIES / "controls.yml"
ROLES = REPO_ROOT / "roles"


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    sop_steps: tuple[str, ...]
    iso: tuple[str, ...]
    severity: str
    applies_to: tuple[str, ...]
    parameters: dict[str, Any]
    method: str
    remediation_role: str
    remediation_tag: str
    limitation: str | None = None
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "sop_steps": list(self.sop_steps),
            "iso": list(self.iso),
            "severity": self.severity,
            "applies_to": list(self.applies_to),
            "parameters": self.parameters,
            "method": self.method,
            "remediation": {"role": self.remediation_role, "tag": self.remediation_tag},
            "limitation": self.limitation,
        }


@dataclass
class Catalogue:
    path: Path
    controls: dict[str, Control] = field(default_factory=dict)

    def select(self, ids: list[str] | None) -> list[Control]:
        """The controls named (all when ``ids`` is empty); an unknown id is a user error."""
        if not ids:
            return list(self.controls.values())
        unknown = [i for i in ids if i not in self.controls]
        if unknown:
            raise PolicyError(
                f"{self.path}: unknown control id(s) {', '.join(unknown)}",
                hint=f"known: {', '.join(self.controls)}",
            )
        return [self.controls[i] for i in ids]


@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())


def schema_errors(data: Any, schema_name: str, path: Path, id_key: str = "controls") -> list[str]:
    """All schema violations, each as ``file: control ID: at 'a.b[0]': message``."""
    validator = jsonschema.Draft202012Validator(
        schema(schema_name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        parts = list(error.absolute_path)
        problems.append(
            f"{path}: {_owner(parts, id_key, data)}at '{_dotted(parts) or '<top>'}': {_reason(error)}"
        )
    return problems


def _owner(parts: list[Any], id_key: str, data: Any) -> str:
    if len(parts) >= 2 and parts[0] == id_key:
        if isinstance(parts[1], str):
            return f"control {parts[1]}: "
        try:
            return f"waiver #{parts[1] + 1} ({data[id_key][parts[1]].get('control', '?')}): "
        except (AttributeError, IndexError, KeyError, TypeError):
            return f"entry #{parts[1]}: "
    return ""


def _dotted(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _reason(error: jsonschema.ValidationError) -> str:
    if error.validator in ("if", "allOf") and error.context:
        return "; ".join(_reason(e) for e in error.context)
    if error.validator in ("anyOf", "oneOf") and error.context:
        return "needs one of: " + " or ".join(dict.fromkeys(_reason(e) for e in error.context))
    return error.message


def reference_errors(data: dict[str, Any], path: Path) -> list[str]:
    """Cross-reference pass: SOP steps, ISO ids, remediation role and tag must exist."""
    problems = []
    for cid, control in data["controls"].items():
        where = f"{path}: control {cid}"
        for step in control["sop_steps"]:
            problems += _ref_problem("sop", step, f"{where}: at 'sop_steps'")
        for iso in control["iso"]:
            problems += _ref_problem("iso", iso, f"{where}: at 'iso'")
        problems += _remediation_problems(cid, control["remediation"], where)
    return problems


def _ref_problem(kind: str, ref: str, where: str) -> list[str]:
    try:
        refs.check_reference(kind, ref, where)
    except PolicyError as exc:
        return [str(exc)]
    return []


def _remediation_problems(cid: str, remediation: dict[str, str], where: str) -> list[str]:
    role_dir = ROLES / remediation["role"]
    if not (role_dir / "tasks" / "main.yml").is_file():
        return [f"{where}: at 'remediation.role': role {remediation['role']!r} not found under {ROLES}"]
    if remediation["tag"] not in role_tags(role_dir):
        return [
            f"{where}: at 'remediation.tag': no task in role {remediation['role']!r} is tagged "
            f"{remediation['tag']!r}"
        ]
    return []


@cache
def role_tags(role_dir: Path) -> frozenset[str]:
    """Every tag used in the role's task files (a literal scan; tags are plain lists in our roles)."""
    tags: set[str] = set()
    for task_file in (role_dir / "tasks").glob("*.yml"):
        _collect_tags(yaml.safe_load(task_file.read_text()) or [], tags)
    return frozenset(tags)


def _collect_tags(node: Any, tags: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect_tags(item, tags)
    elif isinstance(node, dict):
        value = node.get("tags")
        if isinstance(value, str):
            tags.add(value)
        elif isinstance(value, list):
            tags.update(str(v) for v in value)
        for key in ("block", "rescue", "always"):
            _collect_tags(node.get(key), tags)


def load_catalogue(path: Path | str = DEFAULT_CATALOGUE) -> Catalogue:
    """Load and fully validate the catalogue; raise one PolicyError listing every problem."""
    path = Path(path)
    data = read_yaml(path)
    problems = schema_errors(data, "controls", path)
    if not problems:
        problems = reference_errors(data, path)
    if problems:
        raise PolicyError(
            f"{path}: {len(problems)} problem(s) in the control catalogue:\n  " + "\n  ".join(problems)
        )
    catalogue = Catalogue(path)
    for cid, raw in data["controls"].items():
        catalogue.controls[cid] = Control(
            id=cid,
            title=raw["title"],
            sop_steps=tuple(raw["sop_steps"]),
            iso=tuple(raw["iso"]),
            severity=raw["severity"],
            applies_to=tuple(raw["applies_to"]),
            parameters=raw["parameters"],
            method=raw["check"]["method"],
            remediation_role=raw["remediation"]["role"],
            remediation_tag=raw["remediation"]["tag"],
            limitation=raw.get("limitation"),
            description=raw.get("description"),
        )
    return catalogue
