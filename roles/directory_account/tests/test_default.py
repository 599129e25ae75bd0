"""Molecule verifier, from a lab host over the lab network: the user binds with its password, is in its groups."""

import testinfra

USER = "uid=mtest,ou=people,dc=sop,dc=lab"
BIND = f"-x -H ldap://ldap -D {USER} -w molecule-test-only"


def test_the_user_binds_with_its_password(host: "testinfra.host.Host") -> None:
    assert host.check_output(f"ldapwhoami {BIND}") == f"dn:{USER}"


def test_the_user_is_in_its_groups_with_its_attributes(host: "testinfra.host.Host") -> None:
    groups = host.check_output(f"ldapsearch -LLL {BIND} -b ou=groups,dc=sop,dc=lab '(member={USER})' cn")
    assert sorted(line.split(": ", 1)[1] for line in groups.splitlines() if line.startswith("cn: ")) == ["qa", "staff"]
    entry = host.check_output(f"ldapsearch -LLL {BIND} -b {USER} -s base mail employeeNumber title")
    assert "mail: mtest@sop.lab" in entry and "employeeNumber: E-9" in entry and "title: Tester" in entry
