"""Reports of a baseline check: JSON (everything), self-contained HTML and Markdown (people), JUnit XML (CI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from runner.files import write_private
from runner.report.i18n import N_, labels
from runner.report.render import render

# Failures first, then what an auditor must read (errors, waivers), then the rest.
STATUS_ORDER = {"fail": 0, "error": 1, "waived": 2, "pass": 3, "not_applicable": 4}
# The words HTML and Markdown show for a status and a severity (the JSON keeps the codes).
STATUS_TEXT = labels("check_status", {"pass": N_("pass"), "fail": N_("fail"), "error": N_("error"),
                                      "waived": N_("waived"), "not_applicable": N_("not applicable")})
SEVERITY_TEXT = labels("severity", {"critical": N_("critical"), "high": N_("high"), "medium": N_("medium"),
                                    "low": N_("low")})


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


def scores(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per host, as OpenSCAP's score: passed / (passed + failed + errors); waived and not applicable counted apart."""
    out = {}
    for host in document["hosts"]:
        counts = {status: 0 for status in STATUS_ORDER}
        for row in document["results"]:
            if row["host"] == host:
                counts[row["status"]] = counts.get(row["status"], 0) + 1
        judged = counts["pass"] + counts["fail"] + counts["error"]
        out[host] = {**counts, "score_pct": round(100.0 * counts["pass"] / judged, 1) if judged else None}
    return out


def matrix(document: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per control, one cell (the status) per host: the whole baseline at a glance."""
    controls: dict[str, dict[str, Any]] = {}
    for row in document["results"]:
        entry = controls.setdefault(row["control"], {"control": row["control"], "title": row["title"],
                                                      "severity": row.get("severity"), "cells": {}})
        entry["cells"][row["host"]] = row["status"]
    rows = sorted(controls.values(), key=lambda c: (min(STATUS_ORDER.get(s, 9) for s in c["cells"].values()),
                                                    c["control"]))
    return [{**c, "cells": [c["cells"].get(h, "") for h in document["hosts"]]} for c in rows]


def render_reports(document: dict[str, Any], out_dir: Path, lang: str | None = None) -> dict[str, Path]:
    """check.json, check.html, check.md through the shared renderer, plus check-junit.xml for CI.

    HTML and Markdown open with a score per host and a control x host matrix; the JSON stays the check's own
    document (the summaries are derived from it)."""
    ordered = sorted(document["results"], key=lambda r: (STATUS_ORDER.get(r["status"], 9), r["host"], r["control"]))
    view = {**document, "results": ordered, "scores": scores(document), "matrix": matrix(document)}
    paths = render(view, out_dir, template="check", basename="check", formats=("html", "md"), lang=lang)
    paths["json"] = out_dir / "check.json"
    write_private(paths["json"], json.dumps({**document, "results": ordered}, indent=2, ensure_ascii=False,
                                            default=str) + "\n")
    paths["junit"] = out_dir / "check-junit.xml"
    write_private(paths["junit"], junit(document))
    return paths
