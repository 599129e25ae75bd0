"""`sop check`: audit hosts against the security baseline (SOP 5) without changing anything.

Exit code 0 when every applicable control passes or is waived, 1 when any control fails or cannot be
judged (error). ``--network`` audits network devices instead (runner.network.drift).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from runner.cli.options import LANG_OPTION
from runner.errors import ConfigError

SYMBOL = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "waived": "WAIVED", "not_applicable": "n/a"}


@click.command("check")
@click.option("-l", "--limit", help="Ansible host pattern to audit (default: every host of group linux).")
@click.option("-i", "--inventory", type=click.Path(path_type=Path), help="Inventory (default: the lab's).")
@click.option("-c", "--controls", multiple=True, help="Control ids to audit (repeat or comma-separate).")
@click.option(
    "-w",
    "--waivers",
    "waiver_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Waiver file(s) (default: policies/waivers.yml + waivers.yml beside the inventory).",
)
@click.option("--no-waivers", is_flag=True, help="Ignore every waiver (show the raw verdicts).")
@click.option(
    "--catalogue", type=click.Path(path_type=Path), help="Control catalogue (default policies/controls.yml)."
)
@click.option("--audit-dir", type=click.Path(path_type=Path), help="Audit directory (reports, ledger).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--network", is_flag=True, help="Audit network devices for configuration drift instead.")
@click.option("--store", type=click.Path(path_type=Path),
              help="With --network: the config store whose backup status is shown (default audit/network-configs).")
@click.option("--show-passed/--hide-passed", default=True, help="List passing controls in the table.")
@LANG_OPTION
def command(
    *,
    limit: str | None,
    inventory: Path | None,
    controls: tuple[str, ...],
    waiver_files: tuple[Path, ...],
    no_waivers: bool,
    catalogue: Path | None,
    audit_dir: Path | None,
    fmt: str,
    network: bool,
    store: Path | None,
    show_passed: bool,
    lang: str,
) -> None:
    """Audit hosts against the security baseline without changing anything."""
    if network:
        from runner.network.drift import cli_check  # issue 6, loaded only when asked

        raise SystemExit(cli_check(inventory, limit, audit_dir, store=store))
    if no_waivers and waiver_files:
        raise ConfigError("--no-waivers and --waivers exclude each other")
    from runner.check.engine import CheckOptions, run_check, write_reports

    options = CheckOptions(
        inventory=inventory,
        limit=limit,
        audit_dir=audit_dir,
        use_waivers=not no_waivers,
        controls=[c for item in controls for c in item.split(",") if c],
        waiver_files=list(waiver_files) or None,
        lang=lang,
    )
    if catalogue:
        options.catalogue = catalogue
    result = run_check(options, progress=None)
    paths = write_reports(result, audit_dir, lang)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        _table(result.results, show_passed)
        counts = " ".join(f"{k}={v}" for k, v in result.counts.items())
        click.echo(
            f"\n{result.check_id}: {len(result.hosts)} host(s), {counts}, {result.duration_s}s; "
            f"collection run {result.run.get('run_id')} ({result.run.get('status')})"
        )
        for kind, path in paths.items():
            click.echo(f"  {kind}: {path}")
    raise SystemExit(result.exit_code)


def _table(results: list[dict], show_passed: bool) -> None:
    for row in results:
        if row["status"] == "pass" and not show_passed:
            continue
        colour = {"pass": "green", "fail": "red", "error": "magenta", "waived": "yellow"}.get(row["status"])
        click.echo(
            f"{row['host']:<12} {row['control']:<10} "
            + click.style(f"{SYMBOL[row['status']]:<7}", fg=colour)
            + f" {row['message']}"
        )
