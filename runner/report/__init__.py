"""Reports of audit records: self-contained HTML, Markdown and JSON, rendered with jinja2.

Reusable: ``render(document, out_dir, template=...)`` renders any document through
``templates/<template>.html.j2`` and ``templates/<template>.md.j2`` (HTML templates extend ``base.html.j2``,
which carries the inline stylesheet: no external assets). ``render_run(record, out_dir)`` is the run report.
"""

from __future__ import annotations

from runner.report.model import run_model
from runner.report.render import render, render_run

__all__ = ["render", "render_run", "run_model"]
