"""The lab's apt repositories: what the patch SOP (upd1-upd6) is proven on.

Built on the controller at ``sop lab up`` (packages cached by recipe hash, repositories per lab) and served over
HTTP by the lab's ``apt`` service container (``python -m http.server`` on the lab network):

- ``signed/stable``: ``sop-demo-app`` 1.0 and 1.1 (a systemd service answering on port 8081) and
  ``sop-demo-plugin`` 1.0, which the lab's local ClamAV signature (``sop-lab.hdb``) flags as malware;
- ``signed/testing``: ``sop-demo-app`` 1.2, whose service fails to start;
- ``unsigned/``: the same kind of flat repository with no signature (the refusal of unsigned sources);
- ``signed/expired``: published by a test (``publish_expired_suite``): signed, but its Release expired.

The signed ones are signed by a key of this lab (gpg, generated once per lab) and trusted by each lab host through a
``Signed-By`` keyring; hosts get the ``stable`` source at lab up, tests add the others.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

from runner import execute
from runner.errors import LabError
from runner.paths import cache_dir

PORT = 8081  # where sop-demo-app answers on a lab host
SERVICE_PORT = 8080  # the apt service container's HTTP port
KEYRING_ON_HOST = "/usr/share/keyrings/sop-lab-archive.gpg"
SOURCES_ON_HOST = "/etc/apt/sources.list.d/sop-lab.sources"
SIGNATURE_ON_HOST = "/var/lib/clamav/sop-lab.hdb"
MALWARE_NAME = "SopLab.Flagged.DemoPlugin"

APP = """\
#!/usr/bin/python3
# sop-demo-app {version}: the lab's demo service (answers "sop-demo-app {version}" on port {port}).
import http.server, sys
{fail}
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"sop-demo-app {version}\\n"
        self.send_response(200 if self.path in ("/", "/health") else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", {port}), Handler).serve_forever()
"""
FAIL = 'sys.exit("sop-demo-app {version}: cannot read its configuration (a broken release)")'
UNIT = """\
[Unit]
Description=SOP lab demo application
After=network.target

[Service]
ExecStart=/usr/bin/sop-demo-app
Restart=no

[Install]
WantedBy=multi-user.target
"""
POSTINST = """\
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable sop-demo-app.service >/dev/null 2>&1 || true
    # A release whose service fails still installs: validation (upd4.1) is what must catch it.
    systemctl restart sop-demo-app.service || true
fi
"""
PRERM = """\
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop sop-demo-app.service || true
fi
"""
# (package, version, suite): what each repository publishes.
PACKAGES = [("sop-demo-app", "1.0", "stable"), ("sop-demo-app", "1.1", "stable"),
            ("sop-demo-app", "1.2", "testing"), ("sop-demo-plugin", "1.0", "stable")]


def recipe_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def _control(name: str, version: str, description: str) -> str:
    return (f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: SOP lab <lab@sop.invalid>\n"
            f"Depends: python3\nSection: misc\nPriority: optional\nDescription: {description}\n")


def _build_deb(name: str, version: str, out: Path) -> Path:
    deb = out / f"{name}_{version}_all.deb"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "DEBIAN").mkdir()
        if name == "sop-demo-app":
            fail = FAIL.format(version=version) if version == "1.2" else ""
            files = {"usr/bin/sop-demo-app": (APP.format(version=version, port=PORT, fail=fail), 0o755),
                     "lib/systemd/system/sop-demo-app.service": (UNIT, 0o644),
                     "DEBIAN/postinst": (POSTINST, 0o755), "DEBIAN/prerm": (PRERM, 0o755)}
            control = _control(name, version, "SOP lab demo service answering on a port")
        else:
            files = {"usr/share/sop-demo-plugin/README": (f"sop-demo-plugin {version}\n", 0o644)}
            control = _control(name, version, "SOP lab plugin that the lab's ClamAV signature flags")
        files["DEBIAN/control"] = (control, 0o644)
        for rel, (text, mode) in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(mode)
        execute.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(deb)], timeout=120)
    return deb


def build_packages() -> Path:
    """The lab's .deb files, built with dpkg-deb once per recipe (cached: the malware signature hashes them)."""
    out = cache_dir() / f"sop-lab-debs-{recipe_hash()}"
    if (out / "done").exists():
        return out
    if shutil.which("dpkg-deb") is None:
        raise LabError("dpkg-deb not found: cannot build the lab's packages", hint="apt-get install dpkg-dev")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name, version, _suite in PACKAGES:
        _build_deb(name, version, out)
    (out / "done").write_text("")
    return out


def _gpg(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return execute.run(["gpg", "--batch", "--quiet", "--homedir", str(home), *args], timeout=120)


def _flat_repo(repo: Path, debs: list[Path], label: str, suite: str, **fields: str) -> Path:
    """A flat repository of ``debs``; ``fields`` are further Release options (``Date``, ``ValidTime``)."""
    repo.mkdir(parents=True, exist_ok=True)
    for deb in debs:
        shutil.copy2(deb, repo / deb.name)
    packages = execute.run(["apt-ftparchive", "packages", "."], cwd=str(repo), timeout=120).stdout
    (repo / "Packages").write_text(packages)
    release_fields = {"Origin": label, "Label": label, "Suite": suite, "Codename": suite, **fields}
    options = [arg for key, value in release_fields.items()
               for arg in ("-o", f"APT::FTPArchive::Release::{key}={value}")]
    release = execute.run(["apt-ftparchive", *options, "release", "."], cwd=str(repo), timeout=120).stdout
    (repo / "Release").write_text(release)
    return repo


def _sign(home: Path, repo: Path) -> None:
    _gpg(home, "--yes", "--clearsign", "-o", str(repo / "InRelease"), str(repo / "Release"))
    _gpg(home, "--yes", "--armor", "--detach-sign", "-o", str(repo / "Release.gpg"), str(repo / "Release"))
    execute.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False, timeout=30)


def publish_expired_suite(www: Path, suite: str = "expired") -> str:
    """A suite signed by the lab's key whose Release expired (``Valid-Until`` 2024-06-02), publishing
    ``sop-demo-app`` 1.1: what upd2.2's refusal of expired sources is proven on. Returns its deb822 source."""
    shutil.rmtree(www / "signed" / suite, ignore_errors=True)
    repo = _flat_repo(www / "signed" / suite, [build_packages() / "sop-demo-app_1.1_all.deb"], "sop-lab", suite,
                      Date="Sat, 01 Jun 2024 00:00:00 UTC", ValidTime="86400")
    release = repo / "Release"  # apt-ftparchive counts ValidTime from now, not from Date: set the field itself
    release.write_text(re.sub(r"(?m)^Valid-Until: .*$", "Valid-Until: Sun, 02 Jun 2024 00:00:00 UTC",
                              release.read_text()))
    _sign(www.parent / "gnupg", repo)
    return sources(suite)


def build_repositories(www: Path) -> dict[str, Path]:
    """Write the signed and unsigned repositories under ``www`` (served at http://apt:8080/); return the paths of
    the public keyring and the local ClamAV signature."""
    if shutil.which("apt-ftparchive") is None:
        raise LabError("apt-ftparchive not found: cannot build the lab's apt repository",
                       hint="apt-get install apt-utils (./bootstrap installs it)")
    debs = build_packages()
    home = www.parent / "gnupg"
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    if not _gpg(home, "--list-secret-keys", "--with-colons").stdout.strip():
        _gpg(home, "--passphrase", "", "--quick-gen-key", "SOP lab archive <lab@sop.invalid>", "ed25519", "sign",
             "never")
    for sub in ("signed", "unsigned"):
        shutil.rmtree(www / sub, ignore_errors=True)
    for suite in ("stable", "testing"):
        chosen = [debs / f"{n}_{v}_all.deb" for n, v, s in PACKAGES if s == suite]
        _sign(home, _flat_repo(www / "signed" / suite, chosen, "sop-lab", suite))
    _gpg(home, "--yes", "--export", "-o", str(www.parent / "sop-lab-archive.gpg"))
    _flat_repo(www / "unsigned", [debs / "sop-demo-app_1.1_all.deb"], "sop-lab-unsigned", "unsigned")
    keyring = www.parent / "sop-lab-archive.gpg"
    plugin = debs / "sop-demo-plugin_1.0_all.deb"
    signature = www.parent / "sop-lab.hdb"
    signature.write_text(f"{hashlib.md5(plugin.read_bytes()).hexdigest()}:{plugin.stat().st_size}:"
                         f"{MALWARE_NAME}\n")
    return {"keyring": keyring, "signature": signature}


def sources(suite: str = "stable", *, base: str = f"http://apt:{SERVICE_PORT}") -> str:
    """A deb822 source for one signed lab suite, trusted through the lab's keyring only."""
    return textwrap.dedent(f"""\
        # The lab's signed apt repository (runner/lab/aptrepo.py), trusted by its own keyring only.
        Types: deb
        URIs: {base}/signed/{suite}/
        Suites: ./
        Signed-By: {KEYRING_ON_HOST}
        """)



def host_files(paths: dict[str, Path]) -> dict[str, Path]:
    """What each lab host gets (path on the host -> file here): trust in the signed repository (keyring + the
    stable source) and the lab's local ClamAV signature (no freshclam download: there is no internet)."""
    source = paths["keyring"].parent / "sop-lab.sources"
    source.write_text(sources())
    return {KEYRING_ON_HOST: paths["keyring"], SOURCES_ON_HOST: source, SIGNATURE_ON_HOST: paths["signature"]}
