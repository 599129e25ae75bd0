"""`sop demo`: the main job on the embedded lab (what README's first command runs).

A scripted day of the IT team: each step runs through the runner API (so each leaves a run record, reports and a
ledger entry) and states the outcome it is expected to end with -- a refused restore is a success of the demo.
At the end the ledger is verified and every report path is listed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import click

from runner.ansible_run import RunOptions, run_playbook
from runner.audit import AuditStore, verify
from runner.cli.options import LANG_OPTION
from runner.cli.run import print_outcome
from runner.paths import PLAYBOOKS
from runner.settings import audit_dir as resolve_audit_dir

DEMO_APPROVALS = {"it_manager": "Demo IT Manager", "data_owner": "Demo Data Owner"}
PATCH_APPROVALS = {"it_manager": "Demo IT Manager", "stakeholder": "Demo Finance (UAT)"}
# The demo runs at any hour: outside the maintenance windows it is a recorded emergency (upd1.3).
PATCH_VARS = {"patch_packages": ["sop-demo-app=1.1"], "patch_emergency_reason": "sop demo, run at any hour"}


@dataclass(frozen=True)
class Step:
    title: str
    playbook: str | None = None  # None: the security baseline audit (`sop check`)
    options: dict[str, Any] = field(default_factory=dict)
    expect: int = 0  # the exit code this step should end with
    extra_vars: Callable[[], dict[str, Any]] | None = None  # made when the step runs (after the steps before it)
    then: Callable[[Path], str] | None = None  # what follows a successful run (a signature), its one-line result


@cache
def _newcomer() -> dict[str, str]:
    """The employee who joins in this demo run, and their laptop (a new one each run: a demo run never depends
    on what an earlier one left in the register or the directory)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return {"tag": f"LT-DEMO-{stamp}", "employee_id": f"E-DEMO-{stamp}", "username": f"demo{stamp}",
            "name": "Dewi Lestari", "host": "ws-lt02"}


OFFICER = {"name": "Demo IT Officer", "employee_id": "IT-001", "title": "IT Support"}


def _provision_vars() -> dict[str, Any]:
    """SOP 2.1: HR's request for the newcomer; their laptop is registered in stock first (as purchasing does)."""
    from runner.assets import Register

    who = _newcomer()
    with Register.configured() as register:
        if register.find(who["tag"]) is None:
            register.apply(who["tag"], "create", {"serial": f"PF3{who['tag'][-8:]}", "make": "Lenovo",
                                                  "model": "ThinkPad T14 Gen 3", "type": "laptop",
                                                  "hostname": who["host"]}, actor="sop demo (purchasing)")
    return {"provision_officer": OFFICER, "provision_request": {
        "employee_id": who["employee_id"], "name": who["name"], "department": "Finance",
        "job_role": "finance_staff", "asset_tag": who["tag"], "username": who["username"]}}


def _accept_handover(audit_dir: Path) -> str:
    """SOP 2.3: the newcomer and the IT officer sign the handover form (as `sop handover accept`)."""
    from runner.assets import Register, forms

    who = _newcomer()
    with Register.configured() as register:
        record, path, _change = forms.accept(who["tag"], "handover", by=who["name"], officer=OFFICER["name"],
                                             root=audit_dir, register=register, actor="sop demo")
    return f"handover {record['document_number']} signed; {who['tag']} assigned to {who['name']} ({path.name})"


def _return_vars() -> dict[str, Any]:
    return {"return_officer": OFFICER, "return_request": {
        "asset_tag": _newcomer()["tag"], "condition": "good", "accessories_returned": ["charger", "bag"],
        "remarks": "sop demo: the employee leaves"}}


STEPS = (
    Step("Asset inventory, device status (SOP 6.2)", "inventory.yml"),
    Step("Security baseline audit, read-only: a bare Debian fails controls (SOP 5)", None, expect=1),
    Step("Harden a staging host under a change ref (SOP 5, upd2.3)", "harden.yml",
         {"limit": "stg-app1", "change_ref": "DEMO-2"}),
    Step("Hardening production without the IT manager's approval is refused (upd1.3)", "harden.yml",
         {"limit": "prod-app1", "change_ref": "DEMO-2"}, expect=5),
    Step("Security baseline audit of the hardened host (SOP 5)", None, {"limit": "stg-app1"}),
    Step("Daily backup to local and cloud repositories (SOP 4.1)", "backup.yml", {"limit": "servers"}),
    Step("Weekly backup verification (SOP 4.2)", "backup_verify.yml", {"limit": "servers"}),
    Step("Restore without approvals is refused (SOP 4.3)", "restore.yml",
         {"limit": "prod-db1", "change_ref": "DEMO-1"}, expect=5),
    Step("Approved restore, verified, within the 24 h SLA (SOP 4.3, 4.4)", "restore.yml",
         {"limit": "prod-db1", "change_ref": "DEMO-1", "approvals": DEMO_APPROVALS,
          "extra_vars": {"restore_paths": ["/etc/hostname"]}}),
    Step("Network device config backup (SOP 3.1)", "network_backup.yml"),
    Step("Morning network check with fault localisation, server monitoring (SOP 3.2-3.4)", "network_check.yml"),
    Step("Antivirus on a production host, approved after staging (SOP 5.1, upd1.3, upd2.3)", "harden.yml",
         {"limit": "prod-app1", "change_ref": "DEMO-2", "tags": ["AV-001"],
          "approvals": {"it_manager": "Demo IT Manager"}}),
    Step("Install an update on staging in six stages: plan, backup + scan, execute, validate (upd1-upd5)",
         "patch.yml", {"limit": "stg-app1", "change_ref": "DEMO-3", "extra_vars": PATCH_VARS}),
    Step("The same update on production, approved and accepted; change record written (upd4.3, upd6)",
         "patch.yml", {"limit": "prod-app1", "change_ref": "DEMO-3", "extra_vars": PATCH_VARS,
                       "approvals": PATCH_APPROVALS}),
    Step("Maintenance: a workstation (every 3 months) and a server (weekly), next due dates (SOP 2.4, 3.4)",
         "maintain.yml", {"limit": "ws-lt01,stg-app1"}),
    Step("A new employee's laptop: account, software, baseline, directory access, handover form (SOP 2.1-2.3)",
         "provision.yml", extra_vars=_provision_vars, then=_accept_handover),
    Step("The employee leaves: directory access taken back, condition form, asset returned (SOP 2.5)",
         "return.yml", extra_vars=_return_vars),
)


def _run_step(step: Step, audit_dir: Path, quiet: bool, lang: str) -> tuple[int, list[Path]]:
    if step.playbook is None:
        from runner.check.engine import CheckOptions, run_check, write_reports

        result = run_check(CheckOptions(audit_dir=audit_dir, lang=lang, **step.options))
        paths = write_reports(result, audit_dir, lang)
        counts = " ".join(f"{k}={v}" for k, v in result.counts.items() if v)
        click.echo(f"sop check: {len(result.hosts)} host(s): {counts}")
        return result.exit_code, [paths["html"]] if "html" in paths else list(paths.values())
    options = {**step.options, **({"extra_vars": step.extra_vars()} if step.extra_vars else {})}
    outcome = run_playbook(
        RunOptions(playbook=PLAYBOOKS / step.playbook, audit_dir=audit_dir,
                   reason=f"sop demo: {step.title}", lang=lang, **options),
        progress=None if quiet else click.echo,
    )
    print_outcome(outcome)
    reports = [p for fmt, p in outcome.report_paths.items() if fmt == "html"]
    if step.then is not None and outcome.exit_code == 0:
        from runner.errors import SopError

        try:
            click.echo(f"  {step.then(audit_dir)}")
        except SopError as exc:
            click.secho(f"  {exc}", fg="red")
            return exc.exit_code or 1, reports
    return outcome.exit_code, reports


def _monthly_report(directory: Path) -> tuple[bool, str, int, list[Path]]:
    """The demo ends as the month does: the monthly report to management (SOP 6.2), from what the demo did."""
    import datetime as dt

    from runner.errors import SopError
    from runner.monthly.report import monthly, timezone

    title = "Monthly report to management, in Indonesian (SOP 6.2-6.3)"
    click.secho(f"\n[report] {title}", bold=True)
    try:
        report = monthly(directory, dt.datetime.now(timezone()).strftime("%Y-%m"), lang="id")
    except SopError as exc:
        click.secho(f"  {exc}", fg="red")
        return False, title, 1, []
    click.echo(report.summary())
    ok = bool(report.document["ledger"]["ok"])
    return ok, title, 0 if ok else 1, [report.paths["html"], report.paths["pdf"]]


@click.command("demo")
@click.option("--audit-dir", type=click.Path(file_okay=False),
              help="Audit directory (default: $SOP_AUDIT_DIR or audit/ at the repository root).")
@click.option("-q", "--quiet", is_flag=True, help="No per-task progress.")
@LANG_OPTION
def command(audit_dir: str | None, quiet: bool, lang: str) -> None:
    """Run the SOP jobs on the lab and print where the reports are."""
    directory = resolve_audit_dir(audit_dir)
    started = time.monotonic()
    summary: list[tuple[bool, str, int, list[Path]]] = []
    for number, step in enumerate(STEPS, 1):
        click.secho(f"\n[{number}/{len(STEPS)}] {step.title}", bold=True)
        code, reports = _run_step(step, directory, quiet, lang)
        summary.append((code == step.expect, step.title, code, reports))

    result = verify(AuditStore(directory))
    summary.append(_monthly_report(directory))
    click.secho(f"\nDemo finished in {time.monotonic() - started:.0f}s. Reports:", bold=True)
    for as_expected, title, code, reports in summary:
        mark = click.style("ok  ", fg="green") if as_expected else click.style("FAIL", fg="red")
        click.echo(f"  {mark} {title} (exit {code})")
        for report in reports:
            click.echo(f"         {report}")
    ledger = (f"ledger verified: {result.entries} entries, head {result.head}" if result.ok
              else f"ledger BROKEN: {result.problems[0]}")
    click.secho(f"  {ledger}", fg="green" if result.ok else "red")
    click.echo(f"  audit directory: {directory} (sop audit list / show RUN / verify)")
    raise SystemExit(0 if result.ok and all(ok for ok, *_ in summary) else 1)
