"""Every subprocess the runner starts goes through here, so commands are logged with secrets masked."""

from __future__ import annotations

import logging
import os
import re
import shlex
import subprocess
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)

_SECRET_FLAG = re.compile(r"(?i)(pass(word)?|secret|token|key)(=|$)")


def mask_command(command: Sequence[str], secrets: Sequence[str] = ()) -> str:
    """Render a command for logs: values after secret-looking flags and any known secret become ``****``."""
    shown: list[str] = []
    hide_next = False
    for arg in command:
        if hide_next:
            shown.append("****")
            hide_next = False
            continue
        flag, sep, _ = arg.partition("=")
        if flag.startswith("-") and _SECRET_FLAG.search(flag + "="):
            if sep:
                shown.append(f"{flag}=****")
            else:
                shown.append(arg)
                hide_next = True
            continue
        shown.append(_mask_known(arg, secrets))
    return shlex.join(shown)


def _mask_known(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "****")
    return text


def run(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    check: bool = True,
    timeout: float | None = 600,
    secrets: Sequence[str] = (),
    capture: bool = True,
    cwd: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (never through a shell, in ``cwd``); extra ``env`` is added to the current environment."""
    log.debug("run: %s", mask_command(command, secrets))
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        list(command),
        env=full_env,
        input=input_text,
        text=True,
        capture_output=capture,
        check=check,
        timeout=timeout,
        cwd=cwd,
    )
