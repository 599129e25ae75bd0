"""Real runs on the lab (real SSH): sop run, plain ansible-playbook, AWX-style ansible-runner, exit codes,
check/diff mode, interrupted and killed runs, and secrets that must not reach any artifact."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import ansible_runner
import pytest
from ansible.parsing.vault import VaultLib, VaultSecret
from audit_helpers import PLAYBOOKS, SOP, ansible_playbook, clean_env, find_in_artifacts, load_record, sop

from runner.ansible_run import _remove_stale_private_dirs
from runner.audit import PLACEHOLDER, AuditStore, validate, verify
from runner.paths import PLAYBOOKS as REPO_PLAYBOOKS
from runner.paths import REPO_ROOT

pytestmark = pytest.mark.lab
TWO = "stg-app1,ws-lt01"


def only_run(audit_dir: Path) -> str:
    runs = AuditStore(audit_dir).run_ids()
    assert len(runs) == 1, runs
    return runs[0]


def results(record: dict, task_name: str) -> list[dict]:
    return [
        r
        for p in record["plays"]
        for t in p["tasks"]
        if t["name"].startswith(task_name)
        for r in t["results"]
    ]


def test_sop_run_records_check_diff_and_reports(lab_inventory: Path, audit_dir: Path) -> None:
    playbook = PLAYBOOKS / "ok.yml"
    out = sop(
        "run",
        str(playbook),
        "-i",
        str(lab_inventory),
        "--limit",
        TWO,
        "--check",
        "--diff",
        "--change-ref",
        "CR-2024-017",
        "--approved-by",
        "it_manager=Budi",
        "--approved-by",
        "owner=Sari",
        "--reason",
        "audit test",
        "-e",
        "sop_test_marker=m1",
        "--audit-dir",
        str(audit_dir),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "TASK Write a scratch file | sop6.1" in out.stdout
    assert "changed      stg-app1" in out.stdout and "skipped      ws-lt01" in out.stdout
    assert ": success [check mode] - 2 hosts" in out.stdout
    run_id = only_run(audit_dir)
    assert f"report (html): {audit_dir.resolve()}/runs/{run_id}/report.html" in out.stdout
    record = load_record(audit_dir, run_id)
    assert validate(record) == []
    assert record["check"] is True and record["diff"] is True and record["status"] == "success"
    assert record["change_ref"] == "CR-2024-017" and record["reason"] == "audit test"
    assert record["approvals"] == {"it_manager": "Budi", "owner": "Sari"}
    assert record["entry_point"] == "sop run" and record["limit"] == TWO
    assert record["playbook"]["sha256"] == hashlib.sha256(playbook.read_bytes()).hexdigest()
    commit = record["repository"]["commit"]  # HEAD then; other commits may have landed since
    ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", commit, "HEAD"], cwd=REPO_ROOT, check=False)
    assert ancestor.returncode == 0 and isinstance(record["repository"]["dirty"], bool)
    copy = results(record, "Write a scratch file")
    assert {r["host"] for r in copy} == {"stg-app1", "ws-lt01"}
    assert all(r["changed"] and r["diff"] and r["duration_s"] is not None for r in copy)
    task = next(t for p in record["plays"] for t in p["tasks"] if t["name"].startswith("Write"))
    assert task["sop_steps"] == ["sop6.1"] and task["iso_controls"] == ["5.37"]
    assert all(r["status"] == "skipped" for r in results(record, "Skipped on purpose"))
    assert [i["item"] for i in results(record, "Loop over")[0]["items"]] == ["alpha", "beta", "gamma"]
    assert results(record, "Return evidence")[0]["evidence"] == {"scratch_file": "/tmp/sop-audit-scratch.txt"}
    assert record["hosts"]["stg-app1"]["changed"] == 1
    html = (audit_dir / "runs" / run_id / "report.html").read_text()
    assert "CHECK MODE" in html and "Budi" in html and "sop6.1: " in html
    assert not list(Path(tempfile.gettempdir()).glob(f"sop-run-{run_id}-*")), "runner's private dir was kept"
    assert verify(AuditStore(audit_dir)).ok
    listed = sop(
        "audit",
        "list",
        "--sop",
        "sop6.1",
        "--host",
        "ws-lt01",
        "--status",
        "success",
        "--audit-dir",
        str(audit_dir),
    )
    assert run_id in listed.stdout
    assert sop("audit", "list", "--sop", "upd", "--audit-dir", str(audit_dir)).stdout == ""
    shown = sop("audit", "show", run_id[-8:], "--audit-dir", str(audit_dir))
    assert shown.returncode == 0 and "CR-2024-017" in shown.stdout
    (audit_dir / "runs" / run_id / "report.md").unlink()
    rerendered = sop("report", run_id, "--audit-dir", str(audit_dir))
    assert rerendered.returncode == 0 and (audit_dir / "runs" / run_id / "report.md").exists()


def test_exit_codes_and_tampering_via_cli(lab_inventory: Path, audit_dir: Path) -> None:
    base = ["-i", str(lab_inventory), "--limit", TWO, "--audit-dir", str(audit_dir), "-q"]
    failed = sop("run", str(PLAYBOOKS / "failed.yml"), *base)
    assert failed.returncode == 7, failed.stdout + failed.stderr
    assert "FAILED stg-app1: Fail on the first host only" in failed.stdout
    refused = sop("run", str(PLAYBOOKS / "gate.yml"), *base)
    assert refused.returncode == 5, refused.stdout + refused.stderr
    assert "REFUSED" in refused.stdout and "restore needs an approval" in refused.stdout
    tagged = sop("run", str(PLAYBOOKS / "gate.yml"), *base, "--tags", "sop4.3")  # --tags cannot skip a gate
    assert tagged.returncode == 5, tagged.stdout + tagged.stderr
    approved = sop("run", str(PLAYBOOKS / "gate.yml"), *base, "-e", "sop_approved=true")
    assert approved.returncode == 0, approved.stdout
    unreachable = sop(
        "run",
        str(PLAYBOOKS / "unreachable.yml"),
        "-i",
        "nohost.invalid,",
        "-e",
        "ansible_host=127.0.0.1 ansible_port=1 ansible_connection=ssh",
        "--audit-dir",
        str(audit_dir),
        "-q",
    )
    assert unreachable.returncode == 4, unreachable.stdout + unreachable.stderr
    store = AuditStore(audit_dir)
    records = [store.load(store.run(r)) for r in store.run_ids()]
    assert [r["status"] for r in records] == ["failed", "refused", "refused", "success", "unreachable"]
    assert records[2]["tags"] == ["sop4.3"]
    fail_rec, gate_rec = records[0], records[1]
    ignored = results(fail_rec, "Ignored failure")  # stg-app1 stopped at its failure
    assert [(r["host"], r["ignored"]) for r in ignored] == [("ws-lt01", True)]
    assert (
        fail_rec["hosts"]["ws-lt01"]["status"] == "ok" and fail_rec["hosts"]["stg-app1"]["status"] == "failed"
    )
    assert {g["host"] for g in gate_rec["refusals"]} == {"stg-app1", "ws-lt01"}
    assert results(gate_rec, "Protected action") == [], "the protected action ran despite the refusal"
    assert all(validate(r) == [] for r in records)
    assert sop("audit", "verify", "--audit-dir", str(audit_dir)).returncode == 0
    ledger = audit_dir / "ledger.jsonl"
    original = ledger.read_bytes()
    third = original.index(b"\n", original.index(b"\n") + 1) + 1
    flipped = bytearray(original)
    flipped[third + 40] ^= 0x01
    ledger.write_bytes(bytes(flipped))
    broken = sop("audit", "verify", "--audit-dir", str(audit_dir))
    assert broken.returncode == 6 and "line 3" in broken.stderr, broken.stderr
    ledger.write_bytes(original)
    assert sop("audit", "verify", "--audit-dir", str(audit_dir)).returncode == 0


def test_plain_ansible_playbook_from_ci_is_recorded(lab_inventory: Path, audit_dir: Path) -> None:
    env = clean_env(
        SOP_AUDIT_DIR=str(audit_dir),
        GITHUB_ACTIONS="true",
        GITHUB_ACTOR="ci-bot",
        GITHUB_RUN_ID="991",
        GITHUB_REPOSITORY="acme/sop",
    )
    result = ansible_playbook(
        PLAYBOOKS / "ok.yml", lab_inventory, "--limit", "stg-app1", "-e", "sop_change_ref=CR-9", env=env
    )
    assert result.returncode == 0, result.stdout
    record = load_record(audit_dir, only_run(audit_dir))
    assert record["entry_point"] == "ansible-playbook" and record["change_ref"] == "CR-9"
    assert record["operator"]["source"] == "ci" and record["operator"]["user"] == "ci-bot"
    assert record["operator"]["job_id"] == "991" and record["check"] is False
    assert validate(record) == [] and verify(AuditStore(audit_dir)).ok


def test_awx_style_ansible_runner_is_recorded(lab_inventory: Path, audit_dir: Path, tmp_path: Path) -> None:
    # What AWX checks out: playbooks with their callback_plugins/ (the shim) and collections/ (playbooks/collections
    # links to the repository's collections/) beside them.
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PLAYBOOKS / "ok.yml", project / "ok.yml")
    for name in ("callback_plugins", "collections"):
        shutil.copytree(REPO_PLAYBOOKS / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    awx_lib = tmp_path / "awx_lib"  # AWX points ANSIBLE_CALLBACK_PLUGINS at its own folder
    awx_lib.mkdir()
    (tmp_path / "pdd").mkdir()
    env = {
        "ANSIBLE_CALLBACK_PLUGINS": str(awx_lib),
        "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "awx_collections"),  # AWX sets its own collections path too
        "JOB_ID": "4242",
        "AWX_HOST": "https://awx.example",
        "SOP_AUDIT_DIR": str(audit_dir),
        "PATH": f"{REPO_ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
    }
    run = ansible_runner.run(
        private_data_dir=str(tmp_path / "pdd"),
        project_dir=str(project),
        playbook="ok.yml",
        inventory=str(lab_inventory),
        limit="stg-app1",
        envvars=env,
        quiet=True,
        extravars={"awx_job_id": 4242, "awx_user_name": "alice", "awx_job_template_name": "Nightly health"},
    )
    assert run.rc == 0, run.stdout.read()[-3000:]
    record = load_record(audit_dir, only_run(audit_dir))
    assert record["entry_point"] == "awx"
    assert (record["operator"]["source"], record["operator"]["user"], record["operator"]["job_id"]) == (
        "awx",
        "alice",
        "4242",
    )
    assert record["operator"]["job"] == "Nightly health"
    assert validate(record) == [] and verify(AuditStore(audit_dir)).ok


def _start_slow(lab_inventory: Path, audit_dir: Path) -> tuple[subprocess.Popen, str, int]:
    proc = subprocess.Popen(
        [
            str(SOP),
            "run",
            str(PLAYBOOKS / "slow.yml"),
            "-i",
            str(lab_inventory),
            "--limit",
            "stg-app1",
            "-e",
            "sop_test_sleep=15",
            "--audit-dir",
            str(audit_dir),
            "-q",
        ],
        cwd=REPO_ROOT,
        env=clean_env(),
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        events = list((audit_dir / "runs").glob("*/events.jsonl")) if (audit_dir / "runs").exists() else []
        if events and '"name":"Sleep | sop6.1"' in events[0].read_text():
            first = json.loads(events[0].read_text().splitlines()[0])
            return proc, events[0].parent.name, int(first["run"]["controller"]["pid"])
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("the slow task never started")


def test_kill_9_leaves_partial_record_that_verify_seals(lab_inventory: Path, audit_dir: Path) -> None:
    proc, run_id, ansible_pid = _start_slow(lab_inventory, audit_dir)
    time.sleep(0.5)
    os.kill(ansible_pid, signal.SIGKILL)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    store = AuditStore(audit_dir)
    assert not store.run(run_id).record.exists()
    partial = store.load(store.run(run_id))
    assert partial["status"] == "running" and results(partial, "Quick first step")
    out = sop("audit", "verify", "--audit-dir", str(audit_dir))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"run {run_id}: aborted" in out.stdout
    record = load_record(audit_dir, run_id)
    assert record["status"] == "aborted" and record["sealed_by"] == "sop audit verify"
    assert results(record, "Quick first step")[0]["status"] == "ok"
    assert results(record, "Sleep") == []
    assert validate(record) == []
    again = verify(store)
    assert again.ok and run_id in again.aborted and not again.sealed
    listed = sop("audit", "list", "--status", "aborted", "--audit-dir", str(audit_dir))
    assert run_id in listed.stdout
    _remove_stale_private_dirs()  # what the next `sop run` does first
    assert not list(Path(tempfile.gettempdir()).glob(f"sop-run-{run_id}-*")), "killed run's private dir kept"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_interrupt_is_sealed_by_the_callback(lab_inventory: Path, audit_dir: Path, signum: int) -> None:
    proc, run_id, ansible_pid = _start_slow(lab_inventory, audit_dir)
    os.kill(ansible_pid, signum)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, output
    record = load_record(audit_dir, run_id)
    assert record["status"] == "aborted" and signal.Signals(signum).name in record["abort_reason"]
    assert validate(record) == [] and verify(AuditStore(audit_dir)).ok


def _vault_file(tmp_path: Path, password: str, secret: str) -> Path:
    vault = VaultLib([("default", VaultSecret(password.encode()))])
    cipher = vault.encrypt(secret).decode()
    path = tmp_path / "vaulted.yml"
    path.write_text("vault_db_password: !vault |\n" + "".join(f"  {line}\n" for line in cipher.splitlines()))
    return path


def test_secrets_reach_no_artifact(lab: object, lab_inventory: Path, audit_dir: Path, tmp_path: Path) -> None:
    vault_secret, token, vault_password = "VAULT-s3cret-4711", "TOKEN-abc-9876", "vault-pw-5150"
    password_file = tmp_path / "vault-pass"
    password_file.write_text(vault_password)
    vault_file = _vault_file(tmp_path, vault_password, vault_secret)
    args = [
        str(PLAYBOOKS / "secrets.yml"),
        "-i",
        str(lab_inventory),
        "--limit",
        "stg-app1",
        "--diff",
        "--vault-password-file",
        str(password_file),
        "-e",
        f"sop_test_vault_file={vault_file}",
        "-e",
        f"plain_api_token={token}",
        "--audit-dir",
        str(audit_dir),
    ]
    out = sop("run", *args)
    assert out.returncode == 0, out.stdout + out.stderr
    plain = ansible_playbook(args[0], lab_inventory, *args[3:-2], env=clean_env(SOP_AUDIT_DIR=str(audit_dir)))
    assert plain.returncode == 0, plain.stdout
    needles = [vault_secret, token, vault_password, "NOLOG-42-1337-MARK"]
    needles += [v for v in lab.secrets.values() if isinstance(v, str) and len(v) >= 6]  # type: ignore[attr-defined]
    assert find_in_artifacts(audit_dir, needles) == []
    assert not [n for n in needles[:4] if n in out.stdout + out.stderr]
    store = AuditStore(audit_dir)
    for run_id in store.run_ids():
        record = load_record(audit_dir, run_id)
        assert record["extra_vars"]["plain_api_token"] == PLACEHOLDER
        assert results(record, "Evidence with a secret")[0]["evidence"]["db_password"] == PLACEHOLDER
        assert PLACEHOLDER in results(record, "Message that mentions")[0]["msg"]
        hidden = results(record, "Print a value computed")[0]
        assert hidden["censored"] is True and hidden["status"] == "ok"
        assert PLACEHOLDER in results(record, "Failure whose stderr")[0]["stderr"]
    assert len(store.run_ids()) == 2 and verify(store).ok
    assert not [p for r in store.run_ids() for p in Path(tempfile.gettempdir()).glob(f"sop-run-{r}-*")]
