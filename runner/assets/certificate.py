"""Certificate of sanitization (NIST SP 800-88 Rev. 1 Appendix G fields, and more): JSON signed with the
ledger's ed25519 key, HTML and PDF renderings, all three sealed in the ledger by an ``attach`` entry.

The JSON is the certificate; ``signature.value`` is the signature of the canonical JSON of everything else, so
a byte changed anywhere in it fails ``verify``. HTML and PDF are renderings of it (their hashes are in the
ledger, so ``sop audit verify`` catches a changed rendering too).
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature

from runner.assets.evidence import evidence_dir, seal
from runner.audit import keys, ledger
from runner.audit.evidence import unsealed_or_changed
from runner.files import write_private
from runner.report.i18n import N_, labels
from runner.report.render import render

SIGNED_FIELD = "signature"
VERIFICATION_TEXT = labels("verification", {"pass": N_("pass"), "fail": N_("fail")})  # the rendering's words


def new_certificate_id(tag: str) -> str:
    return f"SAN-{tag}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def sign(document: dict[str, Any], root: Path | None = None) -> dict[str, Any]:
    key = keys.signing_key(root)
    public = key.public_key()
    body = {k: v for k, v in document.items() if k != SIGNED_FIELD}
    value = base64.b64encode(key.sign(ledger.canonical(body).encode())).decode()
    return {**body, SIGNED_FIELD: {"algorithm": "ed25519", "key_id": keys.key_id(public),
                                   "fingerprint": keys.fingerprint(public),
                                   "public_key": base64.b64encode(keys.raw_public(public)).decode(),
                                   "signed": "canonical JSON (sorted keys, no spaces) of every other field",
                                   "value": value}}


@dataclass
class Verdict:
    path: Path
    document: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(path: Path, trusted_keys: tuple[str, ...] = ()) -> Verdict:
    """Signature of the certificate JSON at ``path``, against the pinned keys (as `sop audit verify`)."""
    verdict = Verdict(Path(path))
    try:
        document = json.loads(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        verdict.problems.append(f"{path}: not a readable JSON certificate ({exc}): altered or damaged")
        return verdict
    verdict.document = document
    sig = document.get(SIGNED_FIELD) if isinstance(document, dict) else None
    if not isinstance(sig, dict):
        verdict.problems.append(f"{path}: no signature")
        return verdict
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(str(sig.get("public_key")), validate=True))
        body = {k: v for k, v in document.items() if k != SIGNED_FIELD}
        public.verify(base64.b64decode(str(sig.get("value")), validate=True), ledger.canonical(body).encode())
    except (InvalidSignature, ValueError, TypeError):
        verdict.problems.append(f"{path}: signature does not verify (the certificate was altered)")
        return verdict
    pins, source = keys.pinned_fingerprints(trusted_keys)
    if keys.fingerprint(public) not in pins:
        verdict.problems.append(f"{path}: signed by key {keys.key_id(public)}, which is not a pinned key "
                                f"(pins from {source})")
    return verdict


def write(document: dict[str, Any], *, run_id: str = "", root: Path | None = None,
          pdf: bool = True, lang: str | None = None) -> dict[str, Path]:
    """Sign, write certificate.json/.html/.pdf under assets/certificates/<tag>/<id>/ and seal them (HTML and PDF
    in ``lang``, default settings.language(); the signed JSON is the same in every language)."""
    signed = sign(document, root)
    out = evidence_dir("certificates", signed["asset"]["tag"], signed["certificate_id"], root=root)
    paths = render_files(signed, out, pdf=pdf, lang=lang)
    seal(paths, run_id=run_id or "-", root=root)
    return paths


def render_files(signed: dict[str, Any], out: Path, *, pdf: bool = True, lang: str | None = None) -> dict[str, Path]:
    paths = render(signed, out, template="certificate", basename="certificate", formats=("html",), lang=lang)
    json_path = out / "certificate.json"
    write_private(json_path, json.dumps(signed, indent=2, ensure_ascii=False, sort_keys=True) + "\n", durable=True)
    paths["json"] = json_path
    if pdf:
        from runner.report.pdf import html_to_pdf

        paths["pdf"] = html_to_pdf(paths["html"], out / "certificate.pdf")
    return paths


def latest(tag: str, root: Path | None = None) -> Path | None:
    base = evidence_dir("certificates", tag, root=root)
    found = sorted(base.glob("*/certificate.json"), key=lambda p: p.parent.name)
    return found[-1] if found else None


def check(path: Path, root: Path, trusted_keys: tuple[str, ...] = ()) -> Verdict:
    """Signature (pinned key) and the ledger's seal of the certificate JSON and its renderings."""
    verdict = verify(path, trusted_keys)
    siblings = [p for p in sorted(Path(path).parent.glob("certificate.*")) if not p.name.endswith(".tmp")]
    for sibling, why in unsealed_or_changed(siblings, root).items():
        verdict.problems.append(f"{sibling}: not sealed in the ledger {root / 'ledger.jsonl'}" if why == "unsealed"
                                else f"{sibling}: does not match its hash in the ledger (altered)")
    return verdict
