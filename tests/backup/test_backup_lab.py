"""SOP 4 on the lab: real restic repositories on the hosts (local) and on the lab's moto S3 (cloud).

Order matters (one backup is made and then verified, damaged and restored), so the tests run top to bottom
on two hosts: prod-db1 (servers + databases, with a dump hook) and ws-lt01 (workstations).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from labtools import ansible_playbook  # tests/labtools.py

from runner.ansible_run import RunOptions, run_playbook
from runner.backup.restic import Repository, Restic
from runner.lab import Lab
from runner.paths import REPO_ROOT

pytestmark = pytest.mark.lab

HOSTS = "prod-db1,ws-lt01"
BACKUP, VERIFY, RESTORE = "playbooks/backup.yml", "playbooks/backup_verify.yml", "playbooks/restore.yml"
FULL_READ = '{"backup_policy_overrides": {"verify": {"read_data_subset": "100%"}}}'
APPROVED = '{"sop_change_ref": "CHG-4242", "sop_approvals": {"IT-Manager": "Ani", "data_owner": "Budi"}}'
OUTPUTS: list[str] = []  # every ansible output of this module, searched for secrets at the end


def run(lab_inventory: Path, playbook: str, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    result = ansible_playbook(playbook, lab_inventory, *args, env=env)
    OUTPUTS.append(result.stdout + result.stderr)
    return result


def sh(lab: Lab, node: str, script: str, check: bool = True) -> str:
    return lab.exec(node, "sh", "-c", script, check=check)


@pytest.fixture(scope="module")
def backed_up(lab: Lab, lab_inventory: Path) -> Path:
    sh(lab, "prod-db1", "mkdir -p /srv/data/app && head -c 300000 /dev/urandom > /srv/data/app/blob.bin"
       " && echo 'customer ledger v1' > /srv/data/ledger.txt && echo 'notes' > /srv/data/app/notes.txt")
    result = run(lab_inventory, BACKUP, "--limit", HOSTS, "-e", "backup_reason=pytest-initial")
    assert result.returncode == 0, result.stdout[-3000:]
    return lab_inventory


@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit")


def status(lab: Lab, node: str) -> dict:
    return json.loads(lab.exec(node, "cat", "/var/lib/sop-restic-backup/status.json"))


def test_backups_land_in_both_repositories(lab: Lab, backed_up: Path) -> None:
    for node in HOSTS.split(","):
        state = status(lab, node)
        assert state["status"] == "ok"
        assert state["reason"] == "pytest-initial"
        assert [r["repository"] for r in state["repositories"]] == ["local", "cloud"]
        assert all(r["status"] == "ok" and r["snapshot_id"] for r in state["repositories"])
        local = json.loads(sh(lab, node, "RESTIC_PASSWORD_FILE=/etc/sop-restic-backup/repo-local.password "
                                         "restic --no-cache -r /srv/backup/restic snapshots --json"))
        assert node in {s["hostname"] for s in local}
    location = f"s3:{lab_s3(lab)}/sop-backups/prod-db1"
    cloud = Restic(Repository(location, lab.secrets["restic_password"],
                              env={"AWS_ACCESS_KEY_ID": lab.secrets["s3_access_key"],
                                   "AWS_SECRET_ACCESS_KEY": lab.secrets["s3_secret_key"]}, name="cloud"))
    snaps = cloud.snapshots(tags=["sop"], host="prod-db1")
    assert snaps, "no snapshot of prod-db1 in the cloud repository"
    assert "/srv/data" in snaps[-1]["paths"] and "/var/backups/db" in snaps[-1]["paths"]
    # the databases pre-backup hook made the dump that was backed up
    assert "stand-in dump" in lab.exec("prod-db1", "cat", "/var/backups/db/all.sql")


def lab_s3(lab: Lab) -> str:
    return f"http://127.0.0.1:{lab.s3_port}"


def test_timer_is_active_daily_persistent_randomized(lab: Lab, backed_up: Path) -> None:
    assert sh(lab, "ws-lt01", "systemctl is-active sop-restic-backup.timer").strip() == "active"
    assert sh(lab, "ws-lt01", "systemctl is-enabled sop-restic-backup.timer").strip() == "enabled"
    timer = lab.exec("ws-lt01", "cat", "/etc/systemd/system/sop-restic-backup.timer")
    assert "OnCalendar=daily" in timer and "Persistent=true" in timer and "RandomizedDelaySec=3600" in timer


def test_service_logs_to_journald_and_writes_status(lab: Lab, backed_up: Path) -> None:
    sh(lab, "ws-lt01", "systemctl start sop-restic-backup.service")  # oneshot: returns when done
    state = status(lab, "ws-lt01")
    assert state["reason"] == "timer" and state["status"] == "ok"
    journal = sh(lab, "ws-lt01", "journalctl -u sop-restic-backup.service --no-pager -o cat")
    OUTPUTS.append(journal)
    assert "repository cloud: ok" in journal


def test_second_run_changes_nothing_and_check_mode_works(lab: Lab, backed_up: Path, audit_dir: Path) -> None:
    # through the runner (sop run), so the audit record and reports exist for the secrets test below
    again = run_playbook(RunOptions(playbook=REPO_ROOT / BACKUP, inventory=[str(backed_up)], limit=HOSTS,
                                    extra_vars={"backup_run_now": False}, reason="pytest idempotence",
                                    audit_dir=audit_dir))
    OUTPUTS.append(again.output_tail)
    assert again.status == "success", again.output_tail
    assert again.record is not None
    assert {h: int(c["changed"]) for h, c in again.record["hosts"].items()} == {"prod-db1": 0, "ws-lt01": 0}
    dry = run(backed_up, BACKUP, "--limit", "ws-lt01", "--check", "--diff")
    assert dry.returncode == 0, dry.stdout[-3000:]
    assert "check mode: a backup would be made now" in dry.stdout or "changed" in dry.stdout


def test_verify_passes_when_healthy(backed_up: Path) -> None:
    result = run(backed_up, VERIFY, "--limit", HOSTS, "-v", "-e", FULL_READ)  # -v: show the passing msg
    assert result.returncode == 0, result.stdout[-3000:]
    out = " ".join(result.stdout.split())
    for host in HOSTS.split(","):
        assert f"backup verification on {host}: repository local: pass; repository cloud: pass" in out


def test_verify_fails_when_latest_snapshot_too_old(backed_up: Path) -> None:
    result = run(backed_up, VERIFY, "--limit", "prod-db1",
                 "-e", '{"backup_policy_overrides": {"verify": {"max_snapshot_age_hours": 0.0001}}}')
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert "backup verification on prod-db1: repository local: FAILED snapshot_age" in out
    assert "repository cloud: FAILED snapshot_age" in out


def test_verify_fails_when_sampled_file_does_not_match(lab: Lab, backed_up: Path) -> None:
    """Same size and mtime as in the snapshot but other content: silent corruption, which must fail."""
    sh(lab, "prod-db1", "cp -p /srv/data/ledger.txt /root/ledger.orig"
                        " && echo 'customer ledger v9' > /srv/data/ledger.txt"
                        " && touch -r /root/ledger.orig /srv/data/ledger.txt")
    try:
        result = run(backed_up, VERIFY, "--limit", "prod-db1",
                     "-e", '{"backup_verify_sample_include": ["/srv/data/ledger.txt"]}')
    finally:
        sh(lab, "prod-db1", "cp -p /root/ledger.orig /srv/data/ledger.txt")
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert "prod-db1: repository local: FAILED spot_check (content differs: /srv/data/ledger.txt)" in out
    assert "repository cloud: FAILED spot_check (content differs: /srv/data/ledger.txt)" in out


def test_verify_treats_a_legitimate_change_as_changed_not_failed(lab: Lab, backed_up: Path) -> None:
    """A file edited after the snapshot (new mtime) is reported as changed since the snapshot, not failed."""
    sh(lab, "prod-db1", "cp -p /srv/data/app/notes.txt /root/notes.orig"
                        " && echo 'edited' >> /srv/data/app/notes.txt")
    try:
        result = run(backed_up, VERIFY, "--limit", "prod-db1", "-v",
                     "-e", '{"backup_verify_sample_include": ["/srv/data/app/notes.txt"]}')
    finally:
        sh(lab, "prod-db1", "cp -p /root/notes.orig /srv/data/app/notes.txt")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "changed_since_snapshot:\n" in result.stdout and "- /srv/data/app/notes.txt" in result.stdout


def test_verify_fails_on_corrupted_pack_and_still_verifies_the_rest(lab: Lab, backed_up: Path) -> None:
    pack = sh(lab, "ws-lt01", "ls -S /srv/backup/restic/data/*/* | head -1").strip()
    sh(lab, "ws-lt01", f"printf 'CORRUPTCORRUPT' | dd of={pack} bs=1 seek=300 conv=notrunc 2>/dev/null")
    try:
        result = run(backed_up, VERIFY, "--limit", HOSTS, "-v", "-e", FULL_READ)
    finally:  # heal: a fresh local repository and a new backup, with the installed script
        sh(lab, "ws-lt01", "rm -rf /srv/backup/restic")
        healed = lab.exec("ws-lt01", "sh", "-c", "sop-restic-backup --init --json >/dev/null && "
                          "sop-restic-backup --reason healed --json", check=False)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert "backup verification on ws-lt01: repository local: FAILED restic_check" in out
    assert "repository cloud: pass" in out.split("backup verification on ws-lt01")[1]
    assert "backup verification on prod-db1: repository local: pass; repository cloud: pass" in out
    assert json.loads(healed.splitlines()[-1])["status"] == "ok", healed[-2000:]


@pytest.mark.parametrize("extra", [
    '{}',
    '{"sop_change_ref": "CHG-1"}',
    '{"sop_change_ref": "CHG-1", "sop_approvals": {"it_manager": "Ani"}}',
    '{"sop_change_ref": "CHG-1", "sop_approvals": {"it_manager": "Ani", "data_owner": "ani"}}',
    '{"sop_approvals": {"it_manager": "Ani", "data_owner": "Budi"}}',
    '{"restore_host": "prod-db1:ws-lt01", "sop_change_ref": "CHG-1",'
    ' "sop_approvals": {"it_manager": "Ani", "data_owner": "Budi"}}',
], ids=["nothing", "ref-only", "one-approval", "same-person", "no-ref", "two-hosts"])
def test_restore_refuses_without_ref_and_two_approvals(lab: Lab, backed_up: Path, extra: str) -> None:
    result = run(backed_up, RESTORE, "-e", "restore_host=prod-db1", "-e", extra,
                 "-e", "restore_target=/var/restore/refused")
    assert result.returncode != 0
    assert "REFUSED: a restore needs a change/ticket ref" in result.stdout
    assert "Restore to the alternate path" not in result.stdout
    assert sh(lab, "prod-db1", "test -e /var/restore/refused && echo yes || echo no").strip() == "no"


def test_restore_with_approvals_restores_matching_files(lab: Lab, backed_up: Path) -> None:
    result = run(backed_up, RESTORE, "-v", "-e", "restore_host=prod-db1", "-e", APPROVED,
                 "-e", '{"restore_paths": ["/srv/data"], "restore_repository": "cloud"}')
    assert result.returncode == 0, result.stdout[-3000:]
    assert "sla_met: true" in result.stdout and "passed: true" in result.stdout
    target = "/var/restore/CHG-4242"
    live = sh(lab, "prod-db1", "cd /srv/data && find . -type f | sort | xargs sha256sum")
    restored = sh(lab, "prod-db1", f"cd {target}/srv/data && find . -type f | sort | xargs sha256sum")
    assert live == restored and "blob.bin" in live
    # the original files were not touched: restore went to the alternate path
    assert sh(lab, "prod-db1", "cat /srv/data/ledger.txt").strip() == "customer ledger v1"


def test_restore_check_mode_restores_nothing(lab: Lab, backed_up: Path) -> None:
    result = run(backed_up, RESTORE, "--check", "-e", "restore_host=prod-db1", "-e", APPROVED,
                 "-e", "restore_target=/var/restore/dry")
    assert result.returncode == 0, result.stdout[-3000:]
    assert sh(lab, "prod-db1", "test -e /var/restore/dry && echo yes || echo no").strip() == "no"


def test_secrets_appear_in_no_artifact(lab: Lab, backed_up: Path, audit_dir: Path) -> None:
    secrets = [lab.secrets["restic_password"], lab.secrets["s3_secret_key"]]
    for output in OUTPUTS:
        for secret in secrets:
            assert secret not in output
    audit_files = [p for p in audit_dir.rglob("*") if p.is_file()]
    assert any(p.name == "record.json" for p in audit_files)
    for path in audit_files:
        content = path.read_bytes()
        assert all(secret.encode() not in content for secret in secrets), path
    for node in HOSTS.split(","):
        # as the unprivileged user: the status file is readable and clean, the secret files are not readable
        state = lab.exec(node, "runuser", "-u", "sop", "--", "cat", "/var/lib/sop-restic-backup/status.json")
        assert all(secret not in state for secret in secrets)
        denied = lab.exec(node, "runuser", "-u", "sop", "--", "cat", "/etc/sop-restic-backup/repo-cloud.env",
                          check=False)
        assert all(secret not in denied for secret in secrets)
        modes = sh(lab, node, "stat -c '%a %U %n' /etc/sop-restic-backup /etc/sop-restic-backup/*")
        assert all(line.startswith(("700 root", "600 root")) for line in modes.splitlines()), modes
        journal = sh(lab, node, "journalctl --no-pager -o cat | tail -n 2000")
        assert all(secret not in journal for secret in secrets)


def test_failed_cloud_backup_report_names_the_real_cause(lab: Lab, lab_inventory: Path, audit_dir: Path) -> None:
    """A cloud endpoint whose name does not resolve (as on a lab without podman DNS): the console and every report
    say what restic said ("lookup ... no such host"), not ansible's generic "non-zero return code"."""
    outcome = run_playbook(RunOptions(playbook=REPO_ROOT / BACKUP, inventory=[str(lab_inventory)], limit="ws-lt02",
                                      extra_vars={"sop_lab_s3_endpoint": "http://s3-gone:5000"},
                                      audit_dir=audit_dir, reason="pytest: unresolvable cloud endpoint"))
    assert outcome.status == "failed", outcome.summary()
    assert outcome.record is not None
    failed = [r for p in outcome.record["plays"] for t in p["tasks"] for r in t["results"]
              if r["status"] == "failed" and not r.get("ignored")]
    assert failed and all("s3-gone" in r["reason"] and "no such host" in r["reason"] for r in failed), failed
    for fmt in ("md", "html", "json"):
        text = outcome.report_paths[fmt].read_text()
        assert "no such host" in text and "s3-gone" in text, fmt
