"""Every role's molecule scenario (check, converge, idempotence, verify) runs against lab hosts."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from runner.paths import REPO_ROOT

ANSI = re.compile(r"\x1b\[[0-9;]*m|\x1b\]8;;[^\x1b]*\x1b\\")
SCENARIOS = sorted(REPO_ROOT.glob("roles/*/molecule/default/molecule.yml"))


@pytest.mark.lab
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.parts[-4])
def test_molecule_scenario(scenario: Path) -> None:
    role_dir = scenario.parents[2]
    env = {**os.environ, "PATH": f"{REPO_ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
           "SOP_MOLECULE_LAB": os.environ.get("SOP_MOLECULE_LAB", "molec"), "ANSIBLE_FORCE_COLOR": "0",
           "NO_COLOR": "1"}
    result = subprocess.run(["molecule", "test"], cwd=role_dir, env=env, capture_output=True, text=True,
                            timeout=900, check=False)
    output = ANSI.sub("", result.stdout + result.stderr)
    assert result.returncode == 0, output[-6000:]
    # The scenario's test_sequence is destroy, create, syntax, check, converge, idempotence, verify, destroy:
    # molecule fails the run on a failed action (a changed task in `idempotence` included), so all 8 must be there.
    recap = re.search(r"default\s+: actions=(\d+)\s+successful=(\d+).*missing=(\d+)\s+failed=(\d+)", output)
    assert recap, output[-3000:]
    assert recap.group(1) == "8" and recap.group(3) == "0" and recap.group(4) == "0", recap.group(0)
    assert re.search(r"\d+ passed", output), "the testinfra verifier ran no test"


def test_every_role_has_a_molecule_scenario() -> None:
    roles = sorted(p.name for p in (REPO_ROOT / "roles").iterdir() if (p / "tasks").is_dir())
    with_scenario = sorted(p.parts[-4] for p in SCENARIOS)
    assert roles == with_scenario
