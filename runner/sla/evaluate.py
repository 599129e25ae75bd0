"""Judging tickets against an SLA scheme: response and resolution time per ticket, compliance per priority.

Times are on the target's clock (wall or business), net of pauses. An open ticket is judged on the time it has
been open so far (``as_of``): already past its target is a breach, otherwise it is still ``open``. A ticket
whose export has no response column is ``not measurable`` for response, never a pass.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from runner.sla.calendar import measure
from runner.sla.exports import RowError, Ticket
from runner.sla.policy import Scheme, SlaPolicy, Target

# met | breached | open (not due yet, no end) | paused (clock stopped, no end) | not_measurable | no_target
Verdict = str


@dataclass
class Judgement:
    verdict: Verdict
    seconds: float | None = None  # elapsed on the target's clock (to the end, or to as_of while open)
    target_s: float | None = None
    margin_s: float | None = None  # target - elapsed: negative = breached by that much


@dataclass
class TicketResult:
    id: str
    where: str
    title: str
    priority: str  # in the evaluated scheme
    source_priority: str
    status: str
    clock: str
    response: Judgement
    resolution: Judgement
    auto_close_eligible: bool


def _judge(elapsed: float | None, target: float | None, ended: bool, status: str) -> Judgement:
    if target is None:
        return Judgement("no_target", elapsed)
    if elapsed is None:
        return Judgement("not_measurable", None, target)
    margin = target - elapsed
    if ended:
        return Judgement("met" if margin >= 0 else "breached", elapsed, target, margin)
    if margin < 0:
        return Judgement("breached", elapsed, target, margin)
    return Judgement("paused" if status == "paused" else "open", elapsed, target, margin)


def _elapsed(policy: SlaPolicy, clock: str, ticket: Ticket, end: dt.datetime, *, whole_life: bool = False) -> float:
    """Created -> ``end`` net of the pause intervals; a tool's total waiting time only over the whole life."""
    return measure(policy.calendar, clock, ticket.created, end, pauses=ticket.pauses,
                   paused_seconds=ticket.paused_seconds if whole_life else 0.0)


def _response(policy: SlaPolicy, target: Target, ticket: Ticket, as_of: dt.datetime) -> Judgement:
    if ticket.first_response is not None:
        return _judge(_elapsed(policy, target.clock, ticket, ticket.first_response), target.respond_s, True, "")
    if ticket.response_seconds is not None:  # measured by the ticket tool itself
        return _judge(ticket.response_seconds, target.respond_s, True, "")
    if not ticket.has_response_column:
        return _judge(None, target.respond_s, True, "")
    ended = ticket.status in ("solved", "closed")  # solved without a recorded response: measured to the solution
    end = ticket.solved or ticket.closed or as_of
    return _judge(_elapsed(policy, target.clock, ticket, end), target.respond_s, ended, ticket.status)


def _resolution(policy: SlaPolicy, target: Target, ticket: Ticket, as_of: dt.datetime) -> Judgement:
    end = ticket.solved or ticket.closed
    elapsed = _elapsed(policy, target.clock, ticket, end or as_of, whole_life=True)
    return _judge(elapsed, target.resolve_s, end is not None, ticket.status)


def _auto_close(policy: SlaPolicy, ticket: Ticket, as_of: dt.datetime) -> bool:
    """gen001.5.5: solved, not closed yet, no objection, and the auto-close period has passed."""
    if policy.auto_close_s is None or ticket.status != "solved" or ticket.solved is None or ticket.reopened:
        return False
    waited = measure(policy.calendar, policy.auto_close_clock, ticket.solved, as_of)
    return waited >= policy.auto_close_s


def judge_ticket(policy: SlaPolicy, scheme: Scheme, ticket: Ticket, priority: str,
                 as_of: dt.datetime) -> TicketResult:
    target = scheme.targets[priority]
    return TicketResult(ticket.id, ticket.where, ticket.title, priority, ticket.priority, ticket.status, target.clock,
                        _response(policy, target, ticket, as_of), _resolution(policy, target, ticket, as_of),
                        _auto_close(policy, ticket, as_of))


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (the value below which ``q`` of the observations fall)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _stats(judgements: Sequence[Judgement]) -> dict[str, Any]:
    judged = [j for j in judgements if j.verdict in ("met", "breached")]
    met = sum(1 for j in judged if j.verdict == "met")
    done = [j.seconds for j in judged if j.seconds is not None]
    return {"judged": len(judged), "met": met, "breached": len(judged) - met,
            "still_open": sum(1 for j in judgements if j.verdict in ("open", "paused")),
            "not_measurable": sum(1 for j in judgements if j.verdict == "not_measurable"),
            "compliance_pct": round(100.0 * met / len(judged), 1) if judged else None,
            "median_s": percentile(done, 0.5), "p90_s": percentile(done, 0.9)}


def summarize(results: Sequence[TicketResult], priorities: Sequence[str]) -> dict[str, Any]:
    out = {}
    for prio in priorities:
        mine = [r for r in results if r.priority == prio]
        out[prio] = {"tickets": len(mine), "response": _stats([r.response for r in mine]),
                     "resolution": _stats([r.resolution for r in mine]),
                     "auto_close_eligible": sum(1 for r in mine if r.auto_close_eligible)}
    return out


def evaluate(policy: SlaPolicy, scheme: Scheme, tickets: Sequence[Ticket], errors: Sequence[RowError], *,
             priority_of: dict[str, str], as_of: dt.datetime) -> dict[str, Any]:
    """The evaluation document: per ticket, per priority, and every row that could not be evaluated.

    ``priority_of`` maps the export's priority values (lower case) to a priority of any scheme."""
    results, problems = [], list(errors)
    for ticket in tickets:
        prio = policy.priority_in(scheme, priority_of[ticket.priority.lower()])
        if prio is None:
            problems.append(RowError(ticket.where, "priority", f"{ticket.priority!r} has no priority in scheme "
                                                               f"{scheme.name} (see mapping in {policy.source})"))
            continue
        results.append(judge_ticket(policy, scheme, ticket, prio, as_of))
    breaches = [r for r in results if "breached" in (r.response.verdict, r.resolution.verdict)]
    return {"scheme": {"name": scheme.name, "title": scheme.title,
                       "targets": {p: asdict(t) for p, t in scheme.targets.items()}},
            "as_of": as_of.isoformat(), "timezone": str(policy.calendar.timezone),
            "counts": {"rows": len(results) + len(problems), "evaluated": len(results), "malformed": len(problems),
                       "breached": len(breaches)},
            "per_priority": summarize(results, list(scheme.targets)),
            "tickets": [asdict(r) for r in results], "breaches": [r.id for r in breaches],
            "malformed": [{"where": e.where, "field": e.field, "message": e.message} for e in problems]}
