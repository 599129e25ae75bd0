"""`sop assets`: the asset register (SOP 2): list, show, import, export, due, certificate."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from runner.cli.options import LANG_OPTION
from runner.errors import ConfigError

DB_OPTION = click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
                         help="Register file (default: $SOP_ASSETS_DB, else assets/register.sqlite beside audit/).")


def _register(db: Path | None):  # noqa: ANN202 - lazy import keeps `sop` start-up fast
    from runner.assets import Register

    return Register.configured(db)


def _row(asset: object) -> str:
    a = asset  # Asset
    holder = getattr(a, "assignee_name", "") or "-"
    due = getattr(a, "next_maintenance_due", "") or "-"
    return (f"{a.tag:<12} {a.status:<11} {a.type:<9} {(a.make + ' ' + a.model).strip()[:28]:<28} "  # type: ignore[attr-defined]
            f"{a.serial[:16]:<16} {holder[:20]:<20} {due}")  # type: ignore[attr-defined]


@click.group("assets")
def command() -> None:
    """The asset register: devices, their disks, holders, status and history (SOP 2)."""


@command.command("list")
@DB_OPTION
@click.option("--status", help="Only assets with this status.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def list_(db: Path | None, status: str | None, as_json: bool) -> None:
    """List the assets."""
    with _register(db) as register:
        assets = register.list(status)
    if as_json:
        click.echo(json.dumps([a.as_dict() for a in assets], indent=2))
        return
    click.echo(f"{'TAG':<12} {'STATUS':<11} {'TYPE':<9} {'MAKE/MODEL':<28} {'SERIAL':<16} {'ASSIGNEE':<20} NEXT DUE")
    for asset in assets:
        click.echo(_row(asset))
    click.echo(f"{len(assets)} asset(s)")


@command.command("show")
@DB_OPTION
@click.argument("tag")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
def show(db: Path | None, tag: str, as_json: bool) -> None:
    """One asset, its disks and its history."""
    with _register(db) as register:
        asset = register.get(tag)
        history = register.history(tag)
    if as_json:
        click.echo(json.dumps({**asset.as_dict(), "history": history}, indent=2))
        return
    for key, value in asset.as_dict().items():
        if key != "disks":
            click.echo(f"{key:>22}: {value}")
    for index, disk in enumerate(asset.disks):
        click.echo(f"{'disk ' + str(index):>22}: {disk.model} serial {disk.serial}, {disk.size_bytes} bytes, "
                   f"{disk.media_type}")
    click.echo("history:")
    for item in history:
        who = f" by {item['actor']}" if item["actor"] else ""
        run = f" (run {item['run_id']})" if item["run_id"] else ""
        click.echo(f"  {item['ts']} {item['action']}{who}{run}: {', '.join(sorted(item['changes']))}")


@command.command("import")
@DB_OPTION
@click.argument("csv_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--by", "actor", default="", help="Who imports (recorded in the history).")
@click.option("-C", "--check", is_flag=True, help="Validate and show what would change; write nothing.")
def import_(db: Path | None, csv_file: Path, actor: str, check: bool) -> None:
    """Import assets from a CSV with Snipe-IT's column names (all rows or none)."""
    from runner.assets import snipeit
    from runner.assets.evidence import record_cli_change

    rows = snipeit.read(csv_file)
    with _register(db) as register:
        items = [(row.tag, "import", row.fields) for row in rows]
        changes = register.apply_many(items, actor=actor, check=check,
                                      labels=[f"{csv_file}:{row.line}" for row in rows])
        path = register.path
    changed = [c for c in changes if c.changed]
    created = sum(1 for c in changed if c.before is None)
    label = " (check mode; no changes)" if check else ""
    click.echo(f"{csv_file}: {len(rows)} row(s): {created} new, {len(changed) - created} changed, "
               f"{len(changes) - len(changed)} unchanged{label}")
    if changed and not check:
        record = record_cli_change("imports", {"source": str(csv_file), "register": str(path), "actor": actor,
                                               "changes": [c.evidence() for c in changed]})
        click.echo(f"record: {record}")


@command.command("export")
@DB_OPTION
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--status", help="Only assets with this status.")
def export(db: Path | None, csv_file: Path | None, status: str | None) -> None:
    """Export assets as CSV with Snipe-IT's column names (to CSV_FILE, else stdout)."""
    from runner.assets import snipeit

    with _register(db) as register:
        text = snipeit.export(register.list(status))
    if csv_file is None:
        click.echo(text, nl=False)
        return
    csv_file.write_text(text, encoding="utf-8")
    click.echo(f"{csv_file}: {text.count(chr(10)) - 1} asset(s)")


@command.command("due")
@DB_OPTION
@click.option("--date", "on", help="Due on or before this date (YYYY-MM-DD; default today).")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def due(db: Path | None, on: str | None, as_json: bool) -> None:
    """Assets whose quarterly maintenance is due or overdue (SOP 2.4)."""
    try:
        day = dt.date.fromisoformat(on) if on else dt.datetime.now(dt.UTC).date()
    except ValueError:
        raise ConfigError(f"--date {on!r}: not a date (YYYY-MM-DD)") from None
    with _register(db) as register:
        assets = register.due(day)
    if as_json:
        click.echo(json.dumps([a.as_dict() for a in assets], indent=2))
        return
    for asset in assets:
        overdue = (day - dt.date.fromisoformat(asset.next_maintenance_due)).days
        state = f"OVERDUE by {overdue} day(s)" if overdue > 0 else "due today"
        click.echo(f"{asset.tag:<12} {asset.next_maintenance_due}  {state:<22} {asset.assignee_name or '-'} "
                   f"({asset.hostname or '-'})")
    click.echo(f"{len(assets)} asset(s) due on or before {day.isoformat()}")


@command.command("certificate")
@click.argument("tag")
@click.option("--file", "cert_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A certificate.json to check (default: the asset's newest certificate).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Reprint the certificate (HTML and PDF) into this directory.")
@click.option("--audit-dir", type=click.Path(file_okay=False, path_type=Path), help="Audit directory.")
@click.option("--trusted-key", "trusted", multiple=True, help="Pinned key: fingerprint or PEM file (repeatable).")
@LANG_OPTION
def certificate(*, tag: str, cert_file: Path | None, out: Path | None, audit_dir: Path | None,
                trusted: tuple[str, ...], lang: str) -> None:
    """Show an asset's certificate of sanitization and verify its signature and ledger seal (SOP 2.6)."""
    from runner.assets import certificate as cert
    from runner.errors import AuditIntegrityError
    from runner.settings import audit_dir as resolve

    root = resolve(audit_dir)
    path = cert_file or cert.latest(tag, root=root)
    if path is None:
        raise ConfigError(f"{tag}: no certificate of sanitization under {root / 'assets' / 'certificates'}")
    verdict = cert.check(path, root, trusted)
    doc = verdict.document or {}
    if doc:
        media, ver = doc.get("media", {}), doc.get("verification", {})
        click.echo(f"certificate {doc.get('certificate_id')} ({path})")
        click.echo(f"  asset {doc.get('asset', {}).get('tag')}: {media.get('model')} serial {media.get('serial')} "
                   f"({media.get('media_type')}, {media.get('size_bytes')} bytes) at {media.get('path')} on "
                   f"{doc.get('host')}")
        click.echo(f"  {doc.get('sanitization', {}).get('method')}: {doc.get('sanitization', {}).get('technique')}; "
                   f"tool {doc.get('tool', {}).get('name')} {doc.get('tool', {}).get('version')}")
        click.echo(f"  verification {ver.get('result')}: {ver.get('mode')}, {ver.get('coverage_percent')}% read")
        click.echo(f"  {doc.get('start')} -> {doc.get('end')} ({doc.get('duration_s')} s); operator "
                   f"{doc.get('operator')}, approved by {(doc.get('approver') or {}).get('name')}; destination "
                   f"{doc.get('destination')}")
    if not verdict.ok:
        raise AuditIntegrityError("; ".join(verdict.problems))
    click.secho(f"  signature OK (ed25519 key {doc['signature']['key_id']}); sealed in the ledger", fg="green")
    if out is not None:
        paths = cert.render_files(doc, out, lang=lang)
        for fmt, p in sorted(paths.items()):
            click.echo(f"  reprint ({fmt}): {p}")
