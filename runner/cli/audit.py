"""`sop audit list|show|change|verify`: inspect and verify the audit ledger and run records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from runner.audit import AuditStore, verify
from runner.cli.options import LANG_OPTION
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


STORE_OPTION = click.option(
    "--store",
    metavar="s3://BUCKET/PREFIX",
    help="The WORM audit store (default: $SOP_AUDIT_STORE; endpoint from $SOP_AUDIT_STORE_ENDPOINT).",
)


def store_for(audit_dir: str | None, store_url: str | None = None) -> AuditStore:
    return AuditStore.configured(resolve_audit_dir(audit_dir), store_url)


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
@click.option("--change-ref", help="Only runs of this change (e.g. every patch.yml run of CR-2024-031).")
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
    change_ref: str | None,
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
        if change_ref and record.get("change_ref") != change_ref:
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
@LANG_OPTION
def show(run: str, as_json: bool, audit_dir: str | None, lang: str) -> None:
    """Show one run (id, unique prefix/suffix, or `last`) as a readable summary."""
    store = store_for(audit_dir)
    record = store.load(store.find(run))
    if as_json:
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(run_model(record), template="run", fmt="md", lang=lang))


@command.command("change")
@click.argument("change_ref")
@AUDIT_DIR_OPTION
@LANG_OPTION
def change_cmd(change_ref: str, audit_dir: str | None, lang: str) -> None:
    """Rebuild and seal the change record of CHANGE_REF from its sealed runs (written after each run too)."""
    from runner.change.record import write

    store = store_for(audit_dir)
    if not any(record.get("change_ref") == change_ref for record in store.records()):
        raise ConfigError(f"{store.root}: no run of change {change_ref!r}", hint="see `sop audit list --change-ref`")
    paths = write(store, change_ref, lang=lang)
    document = json.loads(paths["json"].read_text())
    click.echo(f"change {change_ref}: {len(document['runs'])} sealed run(s); {document['outcome']}")
    if document["excluded_runs"]:
        click.secho(f"  left out (record does not match the ledger): {', '.join(document['excluded_runs'])}",
                    fg="red")
    for fmt, path in paths.items():
        click.echo(f"change record ({fmt}): {path}")


@command.command("verify")
@click.option("--no-seal", is_flag=True, help="Do not seal runs whose process died (report them only).")
@click.option(
    "--trusted-key",
    "trusted",
    multiple=True,
    metavar="FINGERPRINT|PEM",
    help="Pinned public key (sha256 of the raw key, or a PEM file); default $SOP_AUDIT_TRUSTED_KEYS, "
    "else the ledger.pub of the key directory. Repeat after a rotation if you like.",
)
@click.option("--anchor", "anchor_url", metavar="s3://BUCKET/PREFIX",
              help="Where the ledger head is anchored (default: $SOP_AUDIT_ANCHOR).")
@STORE_OPTION
@AUDIT_DIR_OPTION
def verify_cmd(
    no_seal: bool, trusted: tuple[str, ...], anchor_url: str | None, store: str | None, audit_dir: str | None
) -> None:
    """Verify the chain and signatures (pinned keys), every artifact's hash, every record against its events,
    the head against its anchor; seal aborted runs. With a store: verify from the store alone."""
    from runner.audit import anchor

    audit = store_for(audit_dir, store)
    target = anchor.configured(anchor_url) if anchor_url else None
    result = verify(audit, seal=not no_seal, trusted=trusted, anchor_target=target)
    for run_id in result.sealed:
        click.secho(f"run {run_id}: aborted (partial record, now sealed in the ledger)", fg="yellow")
    for run_id in result.running:
        click.echo(f"run {run_id}: still running (or its process is alive, or it died on its controller)")
    for note in result.notes:
        click.secho(f"note: {note}", fg="yellow")
    if not result.ok:
        for problem in result.problems:
            click.secho(f"BROKEN: {problem}", fg="red", err=True)
        raise AuditIntegrityError(result.problems[0])
    anchored = f"; anchored at {result.anchor}" if result.anchor else ""
    click.secho(
        f"OK: {result.entries} ledger entries, {result.runs} runs "
        f"({len(set(result.aborted))} aborted) in {result.source}; head {result.head}{anchored}",
        fg="green",
    )


@command.command("sync")
@STORE_OPTION
@AUDIT_DIR_OPTION
def sync_cmd(store: str | None, audit_dir: str | None) -> None:
    """Push a local audit directory (ledger entries, runs, check reports) into the WORM store; flush the spool."""
    from runner.audit.sync import sync

    audit = store_for(audit_dir, store)
    if audit.remote is None:
        raise ConfigError("no audit store: give --store s3://BUCKET/PREFIX or set SOP_AUDIT_STORE")
    result = sync(audit.root, audit.remote)
    click.echo(f"{result.copied} local ledger entries queued, {len(result.flushed.pushed)} entries written to "
               f"{audit.remote.store.url}")
    if result.flushed.error:
        raise AuditIntegrityError(f"{result.flushed.pending} entries still spooled: {result.flushed.error}")


@command.command("rotate-key")
@AUDIT_DIR_OPTION
def rotate_key(audit_dir: str | None) -> None:
    """Replace the signing key: a rotation entry signed by the old and the new key, then the new key in the key
    directory. Pin the new fingerprint where you pinned the old one."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from runner.audit import keys, ledger

    audit = store_for(audit_dir)
    if audit.remote is not None:
        raise ConfigError("rotate the key of a WORM-store ledger from one controller with its local ledger unset")
    keys.check_rotatable()
    new = Ed25519PrivateKey.generate()
    entry = ledger.rotate(audit.root, new)
    path = keys.replace_signing_key(new)
    click.echo(f"ledger entry {entry['seq']}: key {entry['key']} -> {entry['new_key']['id']}; new key in {path}")
    click.echo(f"new fingerprint (pin it): {keys.fingerprint(new.public_key())}")
