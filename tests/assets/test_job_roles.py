"""policies/job_roles.yml (validated like every policy) and the request check of provisioning (SOP 2.1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible_collections.sop.core.plugins.action.sop_provision_request import plan, problems_of, username_for

from runner.assets import Asset
from runner.assets.policy import job_role, load_job_roles
from runner.errors import PolicyError, RefusedError

REQUEST = {"employee_id": "E-1", "name": "Sari Dewi", "department": "Finance", "job_role": "finance_staff",
           "asset_tag": "LT-1"}


def test_shipped_policy_loads_and_folds_the_defaults_in() -> None:
    role = job_role(load_job_roles(), "finance_staff")
    assert role["directory_groups"][:2] == ["staff", "mail"] and "finance" in role["directory_groups"]
    assert role["software"][:2] == ["htop", "unzip"] and role["groups"] == ["finance"]
    with pytest.raises(PolicyError, match=re.escape("job role 'cleaner' is not in policies/job_roles.yml")):
        job_role(load_job_roles(), "cleaner")


def test_a_malformed_policy_names_the_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "job_roles.yml"
    bad.write_text("job_roles:\n  defaults: {shell: /bin/bash, login: ssh_key_or_initial_password}\n  roles:\n"
                   "    finance_staff:\n      title: Finance\n      groups: [Finance Team]\n"
                   "      directory_groups: []\n      software: []\n      access: []\n")
    with pytest.raises(PolicyError) as error:
        load_job_roles(bad)
    message = str(error.value)
    assert str(bad) in message and "job_roles.roles.finance_staff.groups.0" in message and "line 6" in message


@pytest.mark.parametrize(("name", "expected"), [("Sari Dewi", "sdewi"), ("Budi", "budi"),
                                                ("Ni Made Ayu Süarti", "nsuarti"), ("  ", "")])
def test_username_from_the_name(name: str, expected: str) -> None:
    assert username_for(name) == expected


def test_request_problems_are_all_named() -> None:
    problems = problems_of({"name": "X", "username": "Bad Name", "ssh_public_key": "not a key"})
    assert "employee_id is missing" in problems and "asset_tag is missing" in problems
    assert "username 'Bad Name' is not a valid account name" in problems
    assert "ssh_public_key is not an OpenSSH public key" in problems
    assert problems_of(REQUEST) == []


def test_plan_login_follows_the_key_and_the_policy() -> None:
    role = job_role(load_job_roles(), "finance_staff")
    asset = Asset(tag="LT-1", hostname="ws-lt01")
    assert plan(REQUEST, role, asset, "corp.example")["login"] == "initial_password"
    keyed = plan({**REQUEST, "ssh_public_key": "ssh-ed25519 AAAAC3Nza sari"}, role, asset, "corp.example")
    assert keyed["login"] == "ssh_key" and keyed["email"] == "sdewi@corp.example"
    with pytest.raises(RefusedError, match="SSH-key logins only"):
        plan(REQUEST, {**role, "login": "ssh_key_only"}, asset, "corp.example")
