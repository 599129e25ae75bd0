"""Every document in Indonesian and in English (issue 12): `--lang id` shows none of the English headings, `--lang en`
none of the Indonesian ones; the catalogue is complete; a language without a catalogue is one clear line.

The headings are found in the renderings (HTML h1-h3, th, dt, summary, title; Markdown headings and table headers)
and looked up in the catalogue (runner/report/locale/id/LC_MESSAGES/*.po, read with Babel), so a new heading is
covered without touching this file; a few known ones anchor the tests.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from runner.assets import certificate as cert
from runner.assets import forms
from runner.check.report import render_reports
from runner.network.index import write_index
from runner.paths import REPO_ROOT
from runner.report import i18n, render_run
from runner.sla.policy import load as load_sla_policy
from runner.sla.report import run_evaluation

PACKAGE = REPO_ROOT / "runner"
LOCALE = Path(i18n.__file__).with_name("locale") / "id" / "LC_MESSAGES"
BABEL_CFG = Path(i18n.__file__).with_name("babel.cfg")
OWNED_ELSEWHERE = ("change", "monthly")  # the change record's and the monthly report's own catalogues
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
HEADING_TAGS = {"title", "h1", "h2", "h3", "th", "dt", "summary"}
SECTION_TAGS = {"h1", "h2"}


# --- the catalogue ------------------------------------------------------------------------------------------


def _catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale="id", domain=path.stem)


def _po_files() -> list[Path]:
    return sorted(LOCALE.glob("*.po"))


def _pairs() -> dict[str, str]:
    """msgid -> Indonesian, over every PO file (one catalogue, as rendered)."""
    return {m.id: m.string for path in _po_files() for m in _catalog(path) if m.id}


def _pattern(text: str) -> re.Pattern[str]:
    """A message as a regular expression of its renderings (each placeholder: some text)."""
    parts = PLACEHOLDER.split(text.replace("%%", "%"))
    return re.compile(".+".join(re.escape(p) for i, p in enumerate(parts) if i % 2 == 0))


def _titles() -> tuple[dict[str, re.Pattern[str]], dict[str, re.Pattern[str]]]:
    """(English, Indonesian) texts of the messages translated differently, each word belonging to one language
    only (a msgid that is also some msgstr, like "Status", says nothing about the language)."""
    pairs = {k: v for k, v in _pairs().items() if k != v}
    english = {k for k in pairs if k not in set(pairs.values())}
    indonesian = {v for v in pairs.values() if v not in set(pairs)}
    return {t: _pattern(t) for t in english}, {t: _pattern(t) for t in indonesian}


# --- headings of a rendering --------------------------------------------------------------------------------


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.found: list[tuple[str, str]] = []  # (tag, text)
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in HEADING_TAGS:
            self.open.append(tag)
            self.text = []

    def handle_endtag(self, tag: str) -> None:
        if self.open and tag == self.open[-1]:
            self.found.append((self.open.pop(), " ".join("".join(self.text).split())))

    def handle_data(self, data: str) -> None:
        if self.open:
            self.text.append(data)


def _html_headings(text: str) -> list[tuple[str, str]]:
    parser = _Headings()
    parser.feed(text)
    return parser.found


def _md_headings(text: str) -> list[tuple[str, str]]:
    """``#`` lines (as h1/h2/h3) and the cells of table header rows (as th)."""
    lines = text.splitlines()
    found: list[tuple[str, str]] = []
    for index, line in enumerate(lines):
        if match := re.match(r"^(#{1,3}) (.+)$", line):
            found.append((f"h{len(match.group(1))}", match.group(2).strip()))
        elif line.startswith("|") and index + 1 < len(lines) and lines[index + 1].startswith("|---"):
            found += [("th", cell.strip()) for cell in line.strip("|").split("|") if cell.strip()]
    return found


def _headings(path: Path) -> list[tuple[str, str]]:
    text = path.read_text()
    return _md_headings(text) if path.suffix == ".md" else _html_headings(text)


def _matching(headings: list[tuple[str, str]], titles: dict[str, re.Pattern[str]]) -> set[str]:
    return {title for _, text in headings for title, pattern in titles.items() if pattern.fullmatch(text)}


# --- the documents ------------------------------------------------------------------------------------------

RECORD = {
    "run_id": "20261202T000000Z-abcd1234", "status": "failed", "started": "2026-12-02T00:00:00.000Z",
    "ended": "2026-12-02T00:00:05.000Z", "duration_s": 5.0, "entry_point": "sop run", "check": True, "diff": True,
    "operator": {"source": "interactive", "user": "budi", "job_id": "7"}, "change_ref": "CR-7",
    "approvals": {"it_manager": "Sari"}, "reason": "patch", "playbook": {"path": "/x/patch.yml", "sha256": "0" * 64},
    "repository": {"commit": "abc", "dirty": True}, "inventory": ["inv"], "limit": "h1", "tags": ["t"],
    "controller": {"host": "ctl"}, "ansible_version": "2.17", "extra_vars": {"k": "v"},
    "refusals": [{"host": "h2", "task": "gate | sop4.3", "msg": "no approval", "sop_steps": ["sop4.3"]}],
    "hosts": {"h1": {"ok": 1, "changed": 1, "failed": 0, "unreachable": 0, "skipped": 0, "status": "changed"},
              "h2": {"ok": 0, "changed": 0, "failed": 1, "unreachable": 0, "skipped": 0, "status": "failed"}},
    "evidence": {"snapshot": "s1"},
    "plays": [{"name": "play", "tasks": [
        {"name": "Back up | sop4.1", "action": "command", "tags": ["sop4.1", "iso8.13"], "sop_steps": ["sop4.1"],
         "iso_controls": ["8.13"], "results": [
             {"host": "h1", "status": "ok", "changed": True, "duration_s": 0.1,
              "diff": {"before": "a\n", "after": "b\n"}},
             {"host": "h2", "status": "failed", "changed": False, "msg": "disk full", "reason": "disk full"}]},
        {"name": "untagged", "action": "debug", "results": [{"host": "h1", "status": "skipped"}]}]}],
}
CHECK = {"check_id": "check-20261202T000000Z-ab", "started": "2026-12-02T00:00:00", "duration_s": 1.5,
         "counts": {"pass": 1, "fail": 1, "error": 0, "waived": 1, "not_applicable": 0}, "exit_code": 1,
         "hosts": ["h1"], "waiver_files": [], "collection_run": {"run_id": "R", "status": "success"},
         "results": [{"host": "h1", "control": c, "title": f"{c} title", "severity": "high", "status": s,
                      "message": f"{c} seen", "seen": {"x": 1}, "required": {"x": 2}, "sop_steps": ["sop5.1"],
                      "iso": ["8.5"], **({"waiver": {"justification": "j", "approver": "a", "expires": "2027-01-01"}}
                                         if s == "waived" else {})}
                     for c, s in (("SSH-001", "fail"), ("PWD-002", "pass"), ("AV-001", "waived"))]}
CERTIFICATE = {
    "certificate_id": "SAN-LT-1-20261202T000000Z-abc123", "standard": "NIST SP 800-88 Rev. 1",
    "asset": {"tag": "LT-1", "make": "Lenovo", "model": "T14", "serial": "PF-1", "type": "laptop"},
    "media": {"model": "WDC", "serial": "WD-123", "media_type": "hdd", "size_bytes": 1000, "path": "/dev/sdb",
              "kernel_name": "sdb"},
    "host": "ws-lt01", "sanitization": {"method": "Clear", "technique": "overwrite", "why": "Table A-8",
                                        "bytes_written": 1000},
    "tool": {"name": "sop.core.sop_sanitize", "version": "1.0"},
    "verification": {"mode": "sampled", "subsections": 16, "samples_per_subsection": 4, "sample_bytes": 4096,
                     "seed": 7, "bytes_read": 300, "coverage_percent": 30.0, "result": "pass", "mismatches": [],
                     "description": "read-back of the first and last block and 4 pseudorandom 4096-byte blocks in "
                                    "each of 16 equal subsections (NIST SP 800-88 Rev. 1 4.7.1; seed 7), compared "
                                    "with 0x00"},
    "start": "2026-12-02T00:00:00Z", "end": "2026-12-02T00:01:00Z", "duration_s": 60.0, "operator": "Andi",
    "approver": {"role": "it_manager", "name": "Budi"}, "destination": "in_stock", "run_id": "R1",
    "signature": {"key_id": "k1", "fingerprint": "ff00"},
}
HANDOVER = {
    "form": "handover", "document_number": "BAST/IT/2026/12/LT-1/01", "date": "2026-12-02", "run_id": "R1",
    "first_party": {"name": "Budi", "employee_id": "IT-7", "title": "IT Support"},
    "second_party": {"name": "Sari", "employee_id": "E-1", "title": "Staff", "department": "Finance"},
    "device": {"tag": "LT-1", "type": "laptop", "make": "Lenovo", "model": "T14", "serial": "PF-1",
               "hostname": "ws-lt01", "condition": "good"},
    "accessories": [{"item": "charger"}], "software": [{"name": "libreoffice", "version": "7.4"}],
    "access": [{"system": "directory", "account": "sari", "groups": ["finance"]}], "remarks": "", "backup": None,
    "obligations": forms.OBLIGATIONS["handover"],
}
DEVICES = {"sw1": {"device_type": "cisco_ios", "mask_family": "ios", "last_attempt": {"status": "ok"},
                   "last_success": {"at": "2026-12-01T00:00:00Z"}},
           "sw2": {"device_type": "junos", "last_attempt": {"status": "failed"}, "consecutive_failures": 2,
                   "failing_since": "2026-11-30T00:00:00Z",
                   "last_failure": {"at": "2026-12-01T00:00:00Z", "error_kind": "auth", "error": "denied"}}}


def _run(out: Path, lang: str) -> list[Path]:
    paths = render_run(RECORD, out, lang=lang)
    return [paths["html"], paths["md"]]


def _check(out: Path, lang: str) -> list[Path]:
    paths = render_reports(CHECK, out, lang=lang)
    return [paths["html"], paths["md"]]


def _certificate(out: Path, lang: str) -> list[Path]:
    return [cert.render_files(CERTIFICATE, out, pdf=False, lang=lang)["html"]]


def _form(out: Path, lang: str) -> list[Path]:
    return [forms.render_files(HANDOVER, out, pdf=False, lang=lang)["html"]]


def _sla(out: Path, lang: str) -> list[Path]:
    result = run_evaluation(load_sla_policy(), REPO_ROOT / "tests" / "sla" / "exports" / "generic.csv",
                            as_of=dt.datetime(2026, 12, 2, 5, tzinfo=dt.UTC), audit_dir=out, lang=lang)
    return [result.paths["html"], result.paths["md"]]


def _network(out: Path, lang: str) -> list[Path]:
    index = write_index(out, DEVICES, {"sw1": "-a\n+b\n"}, run_id="R1", at="2026-12-02T00:00:00Z",
                        remote="https://git.example/net.git", lang=lang)
    return [index, index.with_suffix(".md"), index.parent / "changes" / "sw1.html"]


Render = Callable[[Path, str], list[Path]]
DOCUMENTS: dict[str, Render] = {"run": _run, "check": _check, "certificate": _certificate, "sla": _sla,
                                "network": _network, "form": _form}
ANCHORS = {  # known headings of each document: (English, Indonesian)
    "run": [("Failures", "Kegagalan"), ("Who, what, why", "Siapa, apa, mengapa"),
            ("Refused by a safety gate", "Ditolak oleh gerbang keamanan"), ("Approvals", "Persetujuan")],
    "check": [("Compliance per host", "Kepatuhan per host"), ("Finding", "Temuan")],
    "certificate": [("Certificate of Sanitization", "Sertifikat Sanitasi Media"), ("Approved by", "Disetujui oleh")],
    "form": [("Device Handover Form", "Berita Acara Serah Terima Perangkat"),
             ("Obligations of the employee", "Kewajiban karyawan")],
    "sla": [("Per priority", "Per prioritas"), ("Breaches", "Pelanggaran SLA")],
    "network": [("Network configuration store (SOP 3.1)", "Penyimpanan konfigurasi jaringan (SOP 3.1)"),
                ("Last failure", "Kegagalan terakhir")],
}


@pytest.fixture(params=sorted(DOCUMENTS))
def rendered(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, list[Path]]]]:
    name = request.param
    yield name, {lang: DOCUMENTS[name](tmp_path / lang, lang) for lang in ("en", "id")}


def test_each_language_shows_none_of_the_other_languages_headings(rendered) -> None:
    name, files = rendered
    english, indonesian = _titles()
    en_heads = [h for path in files["en"] for h in _headings(path)]
    id_heads = [h for path in files["id"] for h in _headings(path)]
    en_titles = _matching(en_heads, english)
    assert len(en_titles) >= 3, f"{name}: the English rendering shows hardly any catalogue heading: {en_heads}"
    assert not _matching(id_heads, english), f"{name}: English headings in the Indonesian rendering"
    assert not _matching(en_heads, indonesian), f"{name}: Indonesian headings in the English rendering"
    pairs, id_texts = _pairs(), {text for _, text in id_heads}
    for title in {t for t in en_titles if not PLACEHOLDER.search(t)}:
        assert pairs[title] in id_texts, f"{name}: heading {title!r} not shown as {pairs[title]!r}"


def test_section_titles_appear_nowhere_in_the_other_language(rendered) -> None:
    """Not even in a sentence: the section titles (h1, h2, Markdown # and ##) of one language in the other's text."""
    name, files = rendered
    pairs = {k: v for k, v in _pairs().items() if k != v}
    for lang, other in (("en", "id"), ("id", "en")):
        sections = {text for path in files[lang] for tag, text in _headings(path) if tag in SECTION_TAGS}
        own = set(pairs) if lang == "en" else set(pairs.values())
        titles = {t for t in sections if t in own and not PLACEHOLDER.search(t)}
        assert titles, f"{name}/{lang}: no section title from the catalogue in {sections}"
        for path in files[other]:
            text = path.read_text()
            assert not [t for t in titles if t in text], f"{path}: {lang} section titles in the {other} rendering"


def test_known_headings_anchor_the_test(rendered) -> None:
    name, files = rendered
    for lang, index in (("en", 0), ("id", 1)):
        heads = {text for path in files[lang] for _, text in _headings(path)}
        for pair in ANCHORS[name]:
            assert pair[index] in heads, f"{name}/{lang}: {pair[index]!r} not a heading of {sorted(heads)}"
            assert pair[1 - index] not in heads
    html = files["id"][0].read_text()
    assert '<html lang="id">' in html and '<html lang="en">' in files["en"][0].read_text()


def test_json_stays_language_neutral(tmp_path: Path) -> None:
    """report.json and check.json are the same in both languages (the codes and English texts of the model)."""
    assert _run(tmp_path / "en", "en")[0].with_suffix(".json").read_text() == \
        _run(tmp_path / "id", "id")[0].with_suffix(".json").read_text()
    checks = [json.loads(render_reports(CHECK, tmp_path / f"c-{lang}", lang=lang)["json"].read_text())
              for lang in ("en", "id")]
    assert checks[0] == checks[1]
    assert json.loads((tmp_path / "id" / "report.json").read_text())["status_text"] == "Completed with failures"


# --- the catalogue is complete and well formed --------------------------------------------------------------


@pytest.mark.parametrize("path", _po_files(), ids=lambda p: p.name)
def test_po_file_parses_and_is_complete(path: Path) -> None:
    catalog = _catalog(path)
    messages = [m for m in catalog if m.id]
    assert messages, f"{path}: no message"
    assert not catalog.fuzzy and not [m.id for m in messages if m.fuzzy], f"{path}: fuzzy entries"
    assert not [m.id for m in messages if not m.string], f"{path}: untranslated entries"
    assert not list(catalog.check()), f"{path}: placeholders differ between msgid and msgstr"
    assert catalog.mime_headers and dict(catalog.mime_headers).get("Language") == "id"


def test_one_translation_per_message_across_po_files() -> None:
    seen: dict[str, tuple[str, str]] = {}
    for path in _po_files():
        for message in _catalog(path):
            if message.id and message.id in seen:
                assert seen[message.id][1] == message.string, (
                    f"{message.id!r}: {seen[message.id][0]} and {path.name} translate it differently")
            seen.setdefault(message.id, (path.name, message.string))


def _extracted() -> Iterator[tuple[str, str]]:
    """(file, msgid) of every message pybabel extracts from the package with runner/report/babel.cfg."""
    with BABEL_CFG.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    for filename, _lineno, message, _comments, _context in extract_from_dir(PACKAGE, method_map, options_map):
        yield filename, message if isinstance(message, str) else message[0]


def test_every_message_of_the_converted_documents_has_an_indonesian_entry() -> None:
    extracted = [(f, m) for f, m in _extracted() if not any(Path(f).name.startswith(o) or f"/{o}/" in f"/{f}"
                                                            for o in OWNED_ELSEWHERE)]
    files = {Path(f).name for f, _ in extracted}
    assert {"run.html.j2", "check.md.j2", "certificate.html.j2", "sla.html.j2", "netindex.md.j2", "model.py",
            "report.py", "index.py", "certificate.py"} <= files, files
    assert ("report/model.py", "Completed with failures") in extracted  # N_() in Python is extracted
    catalogue = _pairs()
    missing = sorted({f"{f}: {m!r}" for f, m in extracted if not catalogue.get(m)})
    assert not missing, "messages without an Indonesian entry:\n" + "\n".join(missing)


# --- the option -------------------------------------------------------------------------------------------


def _sop(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runner.cli.main", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120, check=False, env={**os.environ, **env})


@pytest.mark.parametrize("args", [
    ("report", "last"), ("audit", "show", "last"), ("audit", "change", "CR-1"), ("check",),
    ("sla", "evaluate", "tests/sla/exports/generic.csv"), ("assets", "certificate", "LT-1"),
    ("run", "tests/audit/playbooks/ok.yml"),
], ids=lambda a: " ".join(a[:2]))
def test_an_unknown_language_is_one_line_naming_the_known_ones(args: tuple[str, ...], tmp_path: Path) -> None:
    result = _sop(*args, "--lang", "xx", SOP_AUDIT_DIR=str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "sop: error: language 'xx': not one of en, id", result.stderr
    assert "Traceback" not in result.stdout + result.stderr and not list(tmp_path.iterdir())


def test_an_unknown_sop_lang_is_refused_the_same_way(tmp_path: Path) -> None:
    result = _sop("report", "last", SOP_LANG="fr", SOP_AUDIT_DIR=str(tmp_path))
    assert (result.returncode, result.stderr.strip()) == (2, "sop: error: language 'fr': not one of en, id")


def test_sop_run_lang_id_writes_an_indonesian_run_report(tmp_path: Path) -> None:
    """The audit callback renders the report in the ansible process: --lang reaches it as SOP_LANG."""
    local = '{"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}'
    result = _sop("run", "tests/audit/playbooks/ok.yml", "-i", "h1,", "-e", local, "-q", "--lang", "id",
                  "--audit-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = (tmp_path / "runs").iterdir()
    md, html = (run / "report.md").read_text(), (run / "report.html").read_text()
    assert "## Siapa, apa, mengapa" in md and "## Who, what, why" not in md
    assert "<h2>Hasil per host</h2>" in html and '<html lang="id">' in html
    assert json.loads((run / "report.json").read_text())["status_text"] == "Completed successfully"


def test_sop_run_lang_id_on_a_broken_inventory_reports_in_indonesian(tmp_path: Path) -> None:
    """A run that could not start is rendered by sop itself, not by the callback: in the same language."""
    inventory = tmp_path / "broken.yml"
    inventory.write_text("all:\n  hosts:\n    web1:\n   bad: [\n")
    result = _sop("run", "tests/audit/playbooks/ok.yml", "-i", str(inventory), "--lang", "id", "--audit-dir",
                  str(tmp_path / "audit"))
    assert result.returncode == 1, result.stdout + result.stderr
    (run,) = (tmp_path / "audit" / "runs").iterdir()
    assert "TIDAK ADA YANG DILAKUKAN" in (run / "report.md").read_text()
