"""`sop audit list|show|verify`: inspect and verify the audit ledger and run records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from runner.audit import AuditStore, verify
from runner.errors import AuditIntegrityError, ConfigError
from runner.policy.refs import sop_steps
from runner.report import run_model
from runner.report.render import render_text
from runner.settings import audit_dir as resolve_audit_dir

AUDIT_DIR_OPTION = click.option(
    "--audit-dir",
    type=click.Path(file_okay=False),
    help="Audit directory (default: $SOP_AUDIT_DIR or audit/ at the repository root).",
)


def store_for(audit_dir: str | None) -> AuditStore:
    return AuditStore(resolve_audit_dir(audit_dir))


def _when(value: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{option} {value!r}: expected a date or date-time (2024-05-31 or 2024-05-31T12:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _steps_of(record: dict[str, Any]) -> set[str]:
    return {
        s
        for play in record.get("plays", [])
        for task in play.get("tasks", [])
        for s in task.get("sop_steps", [])
    }


def matches(
    record: dict[str, Any],
    *,
    sop: str | None = None,
    host: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> bool:
    """True when ``record`` passes every given filter (``sop``: a step id, or an SOP id such as ``upd``)."""
    started = record.get("started")
    moment = _when(started, "started") if started else None
    checks = [
        not status or record.get("status") == status,
        not host or host in (record.get("hosts") or {}),
        not sop or _evidences(record, sop),
        not since or (moment is not None and moment >= since),
        not until or (moment is not None and moment <= until),
    ]
    return all(checks)


def _evidences(record: dict[str, Any], sop: str) -> bool:
    steps = _steps_of(record)
    known = sop_steps()
    return sop in steps or any(known[s].sop == sop for s in steps if s in known)


@click.group("audit")
def command() -> None:
    """Inspect and verify the audit ledger and run records."""


@command.command("list")
@click.option("--sop", help="Only runs that evidence this SOP step (sop4.1) or SOP (upd, sop).")
@click.option("--host", help="Only runs that touched this host.")
@click.option(
    "--status", type=click.Choice(["success", "failed", "unreachable", "refused", "aborted", "running"])
)
@click.option("--since", help="Only runs started at/after this date (UTC unless given).")
@click.option("--until", help="Only runs started at/before this date.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@AUDIT_DIR_OPTION
def list_runs(  # noqa: PLR0917 - one parameter per click option
    sop: str | None,
    host: str | None,
    status: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    audit_dir: str | None,
) -> None:
    """List recorded runs, oldest first."""
    lower = _when(since, "--since") if since else None
    upper = _when(until, "--until") if until else None
    if upper and until and "T" not in until:
        upper = upper.replace(hour=23, minute=59, second=59)
    for record in store_for(audit_dir).records():
        if not matches(record, sop=sop, host=host, status=status, since=lower, until=upper):
            continue
        if as_json:
            click.echo(
                json.dumps(
                    {k: record.get(k) for k in ("run_id", "started", "status", "change_ref")}
                    | {
                        "playbook": (record.get("playbook") or {}).get("path"),
                        "hosts": sorted(record.get("hosts") or {}),
                        "sop_steps": sorted(_steps_of(record)),
                        "operator": (record.get("operator") or {}).get("user"),
                    }
                )
            )
            continue
        playbook = ((record.get("playbook") or {}).get("path") or "?").rsplit("/", 1)[-1]
        check = " [check]" if record.get("check") else ""
        click.echo(
            f"{record.get('run_id')}  {record.get('status', '?'):<11} {playbook}{check}  "
            f"hosts={len(record.get('hosts') or {})}  by {(record.get('operator') or {}).get('user')}  "
            f"{record.get('change_ref') or ''}".rstrip()
        )


@command.command("show")
@click.argument("run")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON.")
@AUDIT_DIR_OPTION
def show(run: str, as_json: bool, audit_dir: str | None) -> None:
    """Show one run (id, unique prefix/suffix, or `last`) as a readable summary."""
    store = store_for(audit_dir)
    record = store.load(store.find(run))
    if as_json:
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(run_model(record), template="run", fmt="md"))


@command.command("verify")
@click.option("--no-seal", is_flag=True, help="Do not seal runs whose process died (report them only).")
@AUDIT_DIR_OPTION
def verify_cmd(no_seal: bool, audit_dir: str | None) -> None:
    """Verify the ledger's hash chain and signatures and every record's hash; seal aborted runs."""
    store = store_for(audit_dir)
    result = verify(store, seal=not no_seal)
    for run_id in result.sealed:
        click.secho(f"run {run_id}: aborted (partial record, now sealed in the ledger)", fg="yellow")
    for run_id in result.running:
        click.echo(f"run {run_id}: still running (or its process is alive)")
    if not result.ok:
        for problem in result.problems:
            click.secho(f"BROKEN: {problem}", fg="red", err=True)
        raise AuditIntegrityError(result.problems[0])
    click.secho(
        f"OK: {result.entries} ledger entries, {result.runs} runs "
        f"({len(set(result.aborted))} aborted); head {result.head}",
        fg="green",
    )
