"""`sop handover`: the signatures on SOP 2's forms (handover, sop2.3; return, sop2.5)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from runner.cli.assets import DB_OPTION
from runner.cli.options import LANG_OPTION
from runner.errors import ConfigError

KIND_OPTION = click.option("--form", "kind", type=click.Choice(["handover", "return"]), default="handover",
                           show_default=True, help="Which form: the handover or the return condition form.")
AUDIT_OPTION = click.option("--audit-dir", type=click.Path(file_okay=False, path_type=Path), help="Audit directory.")


@click.group("handover")
def command() -> None:
    """Handover and return forms of devices (SOP 2): show them, record their signatures."""


@command.command("accept")
@click.argument("tag")
@click.option("--by", "by", required=True, help="The employee signing (must be the one the form names).")
@click.option("--officer", default="", help="The IT officer countersigning (checked against the form).")
@KIND_OPTION
@AUDIT_OPTION
@DB_OPTION
def accept(*, tag: str, by: str, officer: str, kind: str, audit_dir: Path | None, db: Path | None) -> None:
    """Record that the form was signed: who, when and its sha256, in the ledger (a signed handover assigns the
    asset). A form changed since it was generated, or other signers than it names, are refused."""
    from runner.assets import Register, forms
    from runner.audit.identity import detect_operator
    from runner.settings import audit_dir as resolve

    root = resolve(audit_dir)
    operator = detect_operator(interactive=False)
    with Register.configured(db) as register:
        try:
            record, path, change = forms.accept(tag, kind, by=by, officer=officer, root=root, register=register,
                                                actor=str(operator.get("user") or operator.get("os_user") or by))
        except forms.AlreadyAcceptedError as done:
            click.echo(f"{tag}: {done} (nothing changed)")
            return
    signed = record["signed_by"]
    click.echo(f"{tag}: {kind} form {record['document_number']} signed by {signed['employee']['name']} "
               f"({signed['employee']['employee_id']}) and {signed['it_officer']['name']} (IT); "
               f"form.json sha256 {record['sha256'].get('form.json', '-')[:16]}...")
    moved = (f"{change.before.get('status') if change.before else '-'} -> {change.after.get('status')}"
             if change else "status unchanged")
    click.echo(f"  asset {tag}: {moved}; acceptance sealed in the ledger: {path}")


@command.command("show")
@click.argument("tag")
@KIND_OPTION
@AUDIT_OPTION
@click.option("--json", "as_json", is_flag=True, help="The form's JSON.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Reprint the form (HTML and PDF) into this directory, in --lang.")
@LANG_OPTION
def show(*, tag: str, kind: str, audit_dir: Path | None, as_json: bool, out: Path | None, lang: str) -> None:
    """The newest form of an asset and whether it is still as generated (sealed); --out reprints it."""
    from runner.assets import forms
    from runner.errors import AuditIntegrityError
    from runner.settings import audit_dir as resolve

    root = resolve(audit_dir)
    path = forms.latest(tag, kind, root)
    if path is None:
        raise ConfigError(f"{tag}: no {kind} form under {forms.forms_dir(tag, root)}")
    form = json.loads(path.read_text())
    if as_json:
        click.echo(json.dumps(form, indent=2, ensure_ascii=False))
    else:
        click.echo(f"{kind} form {form['document_number']} of {form['date']} ({path.parent})")
        click.echo(f"  {form['first_party']['name']} (IT) -> {form['second_party']['name']} "
                   f"({form['second_party']['employee_id']}, {form['second_party']['department']})")
        click.echo(f"  device {form['device']['tag']}: {form['device']['make']} {form['device']['model']} "
                   f"serial {form['device']['serial']}, condition {form['device']['condition']}")
    problems = forms.sealed_problems(path, root)
    if problems:
        raise AuditIntegrityError(f"{path.parent}: {'; '.join(problems)}")
    if not as_json:
        click.secho("  as generated: every file matches its hash in the ledger", fg="green")
    if out is not None:
        for fmt, path in sorted(forms.render_files(form, out, lang=lang).items()):
            click.echo(f"  reprint ({fmt}): {path}")
