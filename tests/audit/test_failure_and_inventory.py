"""What stops a run reaches the people who read it: a failed task's own error (not ansible's generic message) in
the console and every report, and an inventory that does not parse (or selects no host) is a recorded error with
a non-zero exit under `sop run`, `sop check` and plain ansible-playbook -- never a success on zero hosts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_helpers import PLAYBOOKS, ansible_playbook, clean_env, load_record, sop

from runner.audit.failure import failure_reason
from runner.paths import PLAYBOOKS as SOP_PLAYBOOKS

LOCAL = "h1,h2,"  # two local hosts, so each play fails on its own host
LOCAL_VARS = ["-e", '{"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}']
CAUSE = "lookup s3 on 169.254.77.3:53: no such host"


def test_generic_message_is_followed_by_stderr() -> None:
    reason = failure_reason({"msg": "non-zero return code", "rc": 1, "stderr": "warming up\nFatal: " + CAUSE})
    assert reason == f"non-zero return code: warming up | Fatal: {CAUSE}"


def test_json_errors_a_script_printed_win_over_stderr() -> None:
    out = json.dumps({"errors": [{"repository": "s3:x", "error_kind": "unreachable", "error": "no such host"}]})
    reason = failure_reason({"msg": "non-zero return code", "stdout": "log line\n" + out, "stderr": "noise"})
    assert reason == "non-zero return code: s3:x: unreachable: no such host"


def test_a_specific_message_is_kept_as_is() -> None:
    assert failure_reason({"msg": "backup FAILED on h1: s3 (unreachable)", "stderr": "x"}) == \
        "backup FAILED on h1: s3 (unreachable)"
    assert failure_reason({"rc": 2}) == "rc=2"


def _run_id(stdout: str) -> str:
    return stdout.split("run ", 1)[1].split(":", 1)[0]


def test_failed_task_shows_its_own_error_in_console_and_reports(audit_dir: Path) -> None:
    result = sop("run", str(PLAYBOOKS / "stderr_failure.yml"), "-i", LOCAL, *LOCAL_VARS,
                 "--audit-dir", str(audit_dir), "-q")
    assert result.returncode == 7, result.stdout + result.stderr
    assert CAUSE in result.stdout  # the console summary, not just "non-zero return code"
    run_dir = audit_dir / "runs" / _run_id(result.stdout)
    record = load_record(audit_dir, run_dir.name)
    reasons = [r["reason"] for p in record["plays"] for t in p["tasks"] for r in t["results"] if "reason" in r]
    assert reasons[0] == f"non-zero return code: Fatal: unable to open config file: dial tcp: {CAUSE}"
    assert reasons[1] == "non-zero return code: s3:http://s3:5000/b: unreachable: no such host"
    for fmt in ("md", "html", "json"):
        text = (run_dir / f"report.{fmt}").read_text()
        assert CAUSE in text, fmt
        assert "s3:http://s3:5000/b: unreachable: no such host" in text, fmt


@pytest.fixture
def broken_inventory(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yml"
    path.write_text("all:\n  hosts:\n    web1:\n   bad: [\n")
    return path


def _only_run(audit_dir: Path) -> dict:
    runs = sorted((audit_dir / "runs").iterdir())
    assert len(runs) == 1
    return load_record(audit_dir, runs[0].name)


def test_sop_run_on_a_broken_inventory_is_a_recorded_error(broken_inventory: Path, audit_dir: Path) -> None:
    result = sop("run", str(SOP_PLAYBOOKS / "inventory.yml"), "-i", str(broken_inventory),
                 "--audit-dir", str(audit_dir), "-q")
    assert result.returncode == 1, result.stdout + result.stderr
    first = result.stdout.splitlines()[0]
    assert f"error - nothing was done: inventory {broken_inventory}: line 4: not valid YAML" in first
    assert "Traceback" not in result.stdout + result.stderr
    record = _only_run(audit_dir)
    assert record["status"] == "error"
    assert record["error"].startswith(f"inventory {broken_inventory}: line 4")
    assert record["plays"] == [] and record["hosts"] == {}
    assert "NOTHING WAS DONE" in (audit_dir / "runs" / record["run_id"] / "report.md").read_text()
    verify = sop("audit", "verify", "--audit-dir", str(audit_dir))
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.parametrize(("content", "expected"), [
    ("all: {}\n", "no hosts"),
    ("all:\n  hosts: [a, b]\n", "yaml plugin: Invalid \"hosts\" entry"),
])
def test_sop_run_refuses_inventories_that_select_nothing(tmp_path: Path, audit_dir: Path, content: str,
                                                         expected: str) -> None:
    inventory = tmp_path / "inv.yml"
    inventory.write_text(content)
    result = sop("run", str(SOP_PLAYBOOKS / "inventory.yml"), "-i", str(inventory), "--audit-dir",
                 str(audit_dir), "-q")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"inventory {inventory}: {expected}" in result.stdout.splitlines()[0]
    assert _only_run(audit_dir)["status"] == "error"


def test_sop_check_on_a_broken_inventory_names_it_and_records_it(broken_inventory: Path, audit_dir: Path) -> None:
    result = sop("check", "-i", str(broken_inventory), "--audit-dir", str(audit_dir))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"inventory {broken_inventory}: line 4: not valid YAML" in result.stderr.splitlines()[0]
    assert "Traceback" not in result.stderr
    assert _only_run(audit_dir)["status"] == "error"


def test_plain_ansible_playbook_fails_on_a_broken_inventory(broken_inventory: Path, audit_dir: Path) -> None:
    result = ansible_playbook(SOP_PLAYBOOKS / "inventory.yml", broken_inventory,
                              env=clean_env(SOP_AUDIT_DIR=str(audit_dir)))
    assert result.returncode != 0
    assert f"Completely failed to parse inventory source {broken_inventory}" in result.stdout + result.stderr


def test_plain_ansible_playbook_on_zero_hosts_exits_non_zero_and_records_error(tmp_path: Path,
                                                                              audit_dir: Path) -> None:
    inventory = tmp_path / "empty.yml"
    inventory.write_text("all:\n  children:\n    staging:\n      hosts: {}\n")
    result = ansible_playbook(SOP_PLAYBOOKS / "inventory.yml", inventory,
                              env=clean_env(SOP_AUDIT_DIR=str(audit_dir)))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no host matched any play" in result.stdout + result.stderr
    record = _only_run(audit_dir)
    assert record["status"] == "error" and record["error"].startswith("no host matched")


def test_ansible_stopping_before_the_first_play_is_a_recorded_error(audit_dir: Path) -> None:
    result = sop("run", str(PLAYBOOKS / "ok.yml"), "-i", LOCAL, "--limit", "nosuch", "--audit-dir", str(audit_dir),
                 "-q")
    assert result.returncode == 1, result.stdout + result.stderr
    record = _only_run(audit_dir)
    assert record["status"] == "error"
    assert record["error"] == "Specified inventory, host pattern and/or --limit leaves us with no hosts to target."
    assert record["error"] in result.stdout.splitlines()[0]
