"""policies/patching.yml is validated by the shared policy loader: one line naming file, line and problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from runner.errors import PolicyError
from runner.patch.policy import DEFAULT_PATH, load_patching_policy, window_status


def test_shipped_policy_loads() -> None:
    policy = load_patching_policy()
    assert policy["timezone"] == "Asia/Jakarta"
    assert policy["batches"]["serial"] == [1, "30%", "100%"]
    assert policy["reboot"]["policy"] == "if_required"
    assert {"settle_s", "retries", "delay_s"} <= set(policy["validation"])


def test_bad_policy_is_one_line_with_file_line_and_problem(tmp_path: Path) -> None:
    text = DEFAULT_PATH.read_text().replace('serial: [1, "30%", "100%"]', 'serial: [1, "130%", "100%"]')
    text = text.replace("policy: if_required", "policy: sometimes")
    bad = tmp_path / "patching.yml"
    bad.write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_patching_policy(bad)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{bad}: invalid patching policy: ")
    serial_line = next(i for i, line in enumerate(text.splitlines(), 1) if "130%" in line)
    reboot_line = next(i for i, line in enumerate(text.splitlines(), 1) if "sometimes" in line)
    assert f"at 'patching_policy.batches.serial.1' (line {serial_line})" in message
    assert f"at 'patching_policy.reboot.policy' (line {reboot_line})" in message
    assert "'sometimes' is not one of" in message


def test_missing_key_names_its_parent_line_and_unknown_keys_fail(tmp_path: Path) -> None:
    bad = tmp_path / "patching.yml"
    bad.write_text("patching_policy:\n  timezone: Asia/Jakarta\n  surprise: 1\n")
    with pytest.raises(PolicyError) as caught:
        load_patching_policy(bad)
    message = str(caught.value)
    assert "at 'patching_policy' (line 1): 'windows' is a required property" in message
    assert "'surprise' was unexpected" in message


def test_logical_checks_timezone_and_window_order(tmp_path: Path) -> None:
    text = DEFAULT_PATH.read_text().replace("timezone: Asia/Jakarta", "timezone: Mars/Olympus")
    text = text.replace('start: "22:00"', 'start: "23:59"', 1)
    text = text.replace('end: "23:59"\n  # upd3.1', 'end: "01:00"\n  # upd3.1')
    bad = tmp_path / "patching.yml"
    bad.write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_patching_policy(bad)
    message = str(caught.value)
    tz_line = next(i for i, line in enumerate(text.splitlines(), 1) if "Mars" in line)
    assert f"at 'timezone' (line {tz_line}): unknown time zone 'Mars/Olympus'" in message
    assert "at 'windows.1.end'" in message and "before it starts" in message


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "patching.yml"
    broken.write_text("patching_policy:\n  windows: [unclosed\n")
    with pytest.raises(PolicyError, match=rf"{broken}: line \d+ not valid YAML"):
        load_patching_policy(broken)


def test_window_status_uses_the_policy_timezone() -> None:
    policy = {"timezone": "Asia/Jakarta", "windows": [{"days": ["sat"], "start": "01:00", "end": "05:00"}]}
    # Friday 19:30 UTC is Saturday 02:30 in Jakarta (UTC+7).
    inside = window_status(policy, dt.datetime(2024, 6, 7, 19, 30, tzinfo=dt.UTC))
    assert inside["inside"] and inside["day"] == "sat" and inside["window"] == "sat 01:00-05:00"
    outside = window_status(policy, dt.datetime(2024, 6, 7, 12, 0, tzinfo=dt.UTC))
    assert not outside["inside"] and outside["local_time"].endswith("+07:00")
