"""Remove secrets from device configurations before they are stored, per vendor family.

The rules are data (``masking_rules.yml`` beside this module): per family, the statements of the vendor's
syntax that carry a secret. Every rule keeps the line (so a reviewer sees that a secret is configured and the
diff shows when one is added or removed) and replaces only the value with ``<removed>``, keeping the encryption
type and what follows. Known credential values from the inventory are removed wherever they appear, as a second
line of defence (the store's leak scan, ``leakscan.py``, is the third).

A device type no family covers has no rules: :func:`choose` says so and the backup refuses to store it, unless
the inventory opts in with ``network_mask_family`` (``generic``, or a named family), which stores it with a
warning.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MASK = "<removed>"
GENERIC = "generic"
RULES_FILE = Path(__file__).with_name("masking_rules.yml")
_FLAGS = re.I | re.M
_TRANSPORT_SUFFIX = re.compile(r"_(?:ssh|telnet|serial)$")


@dataclass(frozen=True)
class Rule:
    id: str
    pattern: re.Pattern[str]
    within: re.Pattern[str] | None = None
    text: bool = False  # applied to the whole text (spans lines) instead of line by line
    shared: bool = False  # one of the rules every family has (PEM private keys, URL credentials)


@dataclass(frozen=True)
class Family:
    name: str
    title: str
    device_types: tuple[str, ...]
    sources: tuple[str, ...]
    rules: tuple[Rule, ...]
    context: str = "indent"  # how a line's enclosing block is found: indent | slash (RouterOS /sections)
    unwrap: re.Pattern[str] | None = None  # continuation marks joined before masking


@dataclass(frozen=True)
class Choice:
    """The family a device's configuration is masked with (None: no rules, do not store) and why it warns."""

    family: str | None
    warning: str | None = None


class UnmaskedError(ValueError):
    """A configuration was to be masked for a device type no family covers (and none was chosen)."""


def _expand(expression: str, macros: Mapping[str, str]) -> str:
    for name, body in macros.items():
        expression = expression.replace("{" + name + "}", body)
    return expression


def _rule(spec: Mapping[str, Any], macros: Mapping[str, str], where: str) -> Rule:
    """One rule of the data file, compiled; ``where`` (a family name or "shared") names it in errors."""
    source = spec.get("text") or spec.get("match")
    if not source:
        raise ValueError(f"{RULES_FILE.name}: {where} rule {spec.get('id')!r} has neither match nor text")
    pattern = re.compile(_expand(str(source), macros), _FLAGS)
    if "v" not in pattern.groupindex:
        raise ValueError(f"{RULES_FILE.name}: {where} rule {spec.get('id')!r} has no (?P<v>...) group")
    within = re.compile(_expand(str(spec["within"]), macros), _FLAGS) if spec.get("within") else None
    return Rule(str(spec["id"]), pattern, within, text=bool(spec.get("text")), shared=where == "shared")


@functools.cache
def families() -> dict[str, Family]:
    """Every family of ``masking_rules.yml`` (read once), the shared rules first in each."""
    data = yaml.safe_load(RULES_FILE.read_text())
    macros = data.get("macros", {})
    shared = tuple(_rule(spec, macros, "shared") for spec in data.get("shared", []))
    loaded = {}
    for name, spec in data["families"].items():
        unwrap = re.compile(spec["unwrap"]) if spec.get("unwrap") else None
        rules = shared + tuple(_rule(rule, macros, name) for rule in spec["rules"])
        loaded[name] = Family(name, spec["title"], tuple(spec.get("device_types", [])),
                              tuple(spec.get("sources", [])), rules, spec.get("context", "indent"), unwrap)
    return loaded


def family_names() -> tuple[str, ...]:
    """The values ``network_mask_family`` accepts."""
    return tuple(sorted(families()))


def family(device_type: str) -> str | None:
    """The family whose rules were written for this netmiko device type; None when no family covers it."""
    base = _TRANSPORT_SUFFIX.sub("", device_type.lower())
    return next((f.name for f in families().values() if base in f.device_types), None)


def choose(device: str, device_type: str, override: str | None = None) -> Choice:
    """The family to mask ``device`` with: its device type's, or the one the inventory set (with a warning)."""
    native = family(device_type)
    if override is None or override == native:
        return Choice(native)
    if override == GENERIC:
        why = "the generic rules (network_mask_family: generic), which may miss vendor-specific secret statements"
    else:
        why = f"the {override} rules (network_mask_family: {override}), written for other device types"
    fix = (f"unset it to use the {native} rules written for {device_type}" if native else
           f"add a masking family for {device_type} in runner/network/masking_rules.yml")
    return Choice(override, f"{device} ({device_type}): configuration stored masked with {why}; {fix}")


def unmasked_message(device: str, device_type: str) -> str:
    """Why a device of an unknown vendor was not stored, and how to fix it (one line)."""
    return (f"{device}: netmiko device type {device_type!r} has no secret-masking rules, so its configuration "
            f"was not stored; add a family for it in runner/network/masking_rules.yml, or set "
            f"network_mask_family: generic (or a known family: {', '.join(n for n in family_names() if n != GENERIC)})"
            f" on the host to store it masked by those rules")


def _contexts(lines: Sequence[str], mode: str) -> list[str]:
    """For each line, the headers of the blocks it is in (newline-joined), for the ``within`` rules."""
    out: list[str] = []
    if mode == "slash":  # RouterOS: the last `/section` line; a `/section add ...` line is its own context
        section = ""
        for line in lines:
            if line.startswith("/"):
                section = line
            out.append(section)
        return out
    stack: list[tuple[int, str]] = []
    for line in lines:
        if not line.strip():
            out.append("\n".join(text for _, text in stack))
            continue
        indent = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        out.append("\n".join(text for _, text in stack))
        stack.append((indent, line))
    return out


def _masker(match: re.Match[str]) -> str:
    whole, start = match.group(0), match.start()
    value = match.group("v")
    if value.strip("\"'") == MASK:
        return whole
    return whole[:match.start("v") - start] + MASK + whole[match.end("v") - start:]


def _mask_lines(text: str, rules: Sequence[Rule], context: str) -> str:
    lines = text.split("\n")
    contexts = _contexts(lines, context) if any(r.within for r in rules) else [""] * len(lines)
    masked = []
    for line, where in zip(lines, contexts, strict=True):
        text = line
        for rule in rules:
            if rule.within is None or rule.within.search(where) or rule.within.search(line):
                text = rule.pattern.sub(_masker, text)
        masked.append(text)
    return "\n".join(masked)


def mask_with(text: str, rules_of: Family, known_secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret statement of ``rules_of`` (and every known value) replaced."""
    if rules_of.unwrap is not None:
        text = rules_of.unwrap.sub("", text)
    for rule in rules_of.rules:
        if rule.text and rule.within is not None:  # a text rule's `within` is the region it applies in
            text = rule.within.sub(lambda region, rule=rule: rule.pattern.sub(_masker, region.group(0)), text)
        elif rule.text:
            text = rule.pattern.sub(_masker, text)
    masked = _mask_lines(text, [r for r in rules_of.rules if not r.text], rules_of.context)
    for secret in sorted((s for s in known_secrets if s and len(s) >= 4), key=len, reverse=True):
        masked = masked.replace(secret, MASK)
    return masked


def mask_config(text: str, device_type: str, known_secrets: Iterable[str] = (),
                family_name: str | None = None) -> str:
    """Return ``text`` with every secret of the vendor's syntax (and every known value) replaced.

    ``family_name`` overrides the device type's family; with neither, :class:`UnmaskedError` is raised (a
    configuration is never masked with another vendor's rules by accident).
    """
    name = family_name or family(device_type)
    if name is None:
        raise UnmaskedError(f"netmiko device type {device_type!r} has no secret-masking family")
    return mask_with(text, families()[name], known_secrets)
