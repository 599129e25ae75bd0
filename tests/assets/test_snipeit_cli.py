"""`sop assets` import/export with Snipe-IT's column names, list/show/due; a bad import imports nothing."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from runner.assets import Register, snipeit
from runner.cli.main import cli

HEADER = ("Asset Tag,Serial Number,Manufacturer,Model name,Category,Item Name,Full Name,Username,Employee Number,"
          "Department,Status,Purchase Date,Next Audit Date,Notes,Disk Model,Disk Serial,Disk Size,Disk Media\n")
GOOD = HEADER + (
    "LT-0001,PF3ABC12,Lenovo,ThinkPad T14 Gen 3,Laptops,ws-lt01,,,,,Ready to Deploy,2024-02-01,2025-01-15,,"
    "Samsung PM9A1,S6EXNX0T100001,512110190592,nvme\n"
    "LT-0002,5CD1234XYZ,HP,EliteBook 840 G8,Laptops,ws-lt02,Siti Rahma,srahma,E1002,Finance,Assigned,"
    "2023-11-20,2099-01-01,spare charger,WDC PC SN730,20412B800123,256060514304,nvme\n"
    "SRV-0001,CZJ0001,Dell,PowerEdge R650,Servers,prod-db1,,,,,In Stock,,,,,,,\n")


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SOP_ASSETS_DB", str(tmp_path / "state" / "register.sqlite"))
    monkeypatch.setenv("SOP_AUDIT_DIR", str(tmp_path / "audit"))
    monkeypatch.setenv("SOP_AUDIT_KEY_DIR", str(tmp_path / "keys"))
    return tmp_path


def sop(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_import_list_show_export_round_trip(env):
    (env / "in.csv").write_text(GOOD)
    result = sop("assets", "import", str(env / "in.csv"), "--by", "Andi (IT)")
    assert result.exit_code == 0, result.output
    assert "3 row(s): 3 new, 0 changed, 0 unchanged" in result.output
    listed = sop("assets", "list")
    assert "LT-0002" in listed.output and "assigned" in listed.output and "3 asset(s)" in listed.output
    shown = json.loads(sop("assets", "show", "LT-0002", "--json").output)
    assert shown["assignee_name"] == "Siti Rahma" and shown["department"] == "Finance"
    assert shown["disks"][0] == {"model": "WDC PC SN730", "serial": "20412B800123", "size_bytes": 256060514304,
                                 "media_type": "nvme"}
    assert shown["history"][0]["action"] == "import" and shown["history"][0]["actor"] == "Andi (IT)"
    exported = sop("assets", "export").output
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["Asset Tag"] for r in rows] == ["LT-0001", "LT-0002", "SRV-0001"]
    assert rows[0]["Status"] == "In Stock" and rows[1]["Status"] == "Assigned" and rows[2]["Category"] == "Servers"
    # the export imports back unchanged: the two directions agree
    (env / "back.csv").write_text(exported)
    again = sop("assets", "import", str(env / "back.csv"))
    assert "0 new, 0 changed, 3 unchanged" in again.output


def test_import_is_sealed_in_the_ledger(env):
    (env / "in.csv").write_text(GOOD)
    sop("assets", "import", str(env / "in.csv"))
    verify = CliRunner().invoke(cli, ["audit", "verify", "--audit-dir", str(env / "audit")])
    assert verify.exit_code == 0, verify.output
    records = list((env / "audit" / "assets" / "imports").glob("*.json"))
    assert len(records) == 1
    assert any(str(records[0].relative_to(env / "audit")) in line
               for line in (env / "audit" / "ledger.jsonl").read_text().splitlines())


@pytest.mark.parametrize(("line", "column", "bad", "message"), [
    (3, "Status", ("Assigned,", "Borrowed,"), "'Borrowed' is not a status"),
    (2, "Category", ("Laptops,ws-lt01", "Toasters,ws-lt01"), "'Toasters' is not a category"),
    (3, "Disk Size", ("256060514304", "256 GB"), "'256 GB' is not a size in bytes"),
    (3, "Next Audit Date", ("2099-01-01", "01/01/2099"), "not a date"),
    (4, "Disk Media", ("In Stock,,,,,,,", "In Stock,,,,,,,tape"), "'tape' is not one of"),
    (4, "Asset Tag", ("SRV-0001,", "LT-0001,"), "already on line 2"),
    (2, "Asset Tag", ("LT-0001,PF3", ",PF3"), "every row needs an asset tag"),
])
def test_malformed_import_names_line_and_field_and_imports_nothing(env, line, column, bad, message):
    (env / "bad.csv").write_text(GOOD.replace(*bad, 1))
    result = CliRunner().invoke(cli, ["assets", "import", str(env / "bad.csv")])
    assert result.exit_code == 2
    first = result.output.strip().splitlines()[0]
    assert first.startswith(f'sop: error: {env / "bad.csv"}:{line}: field "{column}": ')
    assert message in first
    assert "nothing was imported" in result.output and "Traceback" not in result.output
    with Register.configured() as register:
        assert register.list() == []
    assert not (env / "audit" / "assets").exists()


def test_missing_tag_column_and_extra_cells(env):
    (env / "nocol.csv").write_text("Serial Number\nX1\n")
    result = CliRunner().invoke(cli, ["assets", "import", str(env / "nocol.csv")])
    assert result.exit_code == 2 and 'nocol.csv:1: field "Asset Tag": missing column' in result.output
    (env / "extra.csv").write_text("Asset Tag,Serial Number\nLT-9,X1,surplus\n")
    result = CliRunner().invoke(cli, ["assets", "import", str(env / "extra.csv")])
    assert result.exit_code == 2 and "extra.csv:2:" in result.output and "more than the header" in result.output


def test_import_cannot_skip_a_step_of_the_sop(env):
    """An import may not move a returned laptop back to stock without sanitisation: refused, nothing written."""
    (env / "in.csv").write_text(GOOD)
    sop("assets", "import", str(env / "in.csv"))
    with Register.configured() as register:
        register.apply("LT-0002", "return")
    (env / "skip.csv").write_text(HEADER + "SRV-0001,CZJ0001,,,,,,,,,Maintenance,,,,,,,\n"
                                  "LT-0002,,,,,,,,,,In Stock,,,,,,,\n")
    result = CliRunner().invoke(cli, ["assets", "import", str(env / "skip.csv")])
    assert result.exit_code == 5
    assert "skip.csv:3: asset LT-0002: import cannot move it from returned to in_stock" in result.output
    with Register.configured() as register:
        assert register.get("SRV-0001").status == "in_stock"  # line 2 was not imported either


def test_due_lists_overdue(env):
    (env / "in.csv").write_text(GOOD)
    sop("assets", "import", str(env / "in.csv"))
    result = sop("assets", "due", "--date", "2025-02-01")
    assert result.exit_code == 0
    assert "LT-0001      2025-01-15  OVERDUE by 17 day(s)" in result.output
    assert "LT-0002" not in result.output
    assert "1 asset(s) due on or before 2025-02-01" in result.output


def test_parse_accepts_snipeit_default_labels_and_any_header_case():
    rows = snipeit.parse("asset tag,STATUS,category\nLT-1,Out for Repair,laptop\nLT-2,Archived,Desktops\n")
    assert [(r.tag, r.fields["status"], r.fields["type"]) for r in rows] == [
        ("LT-1", "maintenance", "laptop"), ("LT-2", "retired", "desktop")]
