"""Judge one host: which controls apply, what the probe must collect, the verdict per control, waivers.

Pure functions over plain dicts so the same code runs in the controller-side action plugin (inside the
collection play, so verdicts land in the run record) and in unit tests with fake facts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from runner.check.methods import METHODS, Finding

STATUSES = ("pass", "fail", "error", "waived", "not_applicable")


def applies(control: dict[str, Any], groups: list[str]) -> bool:
    return "all" in control["applies_to"] or bool(set(control["applies_to"]) & set(groups))


def probe_request(controls: list[dict[str, Any]]) -> dict[str, Any]:
    """Union of what the given controls need probed (the probe module's arguments)."""
    merged: dict[str, Any] = {"apt": False}
    for control in controls:
        for key, value in METHODS[control["method"]].request(control["parameters"]).items():
            if isinstance(value, bool):
                merged[key] = merged.get(key, False) or value
            else:
                merged.setdefault(key, [])
                merged[key] += [v for v in value if v not in merged[key]]
    return merged


def judge(control: dict[str, Any], facts: dict[str, Any]) -> Finding:
    try:
        return METHODS[control["method"]].evaluate(control["parameters"], facts)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        return Finding("error", f"evidence incomplete for {control['method']}: {type(exc).__name__}: {exc}")


def evaluate_host(
    host: str,
    groups: list[str],
    controls: list[dict[str, Any]],
    facts: dict[str, Any] | None,
    *,
    waivers: list[dict[str, Any]],
    today: dt.date,
    probe_error: str | None = None,
) -> list[dict[str, Any]]:
    """One result per control: pass/fail/error/waived/not_applicable, with seen/required evidence."""
    results = []
    for control in controls:
        base = {
            "host": host,
            "control": control["id"],
            "title": control["title"],
            "severity": control["severity"],
            "sop_steps": control["sop_steps"],
            "iso": control["iso"],
            "remediation": control["remediation"],
        }
        if not applies(control, groups):
            results.append(
                {
                    **base,
                    "status": "not_applicable",
                    "seen": {},
                    "required": {},
                    "message": f"applies to {', '.join(control['applies_to'])}; host is in "
                    f"{', '.join(sorted(groups)) or 'no group'}",
                }
            )
            continue
        finding = Finding("error", probe_error) if facts is None else judge(control, facts)
        result = {
            **base,
            "status": finding.status,
            "message": finding.message or "no evidence",
            "seen": finding.seen,
            "required": finding.required,
        }
        results.append(apply_waivers(result, groups, waivers, today))
    return results


def apply_waivers(
    result: dict[str, Any], groups: list[str], waivers: list[dict[str, Any]], today: dt.date
) -> dict[str, Any]:
    """A failed/errored control covered by a live waiver becomes `waived`; expired waivers are named."""
    if result["status"] not in ("fail", "error"):
        return result
    covering = [
        w
        for w in waivers
        if w["control"] == result["control"]
        and (
            result["host"] in w.get("hosts", [])
            or "all" in w.get("groups", [])
            or set(w.get("groups", [])) & set(groups)
        )
    ]
    live = [w for w in covering if dt.date.fromisoformat(w["expires"]) >= today]
    expired = [w for w in covering if w not in live]
    if live:
        waiver = live[0]
        return {
            **result,
            "status": "waived",
            "underlying_status": result["status"],
            "waiver": {
                k: waiver.get(k) for k in ("justification", "approver", "expires", "source", "ticket")
            },
            "message": f"waived until {waiver['expires']} by {waiver['approver']}: {result['message']}",
        }
    if expired:
        newest = max(expired, key=lambda w: w["expires"])
        return {
            **result,
            "waiver_expired": newest["expires"],
            "message": f"{result['message']} (waiver expired on {newest['expires']}, "
            f"approver {newest['approver']})",
        }
    return result
