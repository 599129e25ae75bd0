"""One settings resolver: CLI option > SOP_* environment > defaults."""

from __future__ import annotations

import os
from pathlib import Path

from runner.paths import REPO_ROOT


def audit_dir(cli_value: str | Path | None = None) -> Path:
    """The audit directory: --audit-dir, else $SOP_AUDIT_DIR, else audit/ at the repository root."""
    value = cli_value or os.environ.get("SOP_AUDIT_DIR") or REPO_ROOT / "audit"
    return Path(value).expanduser().resolve()


def assets_db(cli_value: str | Path | None = None) -> Path:
    """The asset register: --db, else $SOP_ASSETS_DB, else assets/register.sqlite beside the audit directory
    (the state directory holds audit/ and assets/)."""
    value = cli_value or os.environ.get("SOP_ASSETS_DB")
    if value:
        return Path(value).expanduser().resolve()
    return audit_dir().parent / "assets" / "register.sqlite"


def language(cli_value: str | None = None) -> str:
    """The language of reports, forms and certificates: --lang, else $SOP_LANG, else English."""
    from runner.report.i18n import check_language

    return check_language(cli_value or os.environ.get("SOP_LANG") or "en")
