"""Shared fixtures: one lab instance for the whole test session (real hosts, devices and S3 store)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.lab import Lab
from runner.paths import REPO_ROOT

TEST_LAB = os.environ.get("SOP_TEST_LAB", "test")

# Tools (ansible-inventory for testinfra, molecule, sop) come from the project venv, ansible.cfg from the repo,
# and runs recorded while testing go to a scratch audit dir, never the repository's audit/.
os.environ["PATH"] = f"{REPO_ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("ANSIBLE_CONFIG", str(REPO_ROOT / "ansible.cfg"))
os.environ.setdefault("SOP_AUDIT_DIR", tempfile.mkdtemp(prefix="sop-test-audit-"))
# The ledger's signing key: never the real /etc/sop-as-code/audit while testing.
os.environ.setdefault("SOP_AUDIT_KEY_DIR", tempfile.mkdtemp(prefix="sop-test-keys-"))
# The asset register: a scratch one too (its default sits beside the audit dir, here the shared /tmp).
os.environ.setdefault("SOP_ASSETS_DB", str(Path(tempfile.mkdtemp(prefix="sop-test-assets-")) / "register.sqlite"))
# Documents in the default language (English) unless a test asks for another: not the developer's $SOP_LANG.
os.environ.pop("SOP_LANG", None)


@pytest.fixture
def key_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A signing key in a temp dir of the test's own, and none of the developer's audit store or anchor
    settings (the ledger tests ask for it on every test, tests/audit/conftest.py)."""
    path = tmp_path_factory.mktemp("keys") / "audit-key"
    monkeypatch.setenv("SOP_AUDIT_KEY_DIR", str(path))
    for name in ("SOP_AUDIT_KEY", "SOP_AUDIT_KEY_FILE", "SOP_AUDIT_TRUSTED_KEYS", "SOP_AUDIT_STORE",
                 "SOP_AUDIT_ANCHOR"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """The test lab, started once; removed at the end unless SOP_KEEP_LAB=1."""
    instance = Lab(TEST_LAB, progress=lambda msg: print(f"lab: {msg}"))
    instance.up()
    yield instance
    if os.environ.get("SOP_KEEP_LAB") != "1":
        instance.down()


@pytest.fixture(scope="session")
def lab_inventory(lab: Lab) -> Path:
    return lab.inventory_path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the lab is a lab test, marked or not: `-m "not lab"` must never start the lab."""
    lab_fixtures = {"lab", "lab_inventory"}
    for item in items:
        if lab_fixtures & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.lab)
