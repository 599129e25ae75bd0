"""One function per section of the monthly report, each from the month's sealed evidence (``sources``).

A section without a source says so (``{"data": False, "why": ...}``), never zero. Every figure carries the run
ids (or document paths) it came from, so an auditor can follow it to the evidence.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runner.check.report import scores
from runner.monthly.period import Month
from runner.monthly.sources import MonthEvidence
from runner.report.model import evidence_level

PROBLEM_STATUSES = ("failed", "refused", "unreachable", "aborted", "error")
COUNTED_LEVELS = ("performed", "verified")  # "configured" evidence never counts in monthly figures


def no_data(why: str) -> dict[str, Any]:
    return {"data": False, "why": why}


def playbook(record: dict[str, Any]) -> str:
    return Path((record.get("playbook") or {}).get("path") or "?").name


def results(record: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(task, result) of every task result in the record."""
    for play in record.get("plays") or []:
        for task in play.get("tasks") or []:
            for result in task.get("results") or []:
                yield task, result


def evidence_of(record: dict[str, Any], *keys: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(result, evidence) where the evidence has all ``keys`` (or ``kind`` equal to the one key given as
    ``kind=...``)."""
    for _, result in results(record):
        evidence = result.get("evidence")
        if not isinstance(evidence, dict):
            continue
        if all((evidence.get("kind") == k[5:]) if k.startswith("kind=") else k in evidence for k in keys):
            yield result, evidence


# ---- SOP steps evidenced ----------------------------------------------------------------------------------------
def sop_steps(ev: MonthEvidence, steps: dict[str, Any]) -> list[dict[str, Any]]:
    """Per SOP step: the runs that performed or verified it this month (configured-only evidence is listed as such
    and not counted)."""
    found: dict[str, dict[str, Any]] = {}
    for record in ev.runs:
        if record.get("check"):
            continue  # a dry run performs nothing
        for task, result in results(record):
            if result.get("status") != "ok":
                continue
            level = evidence_level(task.get("tags") or [])
            for step in task.get("sop_steps") or []:
                entry = found.setdefault(step, {"step": step, "runs": {}, "configured_runs": set()})
                if level in COUNTED_LEVELS:
                    best = entry["runs"].get(record["run_id"])
                    if best is None or COUNTED_LEVELS.index(level) > COUNTED_LEVELS.index(best):
                        entry["runs"][record["run_id"]] = level
                else:
                    entry["configured_runs"].add(record["run_id"])
    rows = []
    for step, entry in sorted(found.items()):
        info = steps.get(step)
        levels = Counter(entry["runs"].values())
        rows.append({"step": step, "text": info.en if info else "", "sop": info.sop if info else step.split(".")[0],
                     "runs": sorted(entry["runs"]), "performed": levels["performed"], "verified": levels["verified"],
                     "configured_only": sorted(entry["configured_runs"] - set(entry["runs"]))})
    return rows


# ---- support requests (SOP 1, GEN-001) ----------------------------------------------------------------------------
def support(tickets: dict[str, Any] | None) -> dict[str, Any]:
    """From an SLA evaluation of the month's tickets (``runner.sla``), or no data without an export."""
    if tickets is None:
        return no_data("no ticket export given (sop report monthly --tickets EXPORT)")
    per_priority = [{"priority": prio, **stats} for prio, stats in tickets["per_priority"].items()]
    breaches = [t for t in tickets["tickets"] if "breached" in (t["response"]["verdict"], t["resolution"]["verdict"])]
    return {"data": True, "export": tickets["export"], "export_sha256": tickets["export_sha256"],
            "source": tickets["source"], "scheme": tickets["scheme"]["name"], "counts": tickets["counts"],
            "per_priority": per_priority,
            "breaches": [{"ticket": t["id"], "where": t["where"], "priority": t["priority"],
                          "response": t["response"], "resolution": t["resolution"]} for t in breaches],
            "malformed": tickets["malformed"]}


# ---- device status (SOP 2) ------------------------------------------------------------------------------------------
def devices(register: Any | None, month: Month, certificates: list[dict[str, Any]]) -> dict[str, Any]:
    """The asset register by status, maintenance done and overdue, handovers and returns, sanitizations."""
    if register is None:
        return no_data("no asset register (sop assets import / provision.yml create it)")
    assets = register.list()
    last_day = (month.end - dt.timedelta(days=1)).date()
    utc = "%Y-%m-%dT%H:%M:%SZ"  # the register's own timestamp format, so strings compare as times
    events = register.history_between(month.start.astimezone(dt.UTC).strftime(utc),
                                      month.end.astimezone(dt.UTC).strftime(utc))
    by_action: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        by_action[event["action"]].append({"tag": event["asset_tag"], "ts": event["ts"], "actor": event["actor"],
                                           "run_id": event["run_id"] or None})
    return {"data": True, "total": len(assets),
            "by_status": dict(sorted(Counter(a.status for a in assets).items())),
            "overdue": [{"tag": a.tag, "due": a.next_maintenance_due, "assignee": a.assignee_name}
                        for a in register.due(last_day)],
            "maintained": by_action["maintain"], "handovers": by_action["assign"], "returns": by_action["return"],
            "sanitized": [{"tag": c["asset"]["tag"], "certificate": c["certificate_id"],
                           "result": (c.get("verification") or {}).get("result"), "method": c["sanitization"]["method"],
                           "path": c["_path"], "run_id": c.get("run_id")} for c in certificates]}


# ---- security baseline (SOP 5) ------------------------------------------------------------------------------------
def _latest_per_host(checks: list[dict[str, Any]]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """host -> (its newest check document, that check's score for it)."""
    latest: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for doc in sorted(checks, key=lambda d: str(d.get("started"))):
        for host, score in scores(doc).items():
            latest[host] = (doc, score)
    return latest


def security(ev: MonthEvidence) -> dict[str, Any]:
    if not ev.checks:
        return no_data("no security baseline check this month (sop check)")
    latest, before = _latest_per_host(ev.checks), _latest_per_host(ev.previous_checks)
    hosts = []
    for host, (doc, score) in sorted(latest.items()):
        previous = before.get(host, (None, {}))[1].get("score_pct")
        trend = None if previous is None or score["score_pct"] is None else round(score["score_pct"] - previous, 1)
        hosts.append({"host": host, **score, "previous_pct": previous, "trend": trend, "check": doc["check_id"],
                      "run_id": (doc.get("collection_run") or {}).get("run_id")})
    failing: dict[str, dict[str, Any]] = {}
    expired = []
    for host, (doc, _) in latest.items():
        for row in doc["results"]:
            if row["host"] != host:
                continue
            if row["status"] in ("fail", "error"):
                entry = failing.setdefault(row["control"], {"control": row["control"], "title": row["title"],
                                                            "severity": row.get("severity"), "hosts": [], "checks": []})
                entry["hosts"].append(host)
                entry["checks"].append(doc["check_id"])
            if row.get("waiver_expired"):
                expired.append({"host": host, "control": row["control"], "expired": row["waiver_expired"],
                                "check": doc["check_id"]})
    controls = sorted(failing.values(), key=lambda c: (-len(c["hosts"]), c["control"]))
    return {"data": True, "checks": sorted(d["check_id"] for d in ev.checks), "hosts": hosts,
            "failed_controls": [{**c, "checks": sorted(set(c["checks"]))} for c in controls],
            "expired_waivers": sorted(expired, key=lambda e: (e["host"], e["control"]))}


# ---- backups (SOP 4) ---------------------------------------------------------------------------------------------
def backups(ev: MonthEvidence) -> dict[str, Any]:
    per: dict[tuple[str, str], dict[str, Any]] = {}
    verifications, restores, failures = [], [], []
    for record in (r for r in ev.runs if not r.get("check")):
        run_id = record["run_id"]
        for result, evidence in evidence_of(record, "repositories", "hooks"):
            host = evidence.get("host") or result["host"]
            for repo in evidence.get("repositories") or []:
                entry = per.setdefault((host, repo.get("repository", "?")), {
                    "host": host, "repository": repo.get("repository", "?"), "ok": 0, "failed": 0,
                    "last_good": None, "runs": []})
                entry["runs"].append(run_id)
                if repo.get("status") == "ok":
                    entry["ok"] += 1
                    entry["last_good"] = {"snapshot": repo.get("snapshot_id"), "at": evidence.get("finished"),
                                          "run_id": run_id}
                else:
                    entry["failed"] += 1
                    failures.append({"host": host, "repository": entry["repository"], "run_id": run_id,
                                     "error": repo.get("error") or result.get("msg")})
        for result, evidence in evidence_of(record, "verdict", "repositories"):
            for repo in evidence.get("repositories") or []:
                verifications.append({"host": evidence.get("host") or result["host"],
                                      "repository": repo.get("repository"), "verdict": repo.get("verdict"),
                                      "at": evidence.get("finished"), "run_id": run_id})
        for result, evidence in evidence_of(record, "sla_hours"):
            restores.append({"host": evidence.get("host") or result["host"], "change_ref": evidence.get("change_ref"),
                             "hours": evidence.get("hours_since_request"), "sla_hours": evidence.get("sla_hours"),
                             "sla_met": evidence.get("sla_met"),
                             "verified": (evidence.get("verification") or {}).get("passed"),
                             "status": result["status"], "run_id": run_id})
    if not (per or verifications or restores):
        return no_data("no backup, verification or restore run this month")
    return {"data": True, "repositories": sorted(per.values(), key=lambda e: (e["host"], e["repository"])),
            "verifications": verifications, "restores": restores, "failures": failures}


# ---- patching (install/update SOP, SOP 5.3) -------------------------------------------------------------------
def _host_patch_state(ev: MonthEvidence) -> dict[str, dict[str, Any]]:
    """host -> its newest plan of the month, and whether a successful apply came after it."""
    state: dict[str, dict[str, Any]] = {}
    for record in sorted((r for r in ev.runs if not r.get("check")), key=lambda r: str(r.get("started"))):
        for result, evidence in evidence_of(record, "kind=patch_plan"):
            state[result["host"]] = {"host": result["host"], "pending": len(evidence.get("pending") or []),
                                     "security": len(evidence.get("security") or []), "run_id": record["run_id"],
                                     "applied": False}
        for result, _ in evidence_of(record, "kind=patch_apply"):
            if result["status"] == "ok" and result["host"] in state:
                state[result["host"]]["applied"] = True
                state[result["host"]]["applied_run"] = record["run_id"]
    return state


def patches(ev: MonthEvidence) -> dict[str, Any]:
    state = _host_patch_state(ev)
    if not ev.changes and not state:
        return no_data("no patch or installation run this month (playbooks/patch.yml)")
    changes = [{"change_ref": c["change_ref"], "outcome": c["outcome"], "path": c["_path"],
                "outcome_messages": c.get("outcome_messages") or [],
                "runs": [r["run_id"] for r in c["runs"]],
                "hosts_changed": sorted({p["host"] for p in c.get("package_changes") or []}),
                "rolled_back": c["evaluation"]["rolled_back"], "follow_ups": c["evaluation"]["follow_ups"]}
               for c in ev.changes]
    return {"data": True, "changes": changes,
            "patched": sorted(h for h, s in state.items() if s["applied"]),
            "pending": sorted(({k: v for k, v in s.items() if k != "applied"} for s in state.values()
                               if s["pending"] and not s["applied"]), key=lambda s: s["host"]),
            "rolled_back": sorted({h for c in changes for h in c["rolled_back"]})}


# ---- network (SOP 3) -------------------------------------------------------------------------------------------
def network(ev: MonthEvidence) -> dict[str, Any]:
    config_backups, days = [], {}
    for record in sorted(ev.runs, key=lambda r: str(r.get("started"))):
        for _, evidence in evidence_of(record, "devices", "commit"):
            devices = evidence.get("devices") or {}
            config_backups.append({"run_id": record["run_id"], "day": ev.month.day(record.get("started")),
                                   "devices": len(devices), "failed": list(evidence.get("failed") or []),
                                   "changed": list(evidence.get("changed") or []), "status": evidence.get("status")})
        for _, evidence in evidence_of(record, "probes", "diagnosis"):
            day = ev.month.day(evidence.get("checked") or record.get("started"))
            diagnosis = evidence.get("diagnosis") or {}
            days[day] = {"day": day, "status": evidence.get("status"), "summary": diagnosis.get("summary"),
                         "root_causes": diagnosis.get("root_causes") or [], "run_id": record["run_id"]}
    if not (config_backups or days):
        return no_data("no network backup or morning check this month")
    return {"data": True, "config_backups": config_backups, "drifted": sorted({d for b in config_backups
                                                                             for d in b["changed"]}),
            "checks": [days[d] for d in sorted(days)]}


# ---- security incidents (SOP 5, SOP 6.2) -------------------------------------------------------------------------
def _why(record: dict[str, Any]) -> str:
    for refusal in record.get("refusals") or []:
        return f"refused: {refusal.get('msg')}"
    for task, result in results(record):
        if result.get("status") in ("failed", "unreachable") and not result.get("ignored"):
            return f"{task.get('name')}: {result.get('reason') or result.get('msg') or result.get('status')}"
    return str(record.get("error") or record.get("abort_reason") or record.get("status"))


def incidents(ev: MonthEvidence, backup: dict[str, Any], net: dict[str, Any]) -> dict[str, Any]:
    runs = [{"run_id": r["run_id"], "playbook": playbook(r), "status": r.get("status"),
             "started": r.get("started"), "why": _why(r)}
            for r in ev.runs if r.get("status") in PROBLEM_STATUSES]
    tamper = ev.ledger.problems + [f"{u}: does not match the signed ledger" for u in ev.unsealed]
    return {"data": True, "tamper": tamper,
            "runs": runs, "backup_failures": backup.get("failures") or [],
            "network_faults": [c for c in net.get("checks") or [] if c["status"] == "fault"]}


# ---- the month at a glance --------------------------------------------------------------------------------------
def activity(ev: MonthEvidence) -> dict[str, Any]:
    """Runs per day and status, per playbook: what the charts show."""
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    per_playbook: dict[str, Counter[str]] = defaultdict(Counter)
    for record in ev.runs:
        status = str(record.get("status"))
        per_day[ev.month.day(record.get("started")) or "?"][status] += 1
        per_playbook[playbook(record)][status] += 1
    return {"runs": len(ev.runs), "per_day": {d: dict(c) for d, c in sorted(per_day.items())},
            "per_playbook": {p: dict(c) for p, c in sorted(per_playbook.items())}}

