"""Waivers: accepted exceptions to baseline controls, with a justification, an approver and an expiry date.

A waiver applies to a host when the host is named in ``hosts`` or is a member of one of ``groups``, and only
until the end of its ``expires`` day (UTC). An expired waiver never applies; reports say when it expired.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runner.errors import PolicyError
from runner.paths import POLICIES
from runner.policy.catalogue import schema_errors
from runner.policy.load import read_yaml

DEFAULT_WAIVERS = POLICIES / "waivers.yml"


@dataclass(frozen=True)
class Waiver:
    control: str
    hosts: tuple[str, ...]
    groups: tuple[str, ...]
    justification: str
    approver: str
    expires: dt.date
    source: str
    ticket: str | None = None

    def covers(self, host: str, groups: list[str] | tuple[str, ...]) -> bool:
        return host in self.hosts or "all" in self.groups or bool(set(self.groups) & set(groups))

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["expires"] = self.expires.isoformat()
        data["hosts"], data["groups"] = list(self.hosts), list(self.groups)
        return data


def load_waivers(paths: list[Path], known_controls: set[str] | None = None) -> list[Waiver]:
    """Load waiver files; every schema problem and unknown control id is reported at once."""
    waivers: list[Waiver] = []
    problems: list[str] = []
    for path in paths:
        data = read_yaml(path)
        if data is None:
            continue
        found = schema_errors(data, "waivers", path, id_key="waivers")
        if found:
            problems += found
            continue
        for index, raw in enumerate(data["waivers"]):
            if known_controls is not None and raw["control"] not in known_controls:
                problems.append(
                    f"{path}: waiver #{index + 1} ({raw['control']}): at 'waivers[{index}].control': "
                    f"unknown control {raw['control']!r}"
                )
                continue
            waivers.append(
                Waiver(
                    control=raw["control"],
                    hosts=tuple(raw.get("hosts", [])),
                    groups=tuple(raw.get("groups", [])),
                    justification=raw["justification"].strip(),
                    approver=raw["approver"],
                    expires=dt.date.fromisoformat(raw["expires"]),
                    source=str(path),
                    ticket=raw.get("ticket"),
                )
            )
    if problems:
        raise PolicyError(f"{len(problems)} problem(s) in waivers:\n  " + "\n  ".join(problems))
    return waivers


def default_waiver_files(inventory: Path | None) -> list[Path]:
    """policies/waivers.yml (organisation-wide) plus waivers.yml beside the inventory (estate-specific)."""
    files = [DEFAULT_WAIVERS] if DEFAULT_WAIVERS.is_file() else []
    if inventory is not None:
        beside = (inventory if inventory.is_dir() else inventory.parent) / "waivers.yml"
        if beside.is_file() and beside.resolve() not in {f.resolve() for f in files}:
            files.append(beside)
    return files
