"""Fixtures of the audit tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def audit_dir(tmp_path: Path) -> Path:
    return tmp_path / "audit"
