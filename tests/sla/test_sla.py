"""SLA evaluation of ticket exports: business time, holidays, pauses, auto-close, malformed rows, every tool's export.

Expected figures are worked out by hand in the comments (Asia/Jakarta = UTC+7, Mon-Fri 08:00-17:00,
Indonesian public holidays, policies/sla.yml), independently of the code under test.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from runner.audit.store import AuditStore
from runner.audit.verify import verify
from runner.cli.main import cli
from runner.errors import PolicyError
from runner.sla import policy as sla_policy
from runner.sla.calendar import measure
from runner.sla.report import run_evaluation

EXPORTS = Path(__file__).with_name("exports")
WIB = ZoneInfo("Asia/Jakarta")
AS_OF = dt.datetime(2026, 12, 2, 12, 0, tzinfo=WIB)
H = 3600


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=WIB)


@pytest.fixture(scope="module")
def policy() -> sla_policy.SlaPolicy:
    return sla_policy.load()


def test_business_time_skips_nights_weekends_and_holidays(policy) -> None:
    cal = policy.calendar
    assert cal.business_seconds(at(30, 16, month=11), at(1, 9)) == 2 * H  # Mon 16-17 + Tue 08-09
    assert cal.business_seconds(at(27, 16, 30, month=11), at(30, 8, 30, month=11)) == 1 * H  # over a weekend
    # Wed 23 Dec 16:00 -> Mon 28 Dec 09:00: Thu 24 is the policy's cuti bersama, Fri 25 Christmas (holidays pkg)
    assert cal.business_seconds(at(23, 16), at(28, 9)) == 2 * H
    assert not cal.is_working_day(dt.date(2026, 8, 17))  # Independence Day, from the holidays package
    assert cal.business_seconds(at(28, 10, month=11), at(30, 8, 20, month=11)) == 20 * 60  # out of hours
    pause = [(at(1, 10), at(1, 12)), (at(1, 11), at(1, 13))]  # overlapping pauses count once
    assert measure(cal, "business", at(1, 9), at(1, 17), pauses=pause) == 5 * H
    assert measure(cal, "wall", at(1, 9), at(2, 9), paused_seconds=H) == 23 * H


def _evaluate(policy, tmp_path: Path, name: str, **kwargs):
    return run_evaluation(policy, EXPORTS / name, as_of=AS_OF, audit_dir=tmp_path, **kwargs)


def _by_id(result) -> dict:
    return {t["id"]: t for t in result.document["tickets"]}


def test_generic_export_per_ticket_verdicts(policy, tmp_path: Path) -> None:
    result = _evaluate(policy, tmp_path, "generic.csv")
    assert result.document["source"] == "generic"
    t = _by_id(result)
    # T1 P2 (business): response Mon 16:00 -> Tue 08:30 = 1h30 > 1h, over by 30 min; solved Tue 12:00 = 5h <= 8h
    assert (t["T1"]["response"]["verdict"], t["T1"]["response"]["margin_s"]) == ("breached", -1800)
    assert (t["T1"]["resolution"]["verdict"], t["T1"]["resolution"]["seconds"]) == ("met", 5 * H)
    # T2 P3 (wall): 64 h to the solution minus 24 h waiting for the user = 40 h <= 48 h
    assert (t["T2"]["resolution"]["verdict"], t["T2"]["resolution"]["seconds"]) == ("met", 40 * H)
    # T3 P1 on a Saturday (wall clock around the clock): 10 min, 3 h
    assert [t["T3"][k]["verdict"] for k in ("response", "resolution")] == ["met", "met"]
    # T4 'high' (SOP 1's level) is P1 through the mapping: 30 min > 15 min, 5 h > 4 h
    assert t["T4"]["priority"] == "P1" and t["T4"]["source_priority"] == "high"
    assert (t["T4"]["response"]["margin_s"], t["T4"]["resolution"]["margin_s"]) == (-900, -H)
    # T5 P2 opened on Saturday: business time starts Monday 08:00 -> 20 min; solved 50 h ago, no objection
    assert (t["T5"]["response"]["seconds"], t["T5"]["auto_close_eligible"]) == (1200, True)
    # T1 solved exactly 24 h before AS_OF: eligible too; T2 is closed already: not "eligible"
    assert t["T1"]["auto_close_eligible"] is True and t["T2"]["auto_close_eligible"] is False
    # T6 P3 still open, unanswered for 28 h (wall): response already breached, resolution not due yet
    assert (t["T6"]["response"]["verdict"], t["T6"]["response"]["seconds"]) == ("breached", 28 * H)
    assert t["T6"]["resolution"]["verdict"] == "open"


def test_generic_export_summary_and_malformed_rows(policy, tmp_path: Path) -> None:
    doc = _evaluate(policy, tmp_path, "generic.csv").document
    assert doc["counts"] == {"rows": 9, "evaluated": 6, "malformed": 3, "breached": 3}
    assert sorted(doc["breaches"]) == ["T1", "T4", "T6"]
    bad = {(e["where"], e["field"]) for e in doc["malformed"]}
    assert bad == {("line 8", "created"), ("line 9", "priority"), ("line 10", "solved")}
    p1, p2, p3 = (doc["per_priority"][p] for p in ("P1", "P2", "P3"))
    assert (p1["response"]["compliance_pct"], p1["resolution"]["compliance_pct"]) == (50.0, 50.0)
    assert (p1["response"]["median_s"], p1["response"]["p90_s"]) == (600, 1800)  # T3 10 min, T4 30 min
    assert (p2["response"]["compliance_pct"], p2["resolution"]["compliance_pct"]) == (50.0, 100.0)
    assert (p3["response"]["judged"], p3["resolution"]["judged"], p3["resolution"]["still_open"]) == (2, 1, 1)


def test_glpi_export_tool_measured_times_and_waiting_duration(policy, tmp_path: Path) -> None:
    result = _evaluate(policy, tmp_path, "glpi.csv")
    assert result.document["source"] == "glpi"
    t = _by_id(result)
    # 101 High = P2: taken into account in 30 min; 9 business hours to the solution minus 1 h waiting = 8 h: met
    assert t["101"]["priority"] == "P2" and t["101"]["response"]["seconds"] == 1800
    assert (t["101"]["resolution"]["verdict"], t["101"]["resolution"]["margin_s"]) == ("met", 0)
    # 102 Medium = P3, solved 25 h before AS_OF without objection: auto-close eligible
    assert t["102"]["priority"] == "P3" and t["102"]["auto_close_eligible"] is True


def test_zammad_json_export(policy, tmp_path: Path) -> None:
    t = _by_id(_evaluate(policy, tmp_path, "zammad.json"))
    assert t["31001"]["priority"] == "P1" and t["31001"]["response"]["seconds"] == 600  # '3 high' -> high -> P1
    # '2 normal' -> medium -> P2: created 16:00 WIB, answered 17:30 WIB: 1 business hour, exactly the target
    assert (t["31002"]["response"]["verdict"], t["31002"]["response"]["seconds"]) == ("met", H)
    assert t["31002"]["resolution"]["seconds"] == 3 * H  # Tue 16-17 + Wed 08-10


def test_osticket_export_has_no_response_time_and_says_so(policy, tmp_path: Path) -> None:
    result = _evaluate(policy, tmp_path, "osticket.csv")
    t = _by_id(result)
    assert t["500001"]["response"]["verdict"] == "not_measurable"
    assert (t["500001"]["resolution"]["verdict"], t["500001"]["resolution"]["margin_s"]) == ("breached", -H)
    assert t["500002"]["resolution"]["verdict"] == "open"
    stats = result.document["per_priority"]["P3"]["response"]
    assert stats["compliance_pct"] is None and stats["not_measurable"] == 2, "never a pass without data"


def test_company_scheme_uses_sop1_levels(policy, tmp_path: Path) -> None:
    t = _by_id(_evaluate(policy, tmp_path, "generic.csv", scheme="company"))
    assert t["T3"]["priority"] == "high" and t["T6"]["priority"] == "low"
    assert t["T6"]["response"]["verdict"] == "open", "low: follow-up within 2x24 h, 28 h so far"
    assert t["T3"]["resolution"]["verdict"] == "no_target", "SOP 1 sets no resolution time"


def test_reports_in_four_formats_sealed_in_the_ledger(policy, tmp_path: Path) -> None:
    result = _evaluate(policy, tmp_path, "generic.csv")
    assert set(result.paths) == {"html", "md", "json", "csv"}
    html = result.paths["html"].read_text()
    assert "T4" in html and "line 8" in html and "over by 15m" in html
    assert "line 9: priority" in result.paths["md"].read_text()
    assert "T1,line 2,P2" in result.paths["csv"].read_text()
    assert json.loads(result.paths["json"].read_text())["counts"]["malformed"] == 3
    assert verify(AuditStore(tmp_path)).ok
    result.paths["csv"].write_text("edited\n")
    assert not verify(AuditStore(tmp_path)).ok, "an edited SLA report is detected"


def test_cli_lists_malformed_rows_with_lines_and_exits_1(tmp_path: Path) -> None:
    args = ["sla", "evaluate", str(EXPORTS / "generic.csv"), "--as-of", AS_OF.isoformat(), "--audit-dir", str(tmp_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "generic.csv: line 8: created: '2026-13-45 10:00' is not a date" in result.output
    assert "SLA gen001: 6 tickets evaluated, 3 breached, 3 rows not evaluated" in result.output
    clean = CliRunner().invoke(cli, ["sla", "evaluate", str(EXPORTS / "zammad.json"), "--audit-dir", str(tmp_path)])
    assert clean.exit_code == 0, clean.output


def test_export_without_the_needed_columns_is_one_clear_error(tmp_path: Path) -> None:
    export = tmp_path / "x.csv"
    export.write_text("a,b\n1,2\n")
    result = CliRunner().invoke(cli, ["sla", "evaluate", str(export), "--source", "glpi", "--audit-dir", str(tmp_path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "x.csv: line 1: the glpi mapping needs column(s)" in result.output


@pytest.mark.parametrize(("edit", "message"), [
    (("15m", "15 minutes"), "at 'schemes.gen001.priorities.P1.respond'"),
    (("Asia/Jakarta", "Asia/Jakartaa"), "calendar.timezone 'Asia/Jakartaa' is not a known timezone"),
    (("high: P1", "high: P9"), "mapping names priorities no scheme has: P9"),
    (("default_scheme: gen001", "default_scheme: itil"), "default_scheme 'itil' is not one of the schemes"),
])
def test_malformed_policy_is_one_line_naming_the_file(tmp_path: Path, edit, message) -> None:
    bad = tmp_path / "sla.yml"
    bad.write_text(sla_policy.DEFAULT_POLICY.read_text().replace(*edit, 1))
    with pytest.raises(PolicyError) as caught:
        sla_policy.load(bad)
    assert str(bad) in str(caught.value) and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_policy_schema_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "sla.yml"
    text = sla_policy.DEFAULT_POLICY.read_text().replace("respond: 15m", "respond: 15 minutes", 1)
    bad.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "15 minutes" in row)
    with pytest.raises(PolicyError, match=rf"at 'schemes.gen001.priorities.P1.respond' \(line {line}\)"):
        sla_policy.load(bad)


def test_policy_yaml_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "sla.yml"
    bad.write_text(textwrap.dedent("""\
        calendar:
          timezone: [Asia/Jakarta
        """))
    with pytest.raises(PolicyError, match=r"sla.yml: line \d+ not valid YAML"):
        sla_policy.load(bad)
