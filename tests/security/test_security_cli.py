"""`sop check` command line: user errors are one line with exit 2, --network delegates (no lab needed)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from runner.cli.main import cli
from runner.network import drift


def test_network_flag_delegates_to_the_drift_check(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(drift, "cli_check", lambda *args, **kwargs: calls.append((args, kwargs)) or 1)
    result = CliRunner().invoke(cli, ["check", "--network", "-i", "inv.yml", "--limit", "core-sw1",
                                      "--audit-dir", str(tmp_path), "--store", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert calls == [((Path("inv.yml"), "core-sw1", tmp_path), {"store": tmp_path / "s"})]


def test_no_waivers_and_waivers_exclude_each_other(tmp_path):
    waivers = tmp_path / "w.yml"
    waivers.write_text("waivers: []\n")
    result = CliRunner().invoke(cli, ["check", "--no-waivers", "--waivers", str(waivers)])
    assert result.exit_code == 2
    assert "--no-waivers and --waivers exclude each other" in result.output


def test_unknown_control_and_missing_inventory_are_user_errors(tmp_path):
    result = CliRunner().invoke(cli, ["check", "--controls", "PWD-001,NOPE-001", "-i", str(tmp_path / "x.yml")])
    assert result.exit_code == 2 and "unknown control id(s) NOPE-001" in result.output
    result = CliRunner().invoke(cli, ["check", "-i", str(tmp_path / "missing.yml")])
    assert result.exit_code == 2 and "missing.yml: no such file" in result.output
    assert "Traceback" not in result.output


def test_limit_matching_no_linux_host_is_a_user_error(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  children:\n    linux:\n      hosts:\n        a1: {}\n")
    result = CliRunner().invoke(cli, ["check", "-i", str(inventory), "--limit", "nothing-here"])
    assert result.exit_code == 2 and "no host of group 'linux' matches --limit nothing-here" in result.output


def test_malformed_waiver_file_is_reported_before_anything_runs(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  children:\n    linux:\n      hosts:\n        a1: {}\n")
    waivers = tmp_path / "waivers.yml"
    waivers.write_text("waivers:\n  - control: USB-001\n    hosts: [a1]\n")
    result = CliRunner().invoke(cli, ["check", "-i", str(inventory), "--waivers", str(waivers)])
    assert result.exit_code == 2
    assert "waiver #1 (USB-001)" in result.output and "'justification' is a required property" in result.output
