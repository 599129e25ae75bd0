"""Why a task failed, in the module's own words: the line a person reads in the console and the reports.

Ansible's ``msg`` is often generic (``non-zero return code``, ``MODULE FAILURE``) while the precise cause sits in
the task's output: a script's structured JSON errors on stdout, or the last lines of stderr. The reason is the
specific message when there is one, else the generic one followed by that detail.
"""

from __future__ import annotations

import json
from typing import Any

GENERIC_MESSAGES = (
    "non-zero return code",
    "module failure",
    "see stdout/stderr for the exact error",
    "failed",
    "all items completed",
    "one or more items failed",
)
MAX_DETAIL_LINES = 3
MAX_REASON = 1000


def is_generic(msg: str) -> bool:
    text = msg.strip().lower().rstrip(".")
    return not text or any(text == g or text.startswith(g + "\n") for g in GENERIC_MESSAGES)


def _json_errors(stdout: str) -> list[str]:
    """``errors``/``error`` of the last JSON object a script printed on stdout."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if not isinstance(data, dict):
            return []
        errors = data.get("errors") or ([data["error"]] if data.get("error") else [])
        if isinstance(errors, (str, dict)):
            errors = [errors]
        return [_error_text(e) for e in errors if e] if isinstance(errors, list) else []
    return []


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        where = error.get("repository") or error.get("host") or error.get("name") or error.get("path")
        what = error.get("error") or error.get("msg") or error.get("message") or json.dumps(error)
        kind = error.get("error_kind") or error.get("kind")
        return ": ".join(str(p) for p in (where, kind, what) if p)
    return str(error)


def _tail(text: str) -> list[str]:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-MAX_DETAIL_LINES:]


def output_detail(result: dict[str, Any]) -> str:
    """The most specific error text in a task's output, or ''."""
    detail = _json_errors(str(result.get("stdout") or ""))
    for stream in ("stderr", "module_stderr"):
        if not detail and result.get(stream):
            detail = _tail(str(result[stream]))
    if not detail and result.get("stdout"):
        detail = _tail(str(result["stdout"]))
    return " | ".join(detail)


def failure_reason(result: dict[str, Any]) -> str:
    """``msg`` when it is specific; otherwise ``msg: <detail from the output>``."""
    msg = str(result.get("msg") or result.get("reason") or "").strip()
    if msg and not is_generic(msg):
        return _cap(msg)
    detail = output_detail(result)
    if not detail:
        return _cap(msg or (f"rc={result['rc']}" if "rc" in result else "failed (no message)"))
    return _cap(f"{msg}: {detail}" if msg else detail)


def _cap(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
