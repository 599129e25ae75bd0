"""HTML to PDF with WeasyPrint, Debian's `weasyprint` command (no browser, no network: the HTML is self-contained)."""

from __future__ import annotations

import shutil
from pathlib import Path

from runner import execute
from runner.errors import ConfigError


def html_to_pdf(html: Path, pdf: Path) -> Path:
    tool = shutil.which("weasyprint")
    if tool is None:
        raise ConfigError("weasyprint is not installed: cannot write the PDF", hint="apt-get install weasyprint")
    tmp = pdf.with_name(pdf.name + ".tmp")
    result = execute.run([tool, "--quiet", str(html), str(tmp)], timeout=120, check=False)
    if result.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"{html}: weasyprint failed ({result.returncode}): {result.stderr.strip()[:300]}")
    tmp.chmod(0o600)
    tmp.replace(pdf)
    return pdf
