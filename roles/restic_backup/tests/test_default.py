"""Molecule verifier of restic_backup: installed, configured with root-only secrets, repositories, timer."""

import json

import testinfra


def test_restic_installed(host: "testinfra.host.Host") -> None:
    assert host.package("restic").is_installed


def test_secret_files_are_root_only(host: "testinfra.host.Host") -> None:
    directory = host.file("/etc/sop-restic-backup")
    assert directory.user == "root" and directory.mode == 0o700
    for name in ("repo-local.password", "repo-local.env", "repo-cloud.password", "repo-cloud.env"):
        secret = host.file(f"/etc/sop-restic-backup/{name}")
        assert secret.user == "root" and secret.mode == 0o600


def test_backup_set_and_retention(host: "testinfra.host.Host") -> None:
    config = json.loads(host.file("/etc/sop-restic-backup/config.json").content_string)
    assert config["paths"] == ["/etc", "/home"]
    assert "/srv/backup/restic" in config["excludes"]
    assert config["retention"]["keep_daily"] == 3
    assert [r["name"] for r in config["repositories"]] == ["local", "cloud"]


def test_local_repository_initialised(host: "testinfra.host.Host") -> None:
    assert host.file("/srv/backup/restic/config").exists


def test_timer_enabled_and_active(host: "testinfra.host.Host") -> None:
    timer = host.service("sop-restic-backup.timer")
    assert timer.is_enabled and timer.is_running
    unit = host.file("/etc/systemd/system/sop-restic-backup.timer").content_string
    assert "Persistent=true" in unit and "RandomizedDelaySec=" in unit


def test_backup_service_runs_and_reports(host: "testinfra.host.Host") -> None:
    host.run_expect([0], "systemctl start sop-restic-backup.service")
    status = json.loads(host.file("/var/lib/sop-restic-backup/status.json").content_string)
    assert status["status"] == "ok"
    assert {r["repository"]: r["status"] for r in status["repositories"]} == {"local": "ok", "cloud": "ok"}
