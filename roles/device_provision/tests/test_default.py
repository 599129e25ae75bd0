"""Molecule verifier: the account in exactly its groups, a first login that forces a password change, software."""

import testinfra


def test_account_in_the_job_roles_groups(host: "testinfra.host.Host") -> None:
    user = host.user("mtest")
    assert user.exists and user.shell == "/bin/bash" and user.gecos.startswith("Molecule Test")
    assert sorted(set(user.groups) - {user.group}) == ["finance", "mol-extra"]


def test_initial_password_must_be_changed_at_first_login(host: "testinfra.host.Host") -> None:
    with host.sudo():
        aging = host.check_output("chage -l mtest")
        shadow = host.check_output("getent shadow mtest").split(":")
    assert "password must be changed" in aging
    assert shadow[1].startswith("$6$") and shadow[2] == "0"


def test_software_and_hostname(host: "testinfra.host.Host") -> None:
    assert host.package("unzip").is_installed
    assert host.file("/etc/hostname").content_string.strip() == "ws-lt02"
