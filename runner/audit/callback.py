"""The audit callback: records every run as events, then a record, reports and a signed ledger entry.

Loaded through the shim ``playbooks/callback_plugins/sop_audit.py`` by ansible-playbook, ansible-runner
and AWX.
Hooks stay light: each builds a small dict and appends one buffered line; the file is flushed when a task (or
play) starts and at the end; the record, reports and ledger entry are written once, in
``v2_playbook_on_stats`` (or by atexit / the SIGTERM handler when the run is cut short).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from ansible import context
from ansible.plugins.callback import CallbackBase
from ansible.release import __version__ as ansible_version

from runner import execute
from runner.audit.events import EventLog, sha256_file, utcnow
from runner.audit.failure import failure_reason
from runner.audit.identity import controller, detect_entry_point, detect_operator
from runner.audit.record import GATE_TAG, build_record, final_status
from runner.audit.redact import PLACEHOLDER, Redactor, collect_secrets
from runner.audit.store import RUN_ID, AuditStore, new_run_id
from runner.policy.refs import classify_tags
from runner.settings import audit_dir as resolve_audit_dir

MAX_TEXT = 2000
NO_HOSTS = "no host matched any play (empty inventory, or a --limit/group that selects nobody): nothing was done"
MAX_ITEMS = 200


def _truncate(text: Any, limit: int = MAX_TEXT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


def _repository(start: Path) -> dict[str, Any] | None:
    head = execute.run(
        ["git", "-C", str(start), "rev-parse", "HEAD", "--show-toplevel"], check=False, timeout=15
    )
    if head.returncode != 0:
        return None
    commit, root = [*head.stdout.split("\n"), "", ""][:2]
    status = execute.run(["git", "-C", root, "status", "--porcelain"], check=False, timeout=30)
    return {"commit": commit.strip(), "dirty": bool(status.stdout.strip()), "root": root.strip()}


def _approvals(value: Any) -> dict[str, str]:
    if isinstance(value, str) and value.strip():
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {}


def _counters(summary: dict[str, int]) -> dict[str, int]:
    """ansible's summarize() says ``failures``; the record says ``failed`` like the other counters."""
    return {("failed" if k == "failures" else k): int(v) for k, v in summary.items()}


class AuditCallback(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "sop_audit"
    CALLBACK_NEEDS_ENABLED = False  # loads wherever it is found: AWX/ansible-runner need not enable it

    def __init__(self, display: Any = None) -> None:
        super().__init__(display=display)
        self._pid = os.getpid()
        self._log: EventLog | None = None
        self._store: AuditStore | None = None
        self._run_id: str | None = None
        self._playbook: Any = None
        self._redactor = Redactor()
        self._starts: dict[tuple[str, str], float] = {}
        self._tasks: dict[str, Any] = {}
        self._events: list[dict[str, Any]] = []
        self._finished = False
        self._diff = False
        self._prev_handlers: dict[int, Any] = {}

    # ---- options -------------------------------------------------------------------------------------------
    def _option(self, name: str, default: Any = None) -> Any:
        try:
            value = self.get_option(name)
        except KeyError:
            value = None
        return default if value in (None, "") else value

    # ---- run start (deferred to the first play: extra vars are known then) ---------------------------------
    def v2_playbook_on_start(self, playbook: Any) -> None:
        self._playbook = playbook

    def _header(self, play: Any, extra_vars: dict[str, Any]) -> dict[str, Any]:
        args = context.CLIARGS
        path = Path(getattr(self._playbook, "_file_name", "") or "").resolve()
        operator = detect_operator(extra_vars=extra_vars)
        return {
            "run_id": self._run_id,
            "started": utcnow(),
            "entry_point": detect_entry_point(operator=operator),
            "operator": operator,
            "controller": controller(),
            "ansible_version": ansible_version,
            "repository": _repository(path.parent) if path.name else None,
            "playbook": {"path": str(path), "sha256": sha256_file(path) if path.is_file() else None},
            "inventory": [str(i) for i in (args.get("inventory") or ())],
            "limit": args.get("subset"),
            "check": bool(args.get("check")),
            "diff": bool(args.get("diff")),
            "tags": [t for t in (args.get("tags") or ()) if t != "all"],
            "skip_tags": list(args.get("skip_tags") or ()),
            "change_ref": self._text(self._option("change_ref") or extra_vars.get("sop_change_ref")),
            "approvals": self._redactor.redact(
                _approvals(self._option("approvals") or extra_vars.get("sop_approvals"))
            ),
            "reason": self._text(self._option("reason") or extra_vars.get("sop_reason")),
            "extra_vars": self._redactor.redact(extra_vars),
        }

    def _text(self, value: Any) -> str | None:
        return None if value in (None, "") else _truncate(self._redactor.scrub(str(value)), 500)

    def _collect_secrets(self, play: Any) -> None:
        manager = play.get_variable_manager()
        self._redactor.add_secrets(collect_secrets(manager.extra_vars))
        inventory = getattr(manager, "_inventory", None)
        if inventory is None:
            return
        for host in inventory.get_hosts(play.hosts):
            with contextlib.suppress(Exception):  # a var that cannot be templated now holds no secret for us
                self._redactor.add_secrets(
                    collect_secrets(manager.get_vars(play=play, host=host, include_hostvars=False))
                )

    def _start_run(self, play: Any) -> None:
        extra_vars = dict(play.get_variable_manager().extra_vars)
        self._diff = bool(context.CLIARGS.get("diff"))
        self._store = AuditStore.configured(resolve_audit_dir(self._option("audit_dir")))
        run_id = str(self._option("run_id") or "")
        # A caller's id (sop run) unless already used: a playbook that starts ansible-playbook inherits it.
        taken = RUN_ID.match(run_id) and self._store.run(run_id).events.exists()
        self._run_id = run_id if RUN_ID.match(run_id) and not taken else new_run_id()
        run = self._store.run(self._run_id)
        self._log = EventLog(run.events)
        self._emit("run_start", {"run": self._header(play, extra_vars)}, flush=True)
        self._store.append("start", self._run_id, {"start_event": self._log.first_line_sha256 or ""})
        if self._store.flush_error:
            self._warn(f"audit store unreachable, spooled locally: {self._store.flush_error}")
        atexit.register(self._on_exit)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with contextlib.suppress(ValueError, OSError):
                self._prev_handlers[signum] = signal.signal(signum, self._on_signal)

    def _emit(self, kind: str, data: dict[str, Any], *, flush: bool = False) -> None:
        if self._log is None or self._finished:
            return
        event = self._log.append(kind, data, flush=flush)
        self._events.append(event)

    # ---- plays and tasks -----------------------------------------------------------------------------------
    def v2_playbook_on_play_start(self, play: Any) -> None:
        try:
            self._collect_secrets(play)
            if self._log is None:
                self._start_run(play)
            self._emit(
                "play_start",
                {
                    "play": {
                        "id": str(play._uuid),
                        "name": play.get_name(),
                        "hosts": self._redactor.scrub(str(play.hosts)),
                    }
                },
                flush=True,
            )
        except Exception as exc:
            self._warn(f"cannot start the audit record: {exc}")

    def _task_start(self, task: Any, handler: bool) -> None:
        tags = [str(t) for t in (task.tags or [])]
        sop_steps, iso = classify_tags(tags)
        info = {
            "id": str(task._uuid),
            "name": self._redactor.scrub(task.get_name()),
            "action": str(task.action),
            "tags": tags,
            "sop_steps": sop_steps,
            "iso_controls": iso,
            "handler": handler,
            "no_log": bool(task.no_log),
            "gate": GATE_TAG in tags,
        }
        self._tasks[info["id"]] = task
        self._emit("task_start", {"task": info}, flush=True)

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._task_start(task, handler=False)

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self._task_start(task, handler=True)

    def v2_runner_on_start(self, host: Any, task: Any) -> None:
        self._starts[(host.get_name(), str(task._uuid))] = time.monotonic()

    # ---- results -------------------------------------------------------------------------------------------
    def _result(self, result: Any, status: str, *, ignored: bool = False) -> None:
        if self._log is None:
            return
        host = result._host.get_name()
        task = result._task
        task_id = str(task._uuid)
        raw = result._result
        started = self._starts.pop((host, task_id), None)
        no_log = bool(task.no_log or raw.get("_ansible_no_log"))
        entry: dict[str, Any] = {
            "task_id": task_id,
            "host": host,
            "status": status,
            "changed": bool(raw.get("changed")),
            "duration_s": round(time.monotonic() - started, 3) if started else None,
        }
        if ignored:
            entry["ignored"] = True
        delegated = (raw.get("_ansible_delegated_vars") or {}).get("ansible_host")
        if delegated:
            entry["delegated_to"] = str(delegated)
        entry.update(self._details(raw, status, no_log, bool(task.diff) or self._diff))
        self._emit("result", entry)

    def _details(self, raw: dict[str, Any], status: str, no_log: bool, diff_mode: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        red = self._redactor
        msg = (
            raw.get("msg")
            or raw.get("skip_reason")
            or (raw.get("reason") if status == "unreachable" else None)
        )
        if msg:
            out["msg"] = PLACEHOLDER if no_log else _truncate(red.redact(msg))
        evidence = raw.get("sop_evidence") or ((raw.get("ansible_stats") or {}).get("data") or {}).get(
            "sop_evidence"
        )
        if isinstance(evidence, dict):
            out["evidence"] = dict.fromkeys(evidence, PLACEHOLDER) if no_log else red.redact(evidence)
        if no_log:
            out["censored"] = True
            if status in {"failed", "unreachable"}:
                out["reason"] = PLACEHOLDER
            return out
        if "rc" in raw and isinstance(raw["rc"], int):
            out["rc"] = raw["rc"]
        if status in {"failed", "unreachable"}:
            # from the whole output (before truncation), so a script's JSON errors are still readable
            out["reason"] = _truncate(red.redact(failure_reason(raw)), 1000)
            for stream in ("stderr", "stdout", "module_stderr"):
                if raw.get(stream):
                    out[stream] = _truncate(red.redact(raw[stream])[-MAX_TEXT:])
        if raw.get("warnings"):
            out["warnings"] = [_truncate(w, 500) for w in red.redact(list(raw["warnings"]))]
        if diff_mode and raw.get("diff"):
            out["diff"] = red.redact(raw["diff"])
        if isinstance(raw.get("results"), list):
            out["items"] = [self._item(i) for i in raw["results"][:MAX_ITEMS] if isinstance(i, dict)]
        return out

    def _item(self, item: dict[str, Any]) -> dict[str, Any]:
        hidden = bool(item.get("_ansible_no_log"))
        label = item.get("_ansible_item_label", item.get("item"))
        status = "failed" if item.get("failed") else "skipped" if item.get("skipped") else "ok"
        out = {
            "item": PLACEHOLDER if hidden else _truncate(self._redactor.redact(label), 300),
            "status": status,
            "changed": bool(item.get("changed")),
        }
        if item.get("msg") and status == "failed":
            out["msg"] = PLACEHOLDER if hidden else _truncate(self._redactor.redact(item["msg"]), 500)
        return out

    def v2_runner_on_ok(self, result: Any) -> None:
        self._result(result, "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._result(result, "failed", ignored=ignore_errors)

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._result(result, "skipped")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._result(result, "unreachable")

    # ---- end -----------------------------------------------------------------------------------------------
    def v2_playbook_on_stats(self, stats: Any) -> None:
        if self._log is None or self._finished:
            return
        hosts = {h: _counters(stats.summarize(h)) for h in sorted(stats.processed)}
        custom = {h: (data or {}).get("sop_evidence") for h, data in (stats.custom or {}).items()}
        evidence = self._redactor.redact({h: v for h, v in custom.items() if v})
        self._emit("stats", {"hosts": hosts, "evidence": evidence})
        if not hosts:  # a run on zero hosts did nothing: never a success
            self._close("error", error=NO_HOSTS)
            self._fail_process(NO_HOSTS)
            return
        record = build_record(self._events)
        self._close(final_status(record))

    def _close(self, status: str, reason: str | None = None, *, error: str | None = None) -> None:
        if self._finished or self._log is None or self._store is None or os.getpid() != self._pid:
            return
        data: dict[str, Any] = {"status": status}
        if reason:
            data["abort_reason"] = reason
        if error:
            data["error"] = error
        self._emit("run_end", data)
        self._finished = True
        try:
            self._log.close()
            record = build_record(self._events)
            self._store.finish(self._store.run(str(self._run_id)), record)
            if self._store.flush_error:
                self._warn(f"audit store: {self._store.flush_error} (kept locally; `sop audit sync` retries)")
            if self._store.document_error:
                self._warn(f"{self._store.document_error} (`sop audit change` rebuilds it)")
        except Exception as exc:
            self._warn(f"cannot finish the audit record of run {self._run_id}: {exc}")

    def _on_exit(self) -> None:
        self._close("aborted", "ansible ended before the play recap (interrupted or fatal error)")

    def _on_signal(self, signum: int, frame: Any) -> None:
        if os.getpid() == self._pid:
            self._close("aborted", f"interrupted by {signal.Signals(signum).name}")
        previous = self._prev_handlers.get(signum)
        if callable(previous):
            previous(signum, frame)
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt
        else:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def _fail_process(self, message: str) -> None:
        """End ansible-playbook with exit 1 (the record is sealed). ansible turns a callback's exceptions into
        warnings, and offers no other way for a callback to set the exit code; SystemExit is not an Exception."""
        self._display.error(f"sop_audit: {message}")
        if os.getpid() == self._pid:
            raise SystemExit(1)

    def _warn(self, message: str) -> None:
        text = f"sop_audit: {message}"
        try:
            self._display.warning(text)
        except Exception:
            print(text, file=sys.stderr)
