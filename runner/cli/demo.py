"""`sop demo`: the main job on the embedded lab (what README's first command runs)."""

from __future__ import annotations

import subprocess
import sys

import click

from runner.paths import PLAYBOOKS, REPO_ROOT

DEMO_PLAYBOOKS = ("health.yml",)


@click.command("demo")
def command() -> None:
    """Run the SOP jobs on the lab and print where the reports are."""
    failed = 0
    for playbook in DEMO_PLAYBOOKS:
        click.echo(f"demo: {playbook}")
        failed |= subprocess.call(["ansible-playbook", str(PLAYBOOKS / playbook)], cwd=REPO_ROOT)  # noqa: S603,S607
    sys.exit(1 if failed else 0)
