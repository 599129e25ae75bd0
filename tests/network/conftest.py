"""Fixtures of the network SOP lab tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runner.lab import Lab


@pytest.fixture
def stopped(lab: Lab) -> Iterator[list[str]]:
    """Nodes a test stops are started again afterwards, whatever happens."""
    names: list[str] = []
    yield names
    for name in names:
        lab.start(name)
