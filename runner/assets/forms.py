"""The signed paper of SOP 2: the handover form (Berita Acara Serah Terima, sop2.3) and the return condition
form (Berita Acara Pengembalian, sop2.5).

A form is JSON (language-neutral, the authoritative content) with HTML and PDF renderings in the reader's
language, written under ``<audit dir>/assets/forms/<tag>/<number>/`` and sealed in the ledger when generated.
``accept`` records the two signatures: who, when and the sha256 of every file of the form; it refuses a form
that changed since it was generated, or one signed by someone other than the people it names; a signed handover
moves the asset to ``assigned`` (the return play moves it to ``returned`` itself). The acceptance record is
sealed too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from runner.assets.evidence import evidence_dir, record_cli_change, seal
from runner.assets.model import Asset
from runner.assets.register import Change, Register
from runner.audit.events import sha256_file
from runner.audit.evidence import unsealed_or_changed
from runner.errors import ConfigError, RefusedError, SopError
from runner.report.i18n import N_, labels
from runner.report.render import render

KINDS = {"handover": "BAST", "return": "BAPB"}  # form kind -> document number prefix
# The register move a signed form records: a handover is complete when the employee signs; the return play has
# already moved the device to `returned` (it is back with IT), its signatures only complete the record.
ACCEPTED_MOVE: dict[str, str | None] = {"handover": "assign", "return": None}
OBLIGATIONS = {  # what the employee undertakes by signing (seed 000, SOP 2; ISO/IEC 27001:2022 A.5.10, A.5.11)
    "handover": [N_("Use the device and the access granted for official work only."),
                 N_("Keep the device safe, do not lend it, and report loss, theft or damage to IT at once."),
                 N_("Do not install unlicensed software or disable the security controls (antivirus, updates, "
                    "encryption)."),
                 N_("Return the device, its accessories and all company data to IT on leaving the company or when "
                    "asked.")],
    "return": [N_("The device and the accessories listed were returned in the condition recorded here."),
               N_("The employee's directory account and group access were disabled on return."),
               N_("The device's data is wiped per the security procedure before it goes back to stock.")],
}
CONDITIONS = labels("condition", {"good": N_("good"), "fair": N_("fair, signs of use"),
                                  "damaged": N_("damaged"), "incomplete": N_("incomplete")})
ACCESSORIES = labels("accessory", {"charger": N_("charger"), "bag": N_("laptop bag"), "mouse": N_("mouse"),
                                   "headset": N_("headset"), "docking_station": N_("docking station")})


def _today() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def forms_dir(tag: str, root: Path | None = None) -> Path:
    return evidence_dir("forms", tag, root=root)


def next_number(kind: str, tag: str, when: dt.datetime, root: Path | None = None) -> str:
    """``BAST/IT/2026/12/LT-001/02``: the form kind, the month and a count of this asset's forms."""
    count = sum(1 for _ in forms_dir(tag, root).glob(f"{KINDS[kind]}-*")) + 1
    return f"{KINDS[kind]}/IT/{when:%Y}/{when:%m}/{tag}/{count:02d}"


def _directory_name(number: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", number)


def build(kind: str, asset: Asset, *, employee: dict[str, Any], officer: dict[str, Any],
          details: dict[str, Any], run_id: str = "", root: Path | None = None) -> dict[str, Any]:
    """The form's content: both parties, the device as the register knows it, and the kind's own details
    (handover: accessories, software, access; return: condition, accessories returned, remarks, revocations)."""
    if kind not in KINDS:
        raise ConfigError(f"form kind {kind!r}: not one of {', '.join(KINDS)}")
    for who, party in (("employee", employee), ("officer", officer)):
        missing = [k for k in ("name", "employee_id") if not str(party.get(k) or "").strip()]
        if missing:
            raise ConfigError(f"{kind} form for {asset.tag}: the {who} has no {', '.join(missing)}")
    condition = details.get("condition", "good")
    if condition not in CONDITIONS:
        raise ConfigError(f"{kind} form for {asset.tag}: condition {condition!r} is not one of "
                          f"{', '.join(CONDITIONS)}")
    when = _today()
    return {
        "form": kind, "document_number": next_number(kind, asset.tag, when, root),
        "date": when.date().isoformat(), "generated": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "run_id": run_id,
        "first_party": {"name": officer["name"], "employee_id": officer["employee_id"],
                        "title": officer.get("title", ""), "role": "it_officer"},
        "second_party": {"name": employee["name"], "employee_id": employee["employee_id"],
                         "title": employee.get("title", ""), "department": employee.get("department", ""),
                         "role": "employee"},
        "device": {"tag": asset.tag, "type": asset.type, "make": asset.make, "model": asset.model,
                   "serial": asset.serial, "hostname": details.get("hostname") or asset.hostname,
                   "condition": condition},
        "accessories": list(details.get("accessories") or []),
        "software": list(details.get("software") or []),
        "access": list(details.get("access") or []),
        "remarks": str(details.get("remarks") or ""),
        "backup": details.get("backup"),
        "obligations": OBLIGATIONS[kind],
    }


def write(document: dict[str, Any], *, root: Path | None = None, pdf: bool = True,
          lang: str | None = None) -> dict[str, Path]:
    """form.json/.html(/.pdf) in a directory of the form's own, sealed in the ledger."""
    out = forms_dir(document["device"]["tag"], root) / _directory_name(document["document_number"])
    if out.exists():
        raise ConfigError(f"{out}: a form with number {document['document_number']} exists already")
    paths = render_files(document, out, pdf=pdf, lang=lang)
    seal(paths, run_id=document.get("run_id") or "-", root=root)
    return paths


def render_files(document: dict[str, Any], out: Path, *, pdf: bool = True,
                 lang: str | None = None) -> dict[str, Path]:
    paths = render(document, out, template="form", basename="form", formats=("html", "json"), lang=lang)
    if pdf:
        from runner.report.pdf import html_to_pdf

        paths["pdf"] = html_to_pdf(paths["html"], out / "form.pdf")
    return paths


def latest(tag: str, kind: str, root: Path | None = None) -> Path | None:
    """The newest form.json of ``kind`` for the asset (by generation time)."""
    found = []
    for path in forms_dir(tag, root).glob(f"{KINDS[kind]}-*/form.json"):
        try:
            found.append((json.loads(path.read_text()).get("generated", ""), path))
        except (OSError, ValueError):
            found.append(("", path))
    return max(found)[1] if found else None


def form_files(form_json: Path) -> list[Path]:
    return [p for p in sorted(form_json.parent.glob("form.*")) if not p.name.endswith(".tmp")]


def sealed_problems(form_json: Path, root: Path) -> list[str]:
    """Every file of the form against its sha256 in the ledger: what is unsealed or changed."""
    return [f"{path.name} was never sealed in the ledger" if why == "unsealed"
            else f"{path.name} changed since it was generated (sha256 differs from the ledger's)"
            for path, why in unsealed_or_changed(form_files(form_json), root).items()]


class AlreadyAcceptedError(SopError):
    """The form was signed already (the acceptance record is named): nothing to do."""

    exit_code = 0

    def __init__(self, record: Path) -> None:
        super().__init__(f"this form was accepted already: {record}")
        self.record = record


def _acceptance_of(form: Path, digests: dict[str, str], root: Path) -> Path | None:
    """The acceptance record of exactly this form (same folder, same hashes), if one exists."""
    for path in sorted(evidence_dir("acceptances", root=root).glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if record.get("form") == str(form) and record.get("sha256") == digests:
            return path
    return None


def _same_person(expected: str, given: str) -> bool:
    return " ".join(expected.split()).casefold() == " ".join(given.split()).casefold()


def accept(tag: str, kind: str, *, by: str, officer: str = "", root: Path, register: Register,
           actor: str = "") -> tuple[dict[str, Any], Path, Change | None]:
    """Record both signatures of the newest ``kind`` form of ``tag``; refuses a changed form or other signers."""
    path = latest(tag, kind, root)
    if path is None:
        raise ConfigError(f"{tag}: no {kind} form under {forms_dir(tag, root)} (provision the device first)")
    problems = sealed_problems(path, root)
    if problems:
        raise RefusedError(f"{tag}: {kind} form {path.parent.name} refused: {'; '.join(problems)}",
                           hint="generate the form again (re-run the playbook) and sign the new one")
    form = json.loads(path.read_text())
    employee, it_officer = form["second_party"], form["first_party"]
    if not _same_person(employee["name"], by):
        raise RefusedError(f"{tag}: the {kind} form names {employee['name']} ({employee['employee_id']}) as the "
                           f"employee, not {by!r}: only they can sign it")
    if officer and not _same_person(it_officer["name"], officer):
        raise RefusedError(f"{tag}: the {kind} form names {it_officer['name']} as the IT officer, not {officer!r}")
    digests = {p.name: sha256_file(p) for p in form_files(path)}
    earlier = _acceptance_of(path.parent.relative_to(root), digests, root)
    if earlier is not None:
        raise AlreadyAcceptedError(earlier)
    move = ACCEPTED_MOVE[kind]
    changes = ({"assignee_name": employee["name"], "assignee_id": employee["employee_id"],
                "department": employee.get("department", ""), "assigned_date": form["date"]}
               if kind == "handover" else {})
    change = (register.apply(tag, move, changes, actor=actor or by, run_id=form.get("run_id") or "")
              if move else None)
    record = {"kind": f"{kind}_acceptance", "asset": tag, "document_number": form["document_number"],
              "form": str(path.parent.relative_to(root)),
              "sha256": digests,
              "signed_by": {"employee": {"name": employee["name"], "employee_id": employee["employee_id"]},
                            "it_officer": {"name": it_officer["name"], "employee_id": it_officer["employee_id"]}},
              "accepted_at": _today().strftime("%Y-%m-%dT%H:%M:%SZ"),
              "asset_change": change.evidence() if change else None}
    return record, record_cli_change("acceptances", record, root=root), change
