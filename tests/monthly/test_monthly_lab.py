"""The monthly report of a month made on the lab: backups (local + moto S3), a verification, a refused and an
approved restore, network config backup and morning check, a baseline check, a staging patch, an asset import.

Its figures are compared with counts made here straight from each run's events.jsonl (not through the record
fold or the report's code), and the PDF is rasterised with pdftoppm."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from runner.lab import Lab
from runner.paths import REPO_ROOT

pytestmark = pytest.mark.lab
SOP = str(REPO_ROOT / ".venv" / "bin" / "sop")
GENERIC = REPO_ROOT / "tests" / "sla" / "exports" / "generic.csv"
ASSETS = ("Asset Tag,Serial Number,Manufacturer,Model name,Category,Item Name,Full Name,Username,Employee Number,"
          "Department,Status,Purchase Date,Next Audit Date,Notes,Disk Model,Disk Serial,Disk Size,Disk Media\n"
          "LT-0101,PF3ABC99,Lenovo,ThinkPad T14,Laptops,ws-lt01,Siti Rahma,srahma,E1002,Finance,Assigned,"
          "2024-02-01,2000-01-15,,,,,\n"
          "LT-0102,5CD1234XY9,HP,EliteBook 840,Laptops,ws-lt02,,,,,Ready to Deploy,2023-11-20,2099-01-01,,,,,\n")
RUNS = (  # playbook, arguments, expected exit code
    ("backup.yml", ("-l", "servers"), 0),
    ("backup_verify.yml", ("-l", "servers"), 0),
    ("restore.yml", ("-l", "prod-db1", "--change-ref", "MR-1"), 5),
    ("restore.yml", ("-l", "prod-db1", "--change-ref", "MR-1", "--approved-by", "it_manager=Ani Manager",
                     "--approved-by", "data_owner=Budi Owner", "-e", '{"restore_paths": ["/etc/hostname"]}'), 0),
    ("network_backup.yml", (), 0),
    ("network_check.yml", (), 0),
    ("patch.yml", ("-l", "staging", "--change-ref", "MR-P1", "-e", '{"patch_packages": ["sop-demo-app=1.1"]}',
                   "-e", '{"patch_emergency_reason": "lab month"}'), 0),
)


def _sop(*args: str, timeout: int = 1500) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SOP, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def month(lab: Lab, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch) -> Path:
    audit = tmp_path_factory.mktemp("month") / "audit"
    monkeypatch_module.setenv("SOP_ASSETS_DB", str(audit.parent / "assets" / "register.sqlite"))
    lab.exec("stg-app1", "sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                                     "--no-install-recommends clamav >/dev/null && DEBIAN_FRONTEND=noninteractive "
                                     "apt-get install -y -qq --allow-downgrades sop-demo-app=1.0 >/dev/null")
    inventory = str(lab.inventory_path)
    for playbook, args, expected in RUNS:
        result = _sop("run", f"playbooks/{playbook}", "-i", inventory, "--audit-dir", str(audit), "-q", *args)
        assert result.returncode == expected, f"{playbook}: {result.stdout}{result.stderr}"
    check = _sop("check", "-i", inventory, "-l", "stg-app1", "--audit-dir", str(audit))
    assert check.returncode in (0, 1), check.stdout + check.stderr
    csv = audit.parent / "assets.csv"
    csv.write_text(ASSETS)
    imported = _sop("assets", "import", str(csv), "--by", "Andi (IT)")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    return audit


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _this_month() -> str:
    return dt.datetime.now(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m")


def _events(audit: Path) -> list[list[dict]]:
    return [[json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            for path in sorted((audit / "runs").glob("*/events.jsonl"))]


def test_monthly_figures_equal_the_events_of_the_month(month: Path) -> None:
    runs = _events(month)
    playbooks = Counter((Path(e[0]["run"]["playbook"]["path"]).name, e[-1]["status"]) for e in runs)
    backups: Counter[tuple[str, str]] = Counter()
    restores = []
    for events in runs:
        for event in events:
            evidence = event.get("evidence") if event["type"] == "result" else None
            if isinstance(evidence, dict) and "hooks" in evidence:
                backups.update((event["host"], r["repository"]) for r in evidence["repositories"]
                               if r["status"] == "ok")
            if isinstance(evidence, dict) and "sla_hours" in evidence:
                restores.append((event["host"], evidence["sla_met"]))

    result = _sop("report", "monthly", _this_month(), "--audit-dir", str(month), "--tickets", str(GENERIC))
    assert result.returncode == 0, result.stdout + result.stderr
    html = Path(next(line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("report (html)")))
    doc = json.loads(html.with_suffix(".json").read_text())

    assert doc["ledger"]["ok"] and doc["headline"]["runs"] == len(runs)
    assert {(p, s): n for p, c in doc["activity"]["per_playbook"].items() for s, n in c.items()} == dict(playbooks)
    sections = doc["sections"]
    assert {(r["host"], r["repository"]): r["ok"] for r in sections["backups"]["repositories"]} == dict(backups)
    assert len(backups) == 6  # 3 servers x local and cloud (the staging patch's pre-change backup adds to one)
    assert [(r["host"], r["sla_met"]) for r in sections["backups"]["restores"]] == restores == [("prod-db1", True)]
    assert [r["status"] for r in sections["incidents"]["runs"]] == ["refused"]
    assert sections["network"]["config_backups"][0]["devices"] >= 8 and sections["network"]["checks"]
    assert sections["security"]["hosts"][0]["host"] == "stg-app1"
    assert [c["change_ref"] for c in sections["patches"]["changes"]] == ["MR-P1"]
    assert sections["patches"]["patched"] == ["stg-app1"]
    assert sections["devices"]["total"] == 2 and [a["tag"] for a in sections["devices"]["overdue"]] == ["LT-0101"]
    assert sections["support"]["data"] and sections["support"]["source"] == "generic"


def test_pdf_renders_to_a_page(month: Path, tmp_path: Path) -> None:
    result = _sop("report", "monthly", _this_month(), "--audit-dir", str(month), "--lang", "id")
    assert result.returncode == 0, result.stdout + result.stderr
    pdf = Path(next(line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("report (pdf)")))
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=120)
    page = next(tmp_path.glob("page*.png"))
    assert page.stat().st_size > 5000  # a rendered page, not an empty one
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=120,
                          check=True).stdout
    assert "Laporan TI Bulanan" in text and "Status cadangan data" in text
