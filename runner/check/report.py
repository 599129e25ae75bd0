"""Reports of a baseline check: JSON (everything), self-contained HTML (people), JUnit XML (CI)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jinja2

HTML = jinja2.Template(
    """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Security baseline check {{ d.check_id }}</title>
<style>
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:80rem;
padding:0 1rem;color:#1f2328}table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;
padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.88rem}th{background:#f6f8fa}
.pass{background:#dafbe1}.fail{background:#ffebe9}.error{background:#fff1e5}.waived{background:#fff8c5}
.not_applicable{color:#6e7781}pre{margin:0;white-space:pre-wrap;font-size:.8rem}
</style></head><body>
<h1>Security baseline check (SOP 5)</h1>
<p>Check <code>{{ d.check_id }}</code> started {{ d.started }} UTC, {{ d.duration_s }} s;
collection run <code>{{ d.collection_run.run_id }}</code> ({{ d.collection_run.status }}).
Result: {% for k, v in d.counts.items() %}{{ k }}={{ v }} {% endfor %}</p>
<p>Waiver files: {{ d.waiver_files | join(', ') or 'none' }}</p>
<table><tr><th>Host</th><th>Control</th><th>Status</th><th>Finding</th><th>Seen</th><th>Required</th>
<th>SOP / ISO</th></tr>
{% for r in d.results %}<tr class="{{ r.status }}"><td>{{ r.host }}</td>
<td><b>{{ r.control }}</b> {{ r.title }} <i>({{ r.severity }})</i></td><td>{{ r.status }}</td>
<td>{{ r.message }}{% if r.waiver %}<br><i>justification: {{ r.waiver.justification }}</i>{% endif %}</td>
<td><pre>{{ r.seen | tojson(indent=1) }}</pre></td><td><pre>{{ r.required | tojson(indent=1) }}</pre></td>
<td>{{ r.sop_steps | join(' ') }}<br>ISO {{ r.iso | join(', ') }}</td></tr>
{% endfor %}</table></body></html>
""",
    autoescape=True,
)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    tmp.replace(path)


def junit(document: dict[str, Any]) -> str:
    """A testsuite per host, a testcase per control: fail=failure, error=error, waived/n.a.=skipped."""
    suites = ET.Element("testsuites", name="sop-security-baseline", time=str(document["duration_s"]))
    for host in document["hosts"]:
        rows = [r for r in document["results"] if r["host"] == host]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=host,
            tests=str(len(rows)),
            failures=str(sum(r["status"] == "fail" for r in rows)),
            errors=str(sum(r["status"] == "error" for r in rows)),
            skipped=str(sum(r["status"] in ("waived", "not_applicable") for r in rows)),
        )
        for row in rows:
            case = ET.SubElement(
                suite, "testcase", classname=f"{host}", name=f"{row['control']} {row['title']}"
            )
            detail = json.dumps({"seen": row["seen"], "required": row["required"]}, default=str)
            if row["status"] == "fail":
                ET.SubElement(case, "failure", message=row["message"]).text = detail
            elif row["status"] == "error":
                ET.SubElement(case, "error", message=row["message"]).text = detail
            elif row["status"] in ("waived", "not_applicable"):
                ET.SubElement(case, "skipped", message=f"{row['status']}: {row['message']}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def render_reports(document: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "check.json",
        "html": out_dir / "check.html",
        "junit": out_dir / "check-junit.xml",
    }
    _write(paths["json"], json.dumps(document, indent=2, default=str) + "\n")
    _write(paths["html"], HTML.render(d=document))
    _write(paths["junit"], junit(document))
    return paths
