"""`sop demo`: the main job on the embedded lab (what README's first command runs).

Each playbook runs through the runner API, so what it prints is the audit summary and report paths.
Other issues append their playbooks to DEMO_PLAYBOOKS.
"""

from __future__ import annotations

import click

from runner.ansible_run import RunOptions, run_playbook
from runner.cli.run import print_outcome
from runner.paths import PLAYBOOKS

DEMO_PLAYBOOKS = ("inventory.yml",)


@click.command("demo")
@click.option(
    "--audit-dir",
    type=click.Path(file_okay=False),
    help="Audit directory (default: $SOP_AUDIT_DIR or audit/ at the repository root).",
)
@click.option("-q", "--quiet", is_flag=True, help="No per-task progress.")
def command(audit_dir: str | None, quiet: bool) -> None:
    """Run the SOP jobs on the lab and print where the reports are."""
    worst = 0
    for playbook in DEMO_PLAYBOOKS:
        click.secho(f"demo: {playbook}", bold=True)
        outcome = run_playbook(
            RunOptions(playbook=PLAYBOOKS / playbook, audit_dir=audit_dir, reason=f"sop demo: {playbook}"),
            progress=None if quiet else click.echo,
        )
        print_outcome(outcome)
        worst = max(worst, outcome.exit_code)
    raise SystemExit(worst)
