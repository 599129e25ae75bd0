"""SOP 2.3 / 2.5 forms: the handover form (Berita Acara Serah Terima) in JSON, HTML and PDF, both languages,
sealed; `sop handover accept` records both signatures and moves the asset, and refuses (changing nothing) a form
altered since it was generated or signed by someone the form does not name. The playbook action writes the
form once: a second run changes nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.assets import Register, forms
from runner.audit import AuditStore, verify
from runner.cli.main import cli
from runner.paths import REPO_ROOT

EMPLOYEE = {"name": "Sari Dewi", "employee_id": "E-1042", "title": "Finance Staff", "department": "Finance"}
OFFICER = {"name": "Budi Santoso", "employee_id": "IT-007", "title": "IT Support"}
DETAILS = {"hostname": "ws-lt01", "accessories": [{"item": "charger"}, {"item": "bag"}],
           "software": [{"name": "libreoffice-calc", "version": "4:7.4.7-1"}],
           "access": [{"system": "directory (ldap://ldap)", "account": "sdewi", "groups": ["finance", "mail"]}]}
PLAYBOOK = REPO_ROOT / "tests" / "assets" / "playbooks" / "handover_form.yml"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key_dir: Path) -> Path:
    monkeypatch.setenv("SOP_ASSETS_DB", str(tmp_path / "state" / "register.sqlite"))
    monkeypatch.setenv("SOP_AUDIT_DIR", str(tmp_path / "audit"))
    with Register.configured() as register:
        register.apply("LT-0100", "create", {"serial": "PF3XYZ99", "make": "Lenovo", "model": "ThinkPad T14",
                                             "type": "laptop"}, actor="test")
    return tmp_path / "audit"


def _form(audit: Path, lang: str = "id", pdf: bool = True) -> dict[str, Path]:
    with Register.configured() as register:
        asset = register.get("LT-0100")
    document = forms.build("handover", asset, employee=EMPLOYEE, officer=OFFICER, details=DETAILS, root=audit)
    return forms.write(document, root=audit, pdf=pdf, lang=lang)


def sop(*args: str):  # click.testing.Result
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _status(tag: str = "LT-0100") -> str:
    with Register.configured() as register:
        return register.get(tag).status


def test_handover_form_holds_the_bast_fields_in_three_sealed_formats(env: Path) -> None:
    paths = _form(env)
    form = json.loads(paths["json"].read_text())
    assert form["document_number"].startswith("BAST/IT/") and form["document_number"].endswith("/LT-0100/01")
    assert form["first_party"]["employee_id"] == "IT-007" and form["second_party"]["department"] == "Finance"
    assert form["device"] == {"tag": "LT-0100", "type": "laptop", "make": "Lenovo", "model": "ThinkPad T14",
                              "serial": "PF3XYZ99", "hostname": "ws-lt01", "condition": "good"}
    html = paths["html"].read_text()
    for text in ("Berita Acara Serah Terima Perangkat", "Para pihak", "Kewajiban karyawan", "tas laptop",
                 "PF3XYZ99", "libreoffice-calc", "sdewi", "finance, mail", "Tanda tangan"):
        assert text in html, text
    assert "<script" not in html and "http" not in html.replace("ldap://ldap", "")  # self-contained
    assert verify(AuditStore(env)).ok


def test_show_checks_the_seal_and_reprints_in_english(env: Path, tmp_path: Path) -> None:
    _form(env, pdf=False)
    shown = sop("handover", "show", "LT-0100", "--out", str(tmp_path / "en"), "--lang", "en")
    assert shown.exit_code == 0, shown.output
    assert "as generated: every file matches its hash in the ledger" in shown.output
    html = (tmp_path / "en" / "form.html").read_text()
    assert "Device Handover Form" in html and "Berita Acara" not in html
    assert (tmp_path / "en" / "form.pdf").stat().st_size > 0


def test_english_form_has_no_indonesian_headings(env: Path) -> None:
    html = _form(env, lang="en", pdf=False)["html"].read_text()
    assert "Device Handover Form" in html and "Obligations of the employee" in html
    assert "Berita Acara" not in html and "Kewajiban" not in html


def test_pdf_renders_to_a_page_with_the_forms_text(env: Path, tmp_path: Path) -> None:
    pdf = _form(env)["pdf"]
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=120)
    assert list(tmp_path.glob("page*.png"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True,
                          timeout=120).stdout
    assert "Berita Acara Serah Terima Perangkat" in text and "Sari Dewi" in text and "PF3XYZ99" in text


def test_accept_records_both_signatures_and_assigns_the_asset(env: Path) -> None:
    paths = _form(env, pdf=False)
    result = sop("handover", "accept", "LT-0100", "--by", "sari  dewi", "--officer", "Budi Santoso")
    assert result.exit_code == 0, result.output
    assert "in_stock -> assigned" in result.output
    with Register.configured() as register:
        asset = register.get("LT-0100")
    assert (asset.status, asset.assignee_name, asset.assignee_id) == ("assigned", "Sari Dewi", "E-1042")
    records = list((env / "assets" / "acceptances").glob("*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    assert record["signed_by"]["employee"] == {"name": "Sari Dewi", "employee_id": "E-1042"}
    from runner.audit.events import sha256_file

    assert record["sha256"]["form.json"] == sha256_file(paths["json"])
    assert verify(AuditStore(env)).ok  # the acceptance record is sealed
    again = sop("handover", "accept", "LT-0100", "--by", "Sari Dewi")
    assert again.exit_code == 0 and "accepted already" in again.output
    assert len(list((env / "assets" / "acceptances").glob("*.json"))) == 1


@pytest.mark.parametrize("case", ["altered", "other_employee", "other_officer"])
def test_accept_refuses_and_changes_nothing(env: Path, case: str) -> None:
    paths = _form(env, pdf=False)
    args = ["--by", "Sari Dewi"]
    if case == "altered":
        html = paths["html"]
        html.chmod(0o600)
        html.write_text(html.read_text().replace("Sari Dewi", "Sari Dewi (and a second laptop)"))
    elif case == "other_employee":
        args = ["--by", "Rudi Hartono"]
    else:
        args += ["--officer", "Someone Else"]
    with Register.configured() as register:
        history_before = register.history("LT-0100")
    ledger_before = (env / "ledger.jsonl").read_bytes()
    result = sop("handover", "accept", "LT-0100", *args)
    assert result.exit_code == 5, result.output
    expected = {"altered": "form.html changed since it was generated", "other_employee": "not 'Rudi Hartono'",
                "other_officer": "not 'Someone Else'"}[case]
    assert expected in result.output
    assert _status() == "in_stock"
    with Register.configured() as register:
        assert register.history("LT-0100") == history_before
    assert (env / "ledger.jsonl").read_bytes() == ledger_before
    assert not list((env / "assets" / "acceptances").glob("*.json"))


def test_a_form_needs_both_parties_identified(env: Path) -> None:
    with Register.configured() as register:
        asset = register.get("LT-0100")
    from runner.errors import ConfigError

    with pytest.raises(ConfigError, match="the employee has no employee_id"):
        forms.build("handover", asset, employee={"name": "Sari Dewi"}, officer=OFFICER, details={}, root=env)
    with pytest.raises(ConfigError, match="condition 'broken'"):
        forms.build("handover", asset, employee=EMPLOYEE, officer=OFFICER, details={"condition": "broken"},
                    root=env)


def _sop_run(env: Path, *args: str) -> int:
    """`sop run` of the form playbook on localhost; the run's changed count."""
    result = subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "sop"), "run", str(PLAYBOOK), "-i", "localhost,",
                             "-e", "ansible_connection=local", "-e", "ansible_python_interpreter=" +
                             str(REPO_ROOT / ".venv" / "bin" / "python"), "-q", *args],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return int(re.search(r"changed=(\d+)", result.stdout).group(1))


def test_playbook_writes_the_form_once_and_check_mode_writes_nothing(env: Path) -> None:
    assert _sop_run(env, "--check") == 1
    assert not list(env.glob("assets/forms/LT-0100/*/form.json"))
    assert _sop_run(env) == 1
    written = list(env.glob("assets/forms/LT-0100/*/form.*"))
    assert sorted(p.name for p in written) == ["form.html", "form.json", "form.pdf"]
    assert _sop_run(env) == 0
    assert list(env.glob("assets/forms/LT-0100/*/form.*")) == written
    record = json.loads(sorted(env.glob("runs/*/record.json"))[-1].read_text())
    assert '"form"' in json.dumps(record) and "BAST/IT/" in json.dumps(record)
    assert verify(AuditStore(env)).ok
