"""Action (runs on the controller): SOP 2.1, check a device request and plan its provisioning.

The request (employee id, name, department, job role, asset tag; optionally username, title, e-mail, SSH key)
and the IT officer handing over (name, employee id, title) are validated at the edge; the job role is looked up
in policies/job_roles.yml and the asset in the register: it must be in stock, or already assigned to this
employee (a re-run). The plan (account, groups, directory groups, software, access, accessories, hostname) comes
back as ``provision`` and as ``sop_evidence``. Read-only.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ansible.plugins.action import ActionBase

from runner.assets import Register
from runner.assets.policy import job_role, load_job_roles
from runner.errors import RefusedError, SopError

REQUIRED = ("employee_id", "name", "department", "job_role", "asset_tag")
ARGUMENT_SPEC = {
    "request": {"type": "dict", "required": True},
    "officer": {"type": "dict", "required": True},
    "policy": {"type": "path"},
    "db": {"type": "path"},
    "mail_domain": {"type": "str", "default": "sop.lab"},
}
USERNAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


def username_for(name: str) -> str:
    """``Sari Dewi Lestari`` -> ``slestari``: first initial and last name, ASCII, lower case."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = [re.sub(r"[^a-z]", "", w.lower()) for w in ascii_name.split()]
    words = [w for w in words if w]
    if not words:
        return ""
    return (words[0][0] + words[-1] if len(words) > 1 else words[0])[:32]


def problems_of(request: dict[str, Any]) -> list[str]:
    out = [f"{key} is missing" for key in REQUIRED if not str(request.get(key) or "").strip()]
    username = request.get("username")
    if username is not None and not USERNAME.match(str(username)):
        out.append(f"username {username!r} is not a valid account name")
    key = str(request.get("ssh_public_key") or "")
    if key and not re.match(r"^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$", key.strip()):
        out.append("ssh_public_key is not an OpenSSH public key")
    return out


def plan(request: dict[str, Any], role: dict[str, Any], asset: Any, mail_domain: str) -> dict[str, Any]:
    username = str(request.get("username") or username_for(str(request["name"])))
    key = str(request.get("ssh_public_key") or "").strip()
    if role["login"] == "ssh_key_only" and not key:
        raise RefusedError(f"job role {role['name']}: the policy allows SSH-key logins only, and the request has "
                           "no ssh_public_key")
    return {"username": username, "full_name": str(request["name"]).strip(),
            "employee_id": str(request["employee_id"]).strip(), "department": str(request["department"]).strip(),
            "title": str(request.get("title") or role["title"]), "job_role": role["name"],
            "email": str(request.get("email") or f"{username}@{mail_domain}"),
            "shell": role["shell"], "groups": role["groups"], "directory_groups": role["directory_groups"],
            "software": role["software"], "access": role["access"], "accessories": role["accessories"],
            "login": "ssh_key" if key else "initial_password", "ssh_public_key": key,
            "hostname": str(request.get("hostname") or asset.hostname), "asset_tag": asset.tag,
            "asset": {"make": asset.make, "model": asset.model, "serial": asset.serial, "status": asset.status}}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        request, officer = dict(args["request"]), dict(args["officer"])
        problems = problems_of(request) + [f"the IT officer's {key} is missing" for key in ("name", "employee_id")
                                           if not str(officer.get(key) or "").strip()]
        if problems:
            return {**result, "failed": True, "changed": False,
                    "msg": "provisioning request: " + "; ".join(problems)}
        try:
            role = job_role(load_job_roles(args.get("policy")), str(request["job_role"]))
            with Register.configured(args.get("db")) as register:
                asset = register.get(str(request["asset_tag"]))
            rerun = asset.status == "assigned" and asset.assignee_id == str(request["employee_id"]).strip()
            if asset.status != "in_stock" and not rerun:
                raise RefusedError(f"asset {asset.tag} is {asset.status}"
                                   f"{' (held by ' + asset.assignee_name + ')' if asset.assignee_name else ''}: "
                                   "only a device in stock is provisioned for a new holder")
            planned = plan(request, role, asset, args["mail_domain"])
        except SopError as exc:
            return {**result, "failed": True, "changed": False, "msg": str(exc)}
        if not planned["hostname"]:
            return {**result, "failed": True, "changed": False,
                    "msg": f"asset {asset.tag} has no hostname in the register and the request names none"}
        evidence = {k: planned[k] for k in ("asset_tag", "hostname", "username", "employee_id", "job_role",
                                            "groups", "directory_groups", "software", "login")}
        officer = {"name": str(officer["name"]).strip(), "employee_id": str(officer["employee_id"]).strip(),
                   "title": str(officer.get("title") or "")}
        result.update(changed=False, provision=planned, officer=officer,
                      sop_evidence={"provision_request": {**evidence, "officer": officer["name"]}},
                      msg=f"{planned['full_name']} ({planned['employee_id']}, {planned['job_role']}): "
                          f"{asset.tag} -> {planned['hostname']} as {planned['username']}")
        return result
