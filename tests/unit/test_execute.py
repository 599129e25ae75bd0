"""Commands are logged with secrets masked."""

from __future__ import annotations

from runner.execute import mask_command


def test_secret_flag_values_are_masked() -> None:
    shown = mask_command(["restic", "--password", "hunter2", "--repo", "/r", "--token=abc"])
    assert "hunter2" not in shown and "abc" not in shown
    assert "--repo /r" in shown


def test_known_secrets_are_masked_anywhere() -> None:
    shown = mask_command(["curl", "https://user:s3cr3t@example.invalid/"], secrets=["s3cr3t"])
    assert "s3cr3t" not in shown and "****" in shown
