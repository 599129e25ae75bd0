"""policies/assets.yml: maintenance cadence per group and the sanitization method per media type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runner.errors import PolicyError, RefusedError
from runner.paths import POLICIES
from runner.policy.load import read_validated

DEFAULT_PATH = POLICIES / "assets.yml"
SCHEMA = Path(__file__).resolve().parent.parent / "policy" / "schema" / "assets.schema.json"
CLEAR_TECHNIQUES = frozenset({"overwrite"})  # what this project's tool performs (sop.core.sop_sanitize)


def load_assets_policy(path: str | Path | None = None) -> dict[str, Any]:
    source = Path(path or DEFAULT_PATH)
    data = read_validated(source, json.loads(SCHEMA.read_text()), "asset policy")
    return data["assets"]


def cadence_days(policy: dict[str, Any], groups: list[str]) -> int:
    """Days to the next maintenance for a host in ``groups`` (first group listed in the policy wins)."""
    for group, days in policy["maintenance"]["cadence_days"].items():
        if group in groups:
            return int(days)
    return int(policy["maintenance"]["default_days"])


def sanitization_method(policy: dict[str, Any], media_type: str) -> dict[str, Any]:
    """The method the policy requires for ``media_type``; RefusedError when this tool cannot perform it."""
    media = policy["sanitization"]["media"]
    if media_type not in media:
        raise PolicyError(f"policies/assets.yml: no sanitization method for media type {media_type!r}")
    rule = media[media_type]
    if rule["method"] != "clear" or rule["technique"] not in CLEAR_TECHNIQUES:
        raise RefusedError(
            f"the policy requires {rule['method']} ({rule['technique']}) for {media_type} media: {rule['why']}; "
            "this tool performs Clear by overwrite only, so nothing was written",
            hint="sanitize with the drive's own command (nvme sanitize / hdparm --security-erase) and record it")
    return {"method": "Clear", "technique": "Overwrite (one pass, fixed value 0x00)", "media_type": media_type,
            "why": rule["why"], "standard": "NIST SP 800-88 Rev. 1 Appendix A (Rev. 2, Sept 2025, current; "
                                             "defers techniques to IEEE 2883)"}


JOB_ROLES_PATH = POLICIES / "job_roles.yml"
JOB_ROLES_SCHEMA = SCHEMA.with_name("job_roles.schema.json")


def load_job_roles(path: str | Path | None = None) -> dict[str, Any]:
    source = Path(path or JOB_ROLES_PATH)
    return read_validated(source, json.loads(JOB_ROLES_SCHEMA.read_text()), "job roles policy")["job_roles"]


def job_role(policy: dict[str, Any], name: str) -> dict[str, Any]:
    """A role with the defaults folded in (groups and software: the defaults' first, then the role's)."""
    roles = policy["roles"]
    if name not in roles:
        raise PolicyError(f"job role {name!r} is not in policies/job_roles.yml (known: {', '.join(sorted(roles))})")
    defaults, role = policy["defaults"], roles[name]

    def merged(key: str) -> list[str]:
        return list(dict.fromkeys([*defaults.get(key, []), *role.get(key, [])]))

    return {"name": name, "title": role["title"], "shell": defaults["shell"], "login": defaults["login"],
            "groups": list(role["groups"]), "directory_groups": merged("directory_groups"),
            "software": merged("software"), "access": list(role["access"]),
            "accessories": list(role.get("accessories", defaults.get("accessories", [])))}
