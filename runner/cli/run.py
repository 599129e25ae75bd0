"""`sop run PLAYBOOK`: run a playbook through the runner and record it as audit evidence."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click
import yaml

from runner.ansible_run import RunOptions, RunOutcome, run_playbook
from runner.cli.options import LANG_OPTION
from runner.errors import ConfigError


def parse_extra_vars(values: tuple[str, ...]) -> dict[str, Any]:
    """``-e`` like ansible: ``@file.yml``, a JSON/YAML mapping, or ``key=value`` pairs; later ones win."""
    merged: dict[str, Any] = {}
    for value in values:
        if value.startswith("@"):
            path = Path(value[1:])
            try:
                data = yaml.safe_load(path.read_text())
            except (OSError, yaml.YAMLError) as exc:
                raise ConfigError(f"--extra-vars {path}: cannot read: {exc}") from None
        elif value.lstrip().startswith("{"):
            try:
                data = yaml.safe_load(value)
            except yaml.YAMLError:
                raise ConfigError("--extra-vars: not a valid JSON/YAML mapping") from None
        else:
            data = {}
            for pair in shlex.split(value):
                key, sep, val = pair.partition("=")
                if not sep or not key:
                    raise ConfigError(f"--extra-vars: {key!r} is not key=value")
                data[key] = val
        if not isinstance(data, dict):
            raise ConfigError("--extra-vars: expected a mapping")
        merged.update(data)
    return merged


def parse_approvals(values: tuple[str, ...]) -> dict[str, str]:
    approvals: dict[str, str] = {}
    for value in values:
        role, sep, name = value.partition("=")
        if not sep or not role.strip() or not name.strip():
            raise ConfigError(f"--approved-by {value!r}: expected ROLE=NAME (e.g. it_manager=Budi)")
        approvals[role.strip()] = name.strip()
    return approvals


def _split(values: tuple[str, ...]) -> list[str]:
    return [item for value in values for item in value.split(",") if item]


def print_outcome(outcome: RunOutcome) -> None:
    """Summary line, failures (from the redacted record), report paths."""
    colour = "green" if outcome.exit_code == 0 else "red"
    click.secho(outcome.summary(), fg=colour, bold=True)
    record = outcome.record or {}
    for refusal in record.get("refusals", []):
        click.secho(f"  REFUSED {refusal['host']}: {refusal['task']}: {refusal['msg']}", fg="red")
    for play in record.get("plays", []):
        for task in play["tasks"]:
            for result in task["results"]:
                if result["status"] in {"failed", "unreachable"} and not result.get("ignored"):
                    click.secho(
                        f"  {result['status'].upper()} {result['host']}: {task['name']}: "
                        f"{result.get('reason') or result.get('msg', '')}"[:500],
                        fg="red",
                    )
    if not outcome.record and outcome.output_tail:
        click.echo("\n".join(outcome.output_tail.strip().splitlines()[-25:]), err=True)
    if outcome.record_path:
        click.echo(f"record: {outcome.record_path}")
    for fmt, path in outcome.report_paths.items():
        click.echo(f"report ({fmt}): {path}")


@click.command("run")
@click.argument("playbook", type=click.Path(dir_okay=False))
@click.option(
    "-i",
    "--inventory",
    multiple=True,
    help="Inventory file/dir, or a host list like 'web1,' (repeatable; default from ansible.cfg).",
)
@click.option("-l", "--limit", help="Limit to hosts/groups (ansible pattern).")
@click.option("-C", "--check", is_flag=True, help="Dry run: change nothing (recorded as check mode).")
@click.option("-D", "--diff", is_flag=True, help="Show and record differences of changed files.")
@click.option(
    "-t", "--tags", multiple=True, help="Only tasks with these tags (repeatable or comma separated)."
)
@click.option("--skip-tags", multiple=True, help="Skip tasks with these tags.")
@click.option(
    "-e", "--extra-vars", multiple=True, help="key=value, a JSON/YAML mapping, or @file (repeatable)."
)
@click.option("--change-ref", help="Change request reference, e.g. CR-2024-017.")
@click.option("--approved-by", multiple=True, metavar="ROLE=NAME", help="An approval (repeatable).")
@click.option("--reason", help="Why this run happens (recorded).")
@click.option("-f", "--forks", type=int, help="Parallel hosts.")
@click.option("--vault-password-file", type=click.Path(dir_okay=False), help="Vault password file.")
@click.option(
    "--audit-dir",
    type=click.Path(file_okay=False),
    help="Audit directory (default: $SOP_AUDIT_DIR or audit/ at the repository root).",
)
@click.option("-q", "--quiet", is_flag=True, help="No per-task progress.")
@LANG_OPTION
def command(  # noqa: PLR0917 - one parameter per click option
    playbook: str,
    inventory: tuple[str, ...],
    limit: str | None,
    check: bool,
    diff: bool,
    tags: tuple[str, ...],
    skip_tags: tuple[str, ...],
    extra_vars: tuple[str, ...],
    change_ref: str | None,
    approved_by: tuple[str, ...],
    reason: str | None,
    forks: int | None,
    vault_password_file: str | None,
    audit_dir: str | None,
    quiet: bool,
    lang: str,
) -> None:
    """Run PLAYBOOK and record it as audit evidence (record, reports, signed ledger entry).

    Exit codes: 0 success, 1 aborted/ansible error, 2 usage error, 4 unreachable hosts, 5 refused by a
    safety gate, 7 failed hosts.
    """
    options = RunOptions(
        playbook=playbook,
        inventory=list(inventory),
        limit=limit,
        check=check,
        diff=diff,
        tags=_split(tags),
        skip_tags=_split(skip_tags),
        extra_vars=parse_extra_vars(extra_vars),
        change_ref=change_ref,
        approvals=parse_approvals(approved_by),
        reason=reason,
        audit_dir=audit_dir,
        forks=forks,
        vault_password_file=vault_password_file,
        lang=lang,
    )
    outcome = run_playbook(options, progress=None if quiet else click.echo)
    print_outcome(outcome)
    raise SystemExit(outcome.exit_code)


__all__ = ["command", "parse_approvals", "parse_extra_vars", "print_outcome"]
