"""The one wrapper around ``ansible_runner.run``: run a playbook, let the sop_audit callback record it,
return the outcome (status, exit code, record and report paths).

Each run gets a fresh private data dir (removed afterwards: ansible-runner's raw artifacts, which hold
unredacted results, are never kept; the audit record is the artifact). Exit codes:

====  ==========================================================
0     success
1     aborted, or ansible stopped with an error before/while running (syntax error, no record)
4     one or more hosts unreachable (and none failed)
5     refused: a task tagged ``sop_gate`` failed (a safety gate said no)
7     one or more hosts failed
====  ==========================================================
(2 is a usage/configuration error and 6 an audit integrity error, raised before or after a run.)
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner import inventory as inventory_sources
from runner.audit.error_run import record_error_run
from runner.audit.identity import detect_operator
from runner.audit.store import AuditStore, new_run_id
from runner.errors import ConfigError, InventoryError
from runner.paths import PLAYBOOKS, REPO_ROOT
from runner.settings import audit_dir as resolve_audit_dir
from runner.settings import language

CALLBACK_DIR = PLAYBOOKS / "callback_plugins"
EXIT_CODES = {
    "success": 0,
    "aborted": 1,
    "error": 1,
    "running": 1,
    "unreachable": 4,
    "refused": 5,
    "failed": 7,
}
Progress = Callable[[str], None]
PRIVATE_PREFIX = "sop-run-"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class RunOptions:
    playbook: str | Path
    inventory: Sequence[str] = ()
    limit: str | None = None
    check: bool = False
    diff: bool = False
    tags: Sequence[str] = ()
    skip_tags: Sequence[str] = ()
    extra_vars: Mapping[str, Any] = field(default_factory=dict)
    change_ref: str | None = None
    approvals: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None
    audit_dir: str | Path | None = None
    forks: int | None = None
    vault_password_file: str | Path | None = None
    lang: str | None = None  # of the run's reports (default settings.language())
    env: Mapping[str, str] = field(default_factory=dict)  # extra environment for ansible (tests, CI)


@dataclass
class RunOutcome:
    run_id: str
    status: str
    exit_code: int
    record_path: Path | None
    report_paths: dict[str, Path]
    record: dict[str, Any] | None
    ansible_rc: int | None = None
    output_tail: str = ""

    def summary(self) -> str:
        """One line: run id, status, host counts, duration."""
        if not self.record:
            return f"run {self.run_id}: {self.status} (ansible rc={self.ansible_rc}; no record was written)"
        if self.record.get("error"):
            return f"run {self.run_id}: error - nothing was done: {self.record['error']}"
        hosts = self.record.get("hosts") or {}
        total = {
            k: sum(int(h.get(k, 0)) for h in hosts.values())
            for k in ("ok", "changed", "failed", "unreachable", "skipped")
        }
        mode = " [check mode]" if self.record.get("check") else ""
        counts = " ".join(f"{k}={v}" for k, v in total.items())
        return (
            f"run {self.run_id}: {self.status}{mode} - {len(hosts)} hosts, {counts}, "
            f"{self.record.get('duration_s')}s"
        )


def _check_inventory(sources: Sequence[str]) -> list[str]:
    out: list[str] = []
    for source in sources:
        if "," in source:  # `-i host1,host2,` style host list
            out.append(source)
            continue
        path = Path(source).expanduser()
        if not path.exists():
            raise ConfigError(f"inventory {source}: no such file or directory")
        out.append(str(path.resolve()))
    return out


def _cmdline(options: RunOptions, inventory: list[str]) -> list[str]:
    args: list[str] = []
    for source in inventory:
        args += ["-i", source]
    if options.limit:
        args += ["--limit", options.limit]
    if options.check:
        args.append("--check")
    if options.diff:
        args.append("--diff")
    if options.tags:
        args += ["--tags", ",".join(options.tags)]
    if options.skip_tags:
        args += ["--skip-tags", ",".join(options.skip_tags)]
    if options.forks:
        args += ["--forks", str(options.forks)]
    if options.vault_password_file:
        vault_file = Path(options.vault_password_file).expanduser()
        if not vault_file.is_file():
            raise ConfigError(f"vault password file {vault_file}: no such file")
        args += ["--vault-password-file", str(vault_file.resolve())]
    return args


def _environment(options: RunOptions, run_id: str, audit_dir: Path) -> dict[str, str]:
    callback_dirs = [str(CALLBACK_DIR)] + [
        d for d in os.environ.get("ANSIBLE_CALLBACK_PLUGINS", "").split(":") if d
    ]
    env = {
        "SOP_RUN_ID": run_id,
        "SOP_AUDIT_DIR": str(audit_dir),
        "SOP_ENTRY_POINT": "sop run",
        "SOP_OPERATOR_JSON": json.dumps(detect_operator()),
        "SOP_APPROVALS": json.dumps(dict(options.approvals)),
        "SOP_LANG": language(options.lang),  # the audit callback renders the reports in it
        "ANSIBLE_CALLBACK_PLUGINS": ":".join(callback_dirs),
        "ANSIBLE_FORCE_COLOR": "0",
        # ansible-playbook of this Python's environment first (a venv need not be on PATH)
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "PYTHONUNBUFFERED": "1",
    }
    if options.change_ref:
        env["SOP_CHANGE_REF"] = options.change_ref
    if options.reason:
        env["SOP_REASON"] = options.reason
    env.update(options.env)
    return env


class _ProgressPrinter:
    """Turns ansible-runner events into one line per task and per host result (never result contents)."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    def __call__(self, event: dict[str, Any]) -> bool:
        if self.progress is not None:
            line = self._line(event)
            if line:
                self.progress(line)
        return False  # do not let ansible-runner keep the event on disk

    @staticmethod
    def _line(event: dict[str, Any]) -> str | None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        if kind == "playbook_on_play_start":
            return f"PLAY {data.get('play') or data.get('name') or ''}".rstrip()
        if kind in {"playbook_on_task_start", "playbook_on_handler_task_start"}:
            return f"  TASK {data.get('task') or data.get('name') or ''}"
        words = {
            "runner_on_ok": "ok",
            "runner_on_failed": "FAILED",
            "runner_on_unreachable": "UNREACHABLE",
            "runner_on_skipped": "skipped",
        }
        if kind in words:
            word = words[kind]
            if kind == "runner_on_ok" and (data.get("res") or {}).get("changed"):
                word = "changed"
            if kind == "runner_on_failed" and data.get("ignore_errors"):
                word = "failed (ignored)"
            return f"    {word:<12} {data.get('host', '')}"
        return None


def _remove_stale_private_dirs() -> None:
    """Private dirs left by a killed `sop run` (they may hold extra vars): removed once the owner is gone."""
    for path in Path(tempfile.gettempdir()).glob(f"{PRIVATE_PREFIX}*"):
        parts = path.name[len(PRIVATE_PREFIX) :].split("-")
        if len(parts) >= 3 and parts[2].isdigit() and not Path(f"/proc/{parts[2]}").exists():
            shutil.rmtree(path, ignore_errors=True)


def run_playbook(options: RunOptions, progress: Progress | None = None) -> RunOutcome:
    """Run one playbook through ansible-runner; the sop_audit callback writes record, reports and ledger.

    An inventory that does not parse (or holds no host) is recorded as a run of status ``error`` and nothing runs.
    """
    import ansible_runner

    language(options.lang)  # an unknown language stops the run before anything is recorded
    playbook = Path(options.playbook).expanduser()
    if not playbook.is_file():
        raise ConfigError(f"playbook {options.playbook}: no such file")
    playbook = playbook.resolve()
    inventory = _check_inventory(options.inventory)
    run_id = new_run_id()
    audit_dir = resolve_audit_dir(options.audit_dir)
    store = AuditStore.configured(audit_dir)
    try:
        inventory_sources.load(inventory or inventory_sources.default_sources(),
                               vault_password_file=options.vault_password_file)
    except InventoryError as exc:
        return _error_outcome(store, run_id, playbook, options, inventory=inventory,
                              error=str(exc).splitlines()[0])
    _remove_stale_private_dirs()
    private = Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{run_id}-{os.getpid()}-"))
    try:
        result = ansible_runner.run(
            private_data_dir=str(private),
            project_dir=str(REPO_ROOT),
            playbook=str(playbook),
            cmdline=shlex.join(_cmdline(options, inventory)),
            extravars=dict(options.extra_vars) or None,
            envvars=_environment(options, run_id, audit_dir),
            ident=run_id,
            quiet=True,
            event_handler=_ProgressPrinter(progress),
            settings={"suppress_ansible_output": True},
        )
        rc = result.rc
        tail = ""
        if result.stdout is not None:
            tail = result.stdout.read()[-4000:]
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if rc != 0 and not store.run(run_id).events.exists():  # ansible stopped before the first play (syntax, --limit)
        return _error_outcome(store, run_id, playbook, options, inventory=inventory,
                              error=ansible_error(tail), rc=rc, tail=tail)
    return _outcome(store, run_id, rc, tail)


def _error_outcome(store: AuditStore, run_id: str, playbook: Path, options: RunOptions, *,
                   inventory: list[str], error: str, rc: int | None = None, tail: str = "") -> RunOutcome:
    """Record a run that could not start (status ``error``, the reason in one line) and return its outcome."""
    run = record_error_run(store, run_id, playbook, {**vars(options), "inventory": inventory}, error)
    return _outcome(store, run.run_id, rc, tail)


def ansible_error(tail: str) -> str:
    """ansible's own ERROR line from its output (what stopped it before the first play)."""
    lines = [ln.strip() for ln in ANSI_ESCAPE.sub("", tail).splitlines() if ln.strip()]
    for line in reversed(lines):
        if line.startswith(("ERROR!", "[ERROR]:")):
            return line.split(maxsplit=1)[1] if " " in line else line
    return lines[-1] if lines else "ansible stopped before the first play (no output)"


def _outcome(store: AuditStore, run_id: str, rc: int | None, tail: str) -> RunOutcome:
    run = store.run(run_id)
    if not run.record.exists():
        return RunOutcome(run_id, "error", EXIT_CODES["error"], None, {}, None, rc, tail)
    record = json.loads(run.record.read_text())
    status = str(record.get("status"))
    reports = {fmt: run.report(fmt) for fmt in ("html", "md", "json") if run.report(fmt).exists()}
    return RunOutcome(run_id, status, EXIT_CODES.get(status, 1), run.record, reports, record, rc, tail)
