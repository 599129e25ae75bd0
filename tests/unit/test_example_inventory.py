"""The example estate inventory documents a working shape: groups the SOPs use and vaulted secrets."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from runner.paths import REPO_ROOT

EXAMPLE = REPO_ROOT / "inventories" / "example"
DEMO_VAULT_PASSWORD = "example-only-not-a-secret"  # documented in inventories/example/README.md


def _inventory(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    password_file = tmp_path / "vault-pass"
    password_file.write_text(DEMO_VAULT_PASSWORD + "\n")
    return subprocess.run([str(REPO_ROOT / ".venv/bin/ansible-inventory"), "-i", str(EXAMPLE),
                           "--vault-password-file", str(password_file), *args],
                          capture_output=True, text=True, timeout=120, check=False, cwd=REPO_ROOT)


def test_groups_the_sops_need(tmp_path: Path) -> None:
    result = _inventory(tmp_path, "--list")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for group in ("staging", "production", "workstations", "databases", "network"):
        assert data[group]["hosts"], group


def test_secrets_are_vaulted_and_decrypt(tmp_path: Path) -> None:
    vault = (EXAMPLE / "group_vars" / "all" / "vault.yml").read_text()
    assert vault.startswith("$ANSIBLE_VAULT;")
    assert "replace-me" not in vault
    result = _inventory(tmp_path, "--host", "db01.corp.example")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["vault_restic_password"] == "example-restic-password-replace-me"
