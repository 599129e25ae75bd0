"""The lab's directory: OpenLDAP's slapd from Debian (in the lab image), where provisioning grants "email and
system access" (SOP 2.2) and the return takes it away (SOP 2.5).

``sop lab up`` writes ``<state>/ldap/slapd.conf`` (an mdb database for ``dc=sop,dc=lab``, the admin's password
as a salted SHA hash) and the base entries (``ou=people``, ``ou=groups``); the ``ldap`` service container runs
``python -m runner.lab.directory --serve <state>/ldap``, which loads the base entries into an empty database
once and then becomes slapd. A real estate points the same ``directory_*`` variables at its own directory.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import secrets
import subprocess
import textwrap
from pathlib import Path

SUFFIX = "dc=sop,dc=lab"
ADMIN_DN = f"cn=admin,{SUFFIX}"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
PORT = 389
DATA_DIR = "/var/lib/sop-ldap"  # inside the service container


def ssha(password: str) -> str:
    """RFC 2307 ``{SSHA}`` hash (what slappasswd writes by default)."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # the scheme slapd verifies
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def write_config(directory: Path, admin_password: str) -> None:
    """slapd.conf and base.ldif for the lab's directory (0600: the config holds the admin's hash; slapd runs as
    root in its container)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = textwrap.dedent(f"""\
        # The lab's directory (runner/lab/directory.py): written at `sop lab up`.
        include /etc/ldap/schema/core.schema
        include /etc/ldap/schema/cosine.schema
        include /etc/ldap/schema/inetorgperson.schema
        include /etc/ldap/schema/nis.schema
        modulepath /usr/lib/ldap
        moduleload back_mdb
        pidfile /run/sop-slapd.pid
        database mdb
        maxsize 268435456
        suffix "{SUFFIX}"
        rootdn "{ADMIN_DN}"
        rootpw {ssha(admin_password)}
        directory {DATA_DIR}
        index objectClass,uid,member eq
        access to attrs=userPassword by self write by anonymous auth by * none
        access to * by users read by * none
        """)
    base = textwrap.dedent(f"""\
        dn: {SUFFIX}
        objectClass: dcObject
        objectClass: organization
        dc: sop
        o: SOP lab

        dn: {PEOPLE}
        objectClass: organizationalUnit
        ou: people

        dn: {GROUPS}
        objectClass: organizationalUnit
        ou: groups
        """)
    for name, text in (("slapd.conf", config), ("base.ldif", base)):
        path = directory / name
        path.touch(mode=0o600)
        path.write_text(text)


def serve(directory: Path) -> None:
    """In the service container: load the base entries into an empty database once, then run slapd."""
    data = Path(DATA_DIR)
    data.mkdir(parents=True, exist_ok=True)
    config = str(directory / "slapd.conf")
    if not (data / "data.mdb").exists():
        subprocess.run(["slapadd", "-f", config, "-l", str(directory / "base.ldif")], check=True, timeout=60)
    os.execv("/usr/sbin/slapd", ["slapd", "-d", "0", "-f", config, "-h", f"ldap://0.0.0.0:{PORT}/"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=Path, required=True, help="directory with slapd.conf and base.ldif")
    serve(parser.parse_args().serve)


if __name__ == "__main__":
    main()
