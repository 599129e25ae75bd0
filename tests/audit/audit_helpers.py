"""Helpers shared by the audit tests: synthetic runs (no ansible) and artifact scanning."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import labtools

from runner.audit.events import EventLog
from runner.audit.record import build_record, final_status
from runner.audit.store import AuditStore, new_run_id
from runner.paths import REPO_ROOT


def fake_run(
    store: AuditStore,
    *,
    hosts: tuple[str, ...] = ("h1", "h2"),
    failed: str | None = None,
    finish: bool = True,
    started: str | None = None,
    controller_host: str | None = None,
    evidence: dict[str, Any] | None = None,
    playbook: str = "/x/p.yml",
    task: dict[str, Any] | None = None,
    change_ref: str | None = "CR-1",
) -> str:
    """A run written the way the callback writes one (events, start entry, record, end entry): one task (by
    default a backup task tagged sop4.1) with ``evidence`` on every host."""
    run_id = new_run_id()
    run = store.run(run_id)
    log = EventLog(run.events)
    events: list[dict[str, Any]] = []
    header = {
        "run_id": run_id,
        "started": started or "2024-05-31T10:00:00.000Z",
        "entry_point": "test",
        "operator": {"source": "interactive", "user": "tester"},
        "controller": {"host": controller_host or socket.gethostname(), "pid": 999_999_999},
        "playbook": {"path": playbook, "sha256": "0" * 64},
        "inventory": [],
        "limit": None,
        "check": False,
        "diff": False,
        "tags": [],
        "skip_tags": [],
        "change_ref": change_ref,
        "approvals": {"it_manager": "Budi"},
        "reason": "test",
        "extra_vars": {},
    }
    events.append(log.append("run_start", {"run": header}, flush=True))
    store.append("start", run_id, {"start_event": log.first_line_sha256 or ""})
    events.append(log.append("play_start", {"play": {"id": "p1", "name": "play", "hosts": "all"}}))
    events.append(
        log.append(
            "task_start",
            {
                "task": task or {
                    "id": "t1",
                    "name": "Back up | sop4.1",
                    "action": "command",
                    "tags": ["sop4.1", "iso8.13"],
                    "sop_steps": ["sop4.1"],
                    "iso_controls": ["8.13"],
                }
            },
            flush=True,
        )
    )
    for host in hosts:
        status = "failed" if host == failed else "ok"
        events.append(
            log.append(
                "result",
                {
                    "task_id": "t1",
                    "host": host,
                    "status": status,
                    "changed": True,
                    "duration_s": 0.1,
                    "evidence": evidence or {"snapshot": "abc"},
                },
            )
        )
    if not finish:
        log.flush()
        return run_id
    record = build_record(events)
    events.append(log.append("run_end", {"status": final_status(record)}))
    log.close()
    store.finish(run, build_record(events))
    return run_id


def artifact_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def find_in_artifacts(root: Path, needles: list[str]) -> list[str]:
    """'<file>: <needle>' for every needle found in any file under root."""
    hits = []
    for path in artifact_files(root):
        data = path.read_bytes()
        hits += [f"{path}: {n}" for n in needles if n.encode() in data]
    return hits


def load_record(audit_dir: Path, run_id: str) -> dict[str, Any]:
    return json.loads((audit_dir / "runs" / run_id / "record.json").read_text())


PLAYBOOKS = Path(__file__).parent / "playbooks"
VENV_BIN = REPO_ROOT / ".venv" / "bin"
SOP = VENV_BIN / "sop"
# Variables a surrounding run could leak into ours.
_SCRUB = (
    "SOP_RUN_ID",
    "SOP_ENTRY_POINT",
    "SOP_OPERATOR_JSON",
    "SOP_CHANGE_REF",
    "SOP_REASON",
    "SOP_APPROVALS",
    "SOP_AUDIT_DIR",
    "ANSIBLE_CALLBACK_PLUGINS",
    "ANSIBLE_CONFIG",
    "JOB_ID",
    "AWX_HOST",
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.update(extra)
    return env


def sop(
    *args: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SOP), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or clean_env(),
        check=False,
    )


def ansible_playbook(
    playbook: str | Path, inventory: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Plain ansible-playbook from the repo root, no TTY, like cron or CI; ``env`` is the whole environment."""
    return labtools.ansible_playbook(playbook, inventory, *args, environ=env or clean_env())
