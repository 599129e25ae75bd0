"""playbooks/provision.yml on the lab (SOP 2.1-2.3): a real workstation, the lab's OpenLDAP directory, the
asset register and the handover form. A second run changes nothing; acceptance assigns the asset; a device that is
not in stock is refused and nothing changes."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import ldap
import pytest
import yaml

from runner.assets import Register
from runner.lab import Lab
from runner.paths import REPO_ROOT

pytestmark = pytest.mark.lab
SOP = str(REPO_ROOT / ".venv" / "bin" / "sop")
HOST, TAG, USER = "ws-lt02", "LT-0200", "sdewi"
REQUEST = {"provision_request": {"employee_id": "E-1042", "name": "Sari Dewi", "department": "Finance",
                                 "job_role": "finance_staff", "asset_tag": TAG},
           "provision_officer": {"name": "Budi Santoso", "employee_id": "IT-007", "title": "IT Support"}}
USER_DN = f"uid={USER},ou=people,dc=sop,dc=lab"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("provision")


@pytest.fixture(scope="module")
def env(work: Path) -> dict[str, str]:
    return {**os.environ, "SOP_ASSETS_DB": str(work / "register.sqlite"), "SOP_AUDIT_DIR": str(work / "audit"),
            "SOP_PROVISION_SECRETS_DIR": str(work / "secrets")}


def _sop(lab: Lab, env: dict[str, str], request: dict, *args: str) -> subprocess.CompletedProcess[str]:
    path = Path(env["SOP_AUDIT_DIR"]).parent / "request.json"
    path.write_text(json.dumps(request))
    return subprocess.run([SOP, "run", "playbooks/provision.yml", "-i", str(lab.inventory_path), "-e", f"@{path}",
                           "-q", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=1500, check=False,
                          env=env)


def _changed(result: subprocess.CompletedProcess[str]) -> int:
    match = re.search(r"changed=(\d+)", result.stdout)
    assert match, result.stdout[-3000:]
    return int(match.group(1))


def _directory(lab: Lab) -> tuple[str, str]:
    inventory = yaml.safe_load(lab.inventory_path.read_text())["all"]["vars"]
    return inventory["directory_account_server_uri"], inventory["directory_account_bind_pw"]


def _bind(uri: str, dn: str, password: str) -> ldap.ldapobject.LDAPObject:
    conn = ldap.initialize(uri)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 10)
    conn.simple_bind_s(dn, password)
    return conn


@pytest.fixture(scope="module")
def registered(lab: Lab, env: dict[str, str]) -> None:
    """A bare workstation, a directory without the employee (an earlier test session's), the laptop in stock."""
    lab.recreate(HOST)
    uri, admin_pw = _directory(lab)
    admin = _bind(uri, "cn=admin,dc=sop,dc=lab", admin_pw)
    for dn, _ in admin.search_s("ou=groups,dc=sop,dc=lab", ldap.SCOPE_ONELEVEL, f"(member={USER_DN})", ["cn"]):
        admin.modify_s(dn, [(ldap.MOD_DELETE, "member", [USER_DN.encode()])])
    if admin.search_s("ou=people,dc=sop,dc=lab", ldap.SCOPE_ONELEVEL, f"(uid={USER})", ["uid"]):
        admin.delete_s(USER_DN)
    with Register(Path(env["SOP_ASSETS_DB"])) as register:
        register.apply(TAG, "create", {"serial": "PF3PROV01", "make": "Lenovo", "model": "ThinkPad T14",
                                       "type": "laptop", "hostname": HOST}, actor="test")


def test_check_mode_changes_nothing(lab: Lab, registered, env: dict[str, str]) -> None:
    with Register(Path(env["SOP_ASSETS_DB"])) as register:
        history = register.history(TAG)
    dry = _sop(lab, env, REQUEST, "--check")
    assert dry.returncode == 0, dry.stdout[-4000:] + dry.stderr[-2000:]
    assert "no such user" in lab.exec(HOST, "sh", "-c", f"id {USER} 2>&1; true")
    uri, admin_pw = _directory(lab)
    admin = _bind(uri, "cn=admin,dc=sop,dc=lab", admin_pw)
    assert not admin.search_s("ou=people,dc=sop,dc=lab", ldap.SCOPE_ONELEVEL, f"(uid={USER})", ["uid"])
    assert not list(Path(env["SOP_AUDIT_DIR"]).glob(f"assets/forms/{TAG}/*/form.json"))
    with Register(Path(env["SOP_ASSETS_DB"])) as register:
        assert register.history(TAG) == history


@pytest.fixture(scope="module")
def provisioned(lab: Lab, registered, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = _sop(lab, env, REQUEST)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return result


def test_device_gets_the_account_groups_first_login_and_software(lab: Lab, provisioned) -> None:
    groups = lab.exec(HOST, "id", "-nG", USER).split()
    assert "finance" in groups
    assert "password must be changed" in lab.exec(HOST, "chage", "-l", USER)
    for package in ("htop", "unzip", "bc"):
        assert "install ok installed" in lab.exec(HOST, "dpkg-query", "-W", "-f", "${Status}", package)


def test_directory_user_binds_and_is_in_its_access_groups(lab: Lab, provisioned, work: Path) -> None:
    uri, admin_pw = _directory(lab)
    password = (work / "secrets" / f"{USER}.initial-password").read_text().split()[0]
    assert _bind(uri, USER_DN, password).whoami_s() == f"dn:{USER_DN}"
    admin = _bind(uri, "cn=admin,dc=sop,dc=lab", admin_pw)
    found = admin.search_s("ou=groups,dc=sop,dc=lab", ldap.SCOPE_ONELEVEL, f"(member={USER_DN})", ["cn"])
    assert sorted(entry[1]["cn"][0].decode() for entry in found) == ["erp-finance", "finance", "mail", "staff"]
    entry = admin.search_s(USER_DN, ldap.SCOPE_BASE, attrlist=["mail", "employeeNumber", "title"])[0][1]
    assert entry["employeeNumber"] == [b"E-1042"] and entry["title"] == [b"Finance Staff"]


def test_baseline_applied_and_no_secret_in_the_record(lab: Lab, provisioned, env: dict[str, str],
                                                     work: Path) -> None:
    record_path = sorted(Path(env["SOP_AUDIT_DIR"]).glob("runs/*/record.json"))[-1]
    text = record_path.read_text()
    record = json.loads(text)
    roles = {t.get("role") for t in record["tasks"]} if "tasks" in record else set()
    assert "security_baseline" in roles or "security_baseline" in text
    password = (work / "secrets" / f"{USER}.initial-password").read_text().split()[0]
    _, admin_pw = _directory(lab)
    for path in Path(env["SOP_AUDIT_DIR"]).rglob("*"):
        if path.is_file() and path.suffix in {".json", ".jsonl", ".md", ".html"}:
            content = path.read_text(errors="replace")
            assert password not in content and admin_pw not in content, f"a secret in {path}"


def test_handover_form_in_three_formats_with_what_was_granted(provisioned, env: dict[str, str]) -> None:
    forms = sorted(Path(env["SOP_AUDIT_DIR"]).glob(f"assets/forms/{TAG}/*/form.*"))
    assert sorted(p.name for p in forms) == ["form.html", "form.json", "form.pdf"]
    form = json.loads(next(p for p in forms if p.name == "form.json").read_text())
    assert form["device"]["serial"] == "PF3PROV01" and form["second_party"]["employee_id"] == "E-1042"
    assert {s["name"] for s in form["software"]} == {"htop", "unzip", "bc"}
    assert all(s["version"] for s in form["software"])
    directory = next(a for a in form["access"] if a["system"].startswith("directory"))
    assert directory["account"] == USER and "finance" in directory["groups"]
    assert "Berita Acara Serah Terima Perangkat" in next(p for p in forms if p.name == "form.html").read_text()


def test_second_run_changes_nothing_then_acceptance_assigns(lab: Lab, provisioned, env: dict[str, str]) -> None:
    again = _sop(lab, env, REQUEST)
    assert again.returncode == 0, again.stdout[-4000:]
    assert _changed(again) == 0, again.stdout[-4000:]
    accepted = subprocess.run([SOP, "handover", "accept", TAG, "--by", "Sari Dewi"], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    with Register(Path(env["SOP_ASSETS_DB"])) as register:
        asset = register.get(TAG)
    assert (asset.status, asset.assignee_id, asset.assignee_username) == ("assigned", "E-1042", USER)
    assert _changed(_sop(lab, env, REQUEST)) == 0  # a re-run for the same holder is still a no-op


def test_a_device_not_in_stock_is_refused_and_nothing_changes(lab: Lab, provisioned, env: dict[str, str]) -> None:
    other = {**REQUEST, "provision_request": {**REQUEST["provision_request"], "employee_id": "E-2001",
                                              "name": "Rudi Hartono"}}
    before = lab.exec(HOST, "sh", "-c", "getent passwd | sha256sum")
    with Register(Path(env["SOP_ASSETS_DB"])) as register:
        history = register.history(TAG)
    refused = _sop(lab, env, other)
    assert refused.returncode != 0
    assert "asset LT-0200 is assigned (held by Sari Dewi)" in refused.stdout, refused.stdout[-3000:]
    assert lab.exec(HOST, "sh", "-c", "getent passwd | sha256sum") == before
    with Register(Path(env["SOP_ASSETS_DB"])) as register:
        assert register.history(TAG) == history


RETURN = {"return_request": {"asset_tag": TAG, "condition": "fair", "accessories_returned": ["charger"],
                             "remarks": "bag not returned"},
          "return_backup": True,
          "return_officer": {"name": "Budi Santoso", "employee_id": "IT-007", "title": "IT Support"}}


def _return(lab: Lab, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    path = Path(env["SOP_AUDIT_DIR"]).parent / "return.json"
    path.write_text(json.dumps(RETURN))
    return subprocess.run([SOP, "run", "playbooks/return.yml", "-i", str(lab.inventory_path), "-e", f"@{path}",
                           "-q", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False,
                          env=env)


def test_return_disables_the_directory_account_and_records_the_condition(lab: Lab, provisioned,
                                                                          env: dict[str, str], work: Path) -> None:
    uri, admin_pw = _directory(lab)
    password = (work / "secrets" / f"{USER}.initial-password").read_text().split()[0]
    dry = _return(lab, env, "--check")
    assert dry.returncode == 0, dry.stdout[-4000:]
    _bind(uri, USER_DN, password)  # check mode took nothing away
    returned = _return(lab, env)
    assert returned.returncode == 0, returned.stdout[-5000:] + returned.stderr[-2000:]
    with pytest.raises(ldap.INVALID_CREDENTIALS):
        _bind(uri, USER_DN, password)
    admin = _bind(uri, "cn=admin,dc=sop,dc=lab", admin_pw)
    assert not admin.search_s("ou=groups,dc=sop,dc=lab", ldap.SCOPE_ONELEVEL, f"(member={USER_DN})", ["cn"])
    assert lab.exec(HOST, "passwd", "-S", USER).split()[1] == "L"
    with Register(Path(env["SOP_ASSETS_DB"])) as register:
        assert register.get(TAG).status == "returned"
    form = json.loads(next(Path(env["SOP_AUDIT_DIR"]).glob(f"assets/forms/{TAG}/BAPB-*/form.json")).read_text())
    assert form["device"]["condition"] == "fair" and form["remarks"] == "bag not returned"
    assert form["accessories"] == [{"item": "charger"}]
    revoked = next(a for a in form["access"] if a["system"].startswith("directory"))
    assert sorted(revoked["groups"]) == ["erp-finance", "finance", "mail", "staff"]
    snapshots = dict(part.split() for part in form["backup"].split(", "))
    assert sorted(snapshots) == ["cloud", "local"], form["backup"]
    local = json.loads(lab.exec(HOST, "sh", "-c", "RESTIC_PASSWORD_FILE=/etc/sop-restic-backup/repo-local.password "
                                                  "restic --no-cache -r /srv/backup/restic snapshots --json "
                                                  "--tag reason:return-LT-0200"))
    assert [s["short_id"] for s in local] == [snapshots["local"]], local
    assert "/home" in local[0]["paths"]
    again = _return(lab, env)
    assert again.returncode == 0 and _changed(again) == 0, again.stdout[-4000:]
