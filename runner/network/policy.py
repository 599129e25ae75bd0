"""``policies/network/``: golden-config fragments per device role and the probe kinds of the morning check.

Both files are validated against a schema at load; every problem is reported at once with its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.errors import PolicyError
from runner.paths import POLICIES
from runner.policy import load

GOLDEN_PATH = POLICIES / "network" / "golden.yml"
PROBES_PATH = POLICIES / "network" / "probes.yml"
DOMAINS = ["isp", "router", "switch", "user", "server", "dns", "vpn"]

_LINE = {"type": "string", "minLength": 1, "description": "one configuration line (regex if `regex: true`)"}
_FRAGMENT = {
    "type": "object", "additionalProperties": False, "required": ["id", "description"],
    "description": "One expected (or forbidden) piece of configuration.",
    "properties": {
        "id": {"type": "string", "pattern": r"^[a-z0-9_]+$", "description": "stable id", "examples": ["ntp"]},
        "description": {"type": "string", "minLength": 1, "examples": ["NTP servers configured"]},
        "vendors": {"type": "array", "items": {"type": "string"}, "uniqueItems": True,
                    "description": "vendor families it applies to (default all)", "examples": [["cisco"]]},
        "require": {"type": "array", "items": _LINE, "description": "lines that must be present",
                    "examples": [["ntp server 169.254.1.123"]]},
        "forbid": {"type": "array", "items": _LINE, "description": "lines that must be absent",
                   "examples": [["ip http server"]]},
        "regex": {"type": "boolean", "description": "treat lines as regular expressions",
                  "examples": [False]},
        "iso": {"type": "string", "pattern": r"^\d+\.\d+$", "description": "ISO/IEC 27001:2022 Annex A id",
                "examples": ["8.20"]},
    },
    "anyOf": [{"required": ["require"]}, {"required": ["forbid"]}],
}
GOLDEN_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["golden_config"],
    "properties": {"golden_config": {
        "type": "object", "additionalProperties": False, "required": ["fragments", "roles"],
        "properties": {
            "fragments": {"type": "array", "items": _FRAGMENT, "minItems": 1,
                          "description": "reusable fragments"},
            "roles": {"type": "object", "description": "device role (network_role host var) -> fragment ids",
                      "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                      "examples": [{"core_switch": ["ntp", "ssh_v2"]}]},
        },
    }},
}
_KIND = {
    "type": "object", "additionalProperties": False, "required": ["domain", "cause", "action"],
    "description": "How a failure of this probe kind is read (fault domain, cause, recommended action).",
    "properties": {
        "domain": {"enum": DOMAINS, "description": "where the fault is localised", "examples": ["isp"]},
        "description": {"type": "string", "examples": ["ISP edge router (CPE)"]},
        "cause": {"type": "string", "minLength": 1, "description": "{name}/{target} are filled in",
                  "examples": ["{name} does not answer while the LAN gateway does"]},
        "action": {"type": "string", "minLength": 1, "examples": ["call the ISP with the circuit id"]},
        "latency_warn_ms": {"type": "number", "exclusiveMinimum": 0, "examples": [50]},
    },
}
PROBES_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["network_check"],
    "properties": {"network_check": {
        "type": "object", "additionalProperties": False, "required": ["kinds", "defaults"],
        "properties": {
            "defaults": {
                "type": "object", "additionalProperties": False,
                "description": "probe settings unless a probe sets its own",
                "properties": {
                    "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 30, "examples": [2]},
                    "attempts": {"type": "integer", "minimum": 1, "maximum": 5, "examples": [2]},
                    "latency_warn_ms": {"type": "number", "exclusiveMinimum": 0, "examples": [100]},
                },
            },
            "kinds": {"type": "object", "additionalProperties": _KIND, "minProperties": 1},
            "server_health": {
                "type": "object", "additionalProperties": False,
                "description": "daily server monitoring thresholds (sop3.4)",
                "properties": {
                    "disk_warn_pct": {"type": "number", "minimum": 1, "maximum": 100, "examples": [85]},
                    "mem_warn_pct": {"type": "number", "minimum": 1, "maximum": 100, "examples": [90]},
                    "load_warn_per_cpu": {"type": "number", "exclusiveMinimum": 0, "examples": [2.0]},
                    "cert_warn_days": {"type": "integer", "minimum": 0, "examples": [30]},
                },
            },
        },
    }},
}
PROBE_SCHEMA: dict[str, Any] = {
    "type": "array", "description": "network_check_probes (inventory): the estate's probe targets",
    "items": {
        "type": "object", "additionalProperties": False, "required": ["name", "kind", "port"],
        "properties": {
            "name": {"type": "string", "minLength": 1}, "kind": {"type": "string"},
            "type": {"enum": ["tcp", "ssh", "dns"]}, "host": {"type": "string"},
            "port": {"type": ["integer", "string"]}, "expect": {"type": "string"},
            "query": {"type": "string"},
            "depends_on": {"type": "array", "items": {"type": "string"}},
            "timeout_s": {"type": "number"}, "attempts": {"type": "integer"},
            "latency_warn_ms": {"type": "number"},
        },
    },
}


def validate(data: Any, schema: dict[str, Any], source: str) -> None:
    load.validate(data, schema, source, "network policy")


def load_golden(path: Path | str = GOLDEN_PATH) -> dict[str, Any]:
    data = load.read_validated(path, GOLDEN_SCHEMA, "network policy")
    golden = data["golden_config"]
    known = {f["id"] for f in golden["fragments"]}
    unknown = [f"roles.{role}: unknown fragment {fid!r}" for role, ids in golden["roles"].items()
               for fid in ids if fid not in known]
    if unknown:
        raise PolicyError(f"{path}: invalid network policy: " + "; ".join(unknown))
    return golden


def load_check_policy(path: Path | str = PROBES_PATH) -> dict[str, Any]:
    data = load.read_validated(path, PROBES_SCHEMA, "network policy")
    return data["network_check"]


def validate_probes(probes: Any, kinds: dict[str, Any], source: str = "network_check_probes") -> None:
    validate(probes, PROBE_SCHEMA, source)
    names = {p["name"] for p in probes}
    problems = [f"{p['name']}: unknown kind {p['kind']!r}" for p in probes if p["kind"] not in kinds]
    problems += [f"{p['name']}: depends on unknown probe {d!r}" for p in probes
                 for d in p.get("depends_on", []) if d not in names]
    if problems:
        raise PolicyError(f"{source}: invalid probes: " + "; ".join(problems))
