"""Reports of a baseline check: JSON (everything), self-contained HTML and Markdown (people), JUnit XML (CI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from runner.files import write_private
from runner.report.render import render

# Failures first, then what an auditor must read (errors, waivers), then the rest.
STATUS_ORDER = {"fail": 0, "error": 1, "waived": 2, "pass": 3, "not_applicable": 4}


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
    """check.json, check.html, check.md through the shared renderer, plus check-junit.xml for CI."""
    ordered = sorted(document["results"], key=lambda r: (STATUS_ORDER.get(r["status"], 9), r["host"], r["control"]))
    paths = render({**document, "results": ordered}, out_dir, template="check", basename="check")
    paths["junit"] = out_dir / "check-junit.xml"
    write_private(paths["junit"], junit(document))
    return paths
