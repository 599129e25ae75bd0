"""Action (runs on the controller): write and seal one of SOP 2's forms (handover sop2.3, return sop2.5).

The form's device comes from the asset register; its parties, accessories, software and access from the
task. The form is JSON with HTML and PDF renderings (runner.assets.forms), sealed in the ledger; its paths and
sha256 come back as ``sop_evidence``. A form already generated for the same content is not written again, so a
second run changes nothing; check mode writes nothing.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ansible.plugins.action import ActionBase

from runner.assets import Register, forms
from runner.audit.events import sha256_file
from runner.errors import SopError
from runner.settings import audit_dir

PARTY = {"type": "dict", "required": True}
ARGUMENT_SPEC = {
    "kind": {"type": "str", "default": "handover", "choices": sorted(forms.KINDS)},
    "tag": {"type": "str", "required": True},
    "employee": PARTY,
    "officer": PARTY,
    "hostname": {"type": "str", "default": ""},
    "condition": {"type": "str", "default": "good"},
    "accessories": {"type": "list", "elements": "dict", "default": []},
    "software": {"type": "list", "elements": "dict", "default": []},
    "access": {"type": "list", "elements": "dict", "default": []},
    "remarks": {"type": "str", "default": ""},
    "backup": {"type": "str"},
    "lang": {"type": "str", "choices": ["en", "id"]},
    "pdf": {"type": "bool", "default": True},
    "db": {"type": "path"},
}
DETAILS = ("hostname", "condition", "accessories", "software", "access", "remarks", "backup")
CONTENT = ("first_party", "second_party", "device", "accessories", "software", "access", "remarks", "backup")


def _same_content(previous: dict[str, Any], document: dict[str, Any]) -> bool:
    return all(previous.get(key) == document.get(key) for key in CONTENT)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        root = audit_dir()
        try:
            with Register.configured(args.get("db")) as register:
                asset = register.get(args["tag"])
            details = {k: args.get(k) for k in DETAILS}
            document = forms.build(args["kind"], asset, employee=args["employee"], officer=args["officer"],
                                   details=details, run_id=os.environ.get("SOP_RUN_ID", ""), root=root)
            previous = forms.latest(args["tag"], args["kind"], root)
            if previous is not None and _same_content(json.loads(previous.read_text()), document):
                return self._done(result, previous.parent, changed=False)
            if self._task.check_mode:
                result.update(changed=True, msg=f"{args['kind']} form for {args['tag']}: would be written "
                                                f"({document['document_number']}; check mode)")
                return result
            paths = forms.write(document, root=root, pdf=args["pdf"], lang=args.get("lang"))
        except SopError as exc:
            return {**result, "failed": True, "changed": False, "msg": str(exc)}
        return self._done(result, paths["json"].parent, changed=True)

    @staticmethod
    def _done(result: dict[str, Any], folder: Any, *, changed: bool) -> dict[str, Any]:
        files = {p.name: str(p) for p in sorted(folder.glob("form.*")) if not p.name.endswith(".tmp")}
        digests = {name: sha256_file(folder / name) for name in files}
        form = json.loads((folder / "form.json").read_text())
        verb = "written and sealed" if changed else "already generated, unchanged"
        result.update(changed=changed, form=files, sha256=digests,
                      sop_evidence={"form": {"kind": form["form"], "document_number": form["document_number"],
                                             "asset": form["device"]["tag"], "files": files, "sha256": digests,
                                             "employee": form["second_party"]["name"]}},
                      msg=f"{form['form']} form {form['document_number']} for {form['device']['tag']}: {verb}")
        return result
