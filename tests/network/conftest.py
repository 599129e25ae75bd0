"""Fixtures of the network SOP tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runner.lab import Lab
from runner.network import backup as backup_mod
from runner.network.collect import Fetch, classify
from runner.network.devices import Device


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> dict[str, str | BaseException]:
    """What each fake device answers to run_backup: its configuration (running = startup), or the exception its
    session raises (a failed fetch, classified as the real collector does). Only the fetch is replaced."""
    current: dict[str, str | BaseException] = {}

    def fake_fetch_all(devices: list[Device], **_: object) -> list[Fetch]:
        out = []
        for device in devices:
            value = current[device.name]
            if isinstance(value, BaseException):
                out.append(Fetch(device.name, False, error_kind=classify(value), error=str(value)))
            else:
                out.append(Fetch(device.name, True, {"running": value, "startup": value}))
        return out

    monkeypatch.setattr(backup_mod, "fetch_all", fake_fetch_all)
    return current


@pytest.fixture
def stopped(lab: Lab) -> Iterator[list[str]]:
    """Nodes a test stops are started again afterwards, whatever happens."""
    names: list[str] = []
    yield names
    for name in names:
        lab.start(name)
