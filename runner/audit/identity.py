"""Who started a run, and through which entry point, from the environment alone.

Order: an identity handed over by ``sop run`` (SOP_OPERATOR_JSON), AWX/AAP, GitHub Actions, GitLab CI,
Jenkins,
another CI (CI=true), a non-interactive job (cron or script: no TTY), else the interactive user.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

_AWX_MARKERS = ("JOB_ID", "AWX_HOST", "TOWER_HOST", "AWX_PRIVATE_DATA_DIR")


def _os_user(env: Mapping[str, str]) -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return env.get("LOGNAME") or env.get("USER") or f"uid:{os.getuid()}"


def _parent_commands(limit: int = 6) -> list[str]:
    """Names of the ancestor processes (to tell cron from a script); empty where /proc is missing."""
    names: list[str] = []
    pid = os.getppid()
    for _ in range(limit):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        names.append(stat[stat.index("(") + 1 : stat.rindex(")")])
        pid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if pid <= 1:
            break
    return names


def _ci_identity(env: Mapping[str, str]) -> dict[str, object] | None:
    if env.get("GITHUB_ACTIONS") == "true":
        return {
            "source": "ci",
            "system": "github-actions",
            "user": env.get("GITHUB_ACTOR"),
            "job_id": env.get("GITHUB_RUN_ID"),
            "job": env.get("GITHUB_WORKFLOW"),
            "project": env.get("GITHUB_REPOSITORY"),
            "ref": env.get("GITHUB_REF"),
        }
    if env.get("GITLAB_CI"):
        return {
            "source": "ci",
            "system": "gitlab-ci",
            "user": env.get("GITLAB_USER_LOGIN"),
            "job_id": env.get("CI_JOB_ID"),
            "job": env.get("CI_JOB_NAME"),
            "project": env.get("CI_PROJECT_PATH"),
            "ref": env.get("CI_COMMIT_REF_NAME"),
        }
    if env.get("JENKINS_URL"):
        return {
            "source": "ci",
            "system": "jenkins",
            "user": env.get("BUILD_USER_ID"),
            "job_id": env.get("BUILD_ID"),
            "job": env.get("JOB_NAME"),
            "project": env.get("BUILD_TAG"),
        }
    if env.get("CI", "").lower() in {"true", "1", "yes"}:
        return {
            "source": "ci",
            "system": "ci",
            "user": None,
            "job_id": env.get("CI_JOB_ID") or env.get("BUILD_ID") or env.get("JOB_ID"),
            "job": None,
        }
    return None


def detect_operator(
    env: Mapping[str, str] | None = None,
    extra_vars: Mapping[str, object] | None = None,
    interactive: bool | None = None,
) -> dict[str, object]:
    """The operator of this run as a JSON-safe dict: source, user, os_user and what identifies the job."""
    env = os.environ if env is None else env
    extra_vars = extra_vars or {}
    os_user = _os_user(env)
    handed = env.get("SOP_OPERATOR_JSON")
    if handed:
        try:
            data = json.loads(handed)
            if isinstance(data, dict):
                return data
        except ValueError:
            pass
    base: dict[str, object] = {"os_user": os_user, "sudo_user": env.get("SUDO_USER")}
    awx_job = extra_vars.get("awx_job_id") or extra_vars.get("tower_job_id")
    if awx_job or any(env.get(k) for k in _AWX_MARKERS):
        user = extra_vars.get("awx_user_name") or extra_vars.get("tower_user_name")
        return {
            **base,
            "source": "awx",
            "system": "awx",
            "user": user or os_user,
            "job_id": str(awx_job or env.get("JOB_ID") or "") or None,
            "job": extra_vars.get("awx_job_template_name") or extra_vars.get("tower_job_template_name"),
            "project": env.get("AWX_HOST") or env.get("TOWER_HOST"),
        }
    ci = _ci_identity(env)
    if ci:
        return {**base, **ci, "user": ci.get("user") or os_user}
    if interactive is None:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    if not interactive:
        parents = _parent_commands()
        source = "cron" if any("cron" in name for name in parents) else "non-interactive"
        return {**base, "source": source, "user": env.get("LOGNAME") or env.get("USER") or os_user}
    return {
        **base,
        "source": "interactive",
        "user": env.get("SUDO_USER") or os_user,
        "ssh_client": (env.get("SSH_CLIENT") or "").split(" ")[0] or None,
    }


def detect_entry_point(
    env: Mapping[str, str] | None = None, operator: Mapping[str, object] | None = None
) -> str:
    """``sop run``, ``awx``, ``ansible-runner`` or ``ansible-playbook``."""
    env = os.environ if env is None else env
    if env.get("SOP_ENTRY_POINT"):
        return env["SOP_ENTRY_POINT"]
    if operator and operator.get("source") == "awx":
        return "awx"
    if env.get("AWX_ISOLATED_DATA_DIR") or env.get("RUNNER_OMIT_EVENTS") is not None:
        return "ansible-runner"
    return Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "ansible-playbook"


def controller() -> dict[str, object]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "python": sys.version.split()[0]}
