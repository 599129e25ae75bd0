"""SOP step ids and ISO/IEC 27001:2022 Annex A ids: the vocabulary of task tags, records and reports.

Tag convention (see docs/tagging.md): an SOP step is tagged with its id (``sop4.2``, ``upd2.1``, ``pti.D.7``),
an Annex A control with ``iso`` + its id (``iso8.13``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from runner.errors import PolicyError
from runner.paths import POLICIES
from runner.policy.load import read_yaml

ISO_TAG = re.compile(r"^iso(\d\.\d{1,2})$")


@dataclass(frozen=True)
class SopStep:
    id: str
    sop: str
    sop_title: str
    en: str
    id_short: str | None  # the Indonesian short form, where the source gives one


def _load(path: Path) -> dict:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    return data


@cache
def sop_steps(path: Path = POLICIES / "sops.yml") -> dict[str, SopStep]:
    steps: dict[str, SopStep] = {}
    for sop_id, sop in _load(path).get("sops", {}).items():
        for step_id, step in sop["steps"].items():
            steps[step_id] = SopStep(step_id, sop_id, sop["title"], step["en"], step.get("id"))
    return steps


@cache
def iso_controls(path: Path = POLICIES / "iso27001_2022.yml") -> dict[str, str]:
    return {str(k): v for k, v in _load(path)["annex_a"].items()}


def classify_tags(tags: list[str] | tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Split task tags into (SOP step ids, ISO control ids); other tags are ignored."""
    steps = sop_steps()
    sop = [t for t in tags if t in steps]
    iso = [m.group(1) for t in tags if (m := ISO_TAG.match(t))]
    return sop, iso


def check_reference(kind: str, ref: str, where: str) -> None:
    """Raise PolicyError naming ``where`` if ``ref`` is not a known SOP step or Annex A control."""
    known = sop_steps() if kind == "sop" else iso_controls()
    if ref not in known:
        raise PolicyError(f"{where}: unknown {'SOP step' if kind == 'sop' else 'ISO/IEC 27001:2022 control'} "
                          f"{ref!r}")
