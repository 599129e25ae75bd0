"""playbooks/patch.yml on the lab (install/update SOP upd1-upd6): real hosts, the lab's signed apt repository, real
ClamAV, real restic backups. Every refusal is proven to change nothing (package versions and dpkg log compared)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from runner.lab import Lab, aptrepo
from runner.paths import REPO_ROOT

pytestmark = pytest.mark.lab
SOP = str(REPO_ROOT / ".venv" / "bin" / "sop")
SERVERS = ("stg-app1", "prod-app1", "prod-db1")
APPROVED = ("--approved-by", "it_manager=Test Manager", "--approved-by", "stakeholder=Sari Finance")
EMERGENCY = ("-e", "{\"patch_emergency_reason\": \"lab test outside the window\"}")
INSTALL_11 = ("-e", '{"patch_packages": ["sop-demo-app=1.1"]}')
# A host-specific incompatibility: on prod-app1 the service only starts with version 1.0.
PIN = "[Service]\nExecStartPre=/bin/grep -q 'sop-demo-app 1.0:' /usr/bin/sop-demo-app\n"
PIN_PATH = "/etc/systemd/system/sop-demo-app.service.d/pin.conf"
EXTRA_SOURCES = "/etc/apt/sources.list.d/sop-extra.sources"
STATE = "dpkg-query -W -f '${Package}=${Version}\\n' | sort | sha256sum; md5sum /var/log/dpkg.log"


def _sop(lab: Lab, audit: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SOP, "run", "playbooks/patch.yml", "-i", str(lab.inventory_path), "--audit-dir",
                           str(audit), "-q", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=1500,
                          check=False)


def _change_record(audit: Path, change_ref: str) -> dict:
    return json.loads((audit / "changes" / change_ref / "change-record.json").read_text())


def _version(lab: Lab, host: str, package: str = "sop-demo-app") -> str:
    return lab.exec(host, "dpkg-query", "-W", "-f", "${Version}", package, check=False).strip()


def _state(lab: Lab, host: str) -> str:
    return lab.exec(host, "sh", "-c", STATE)


@pytest.fixture(scope="module")
def servers(lab: Lab) -> Lab:
    """ClamAV installed as the security baseline installs it; package lists fresh."""
    for host in SERVERS:
        lab.exec(host, "sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                                   "--no-install-recommends clamav >/dev/null")
    return lab


@pytest.fixture
def at_1_0(servers: Lab, tmp_path: Path) -> Lab:
    """Every server at sop-demo-app 1.0, only the stable source, no pin."""
    for host in SERVERS:
        servers.exec(host, "sh", "-c", f"rm -f {PIN_PATH} /etc/apt/sources.list.d/sop-extra.list {EXTRA_SOURCES} && "
                                       "systemctl daemon-reload && apt-get update -qq 2>/dev/null; "
                                       "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades "
                                       "sop-demo-app=1.0 >/dev/null 2>&1; apt-get purge -y -qq sop-demo-plugin "
                                       ">/dev/null 2>&1; true")
        assert _version(servers, host) == "1.0"
    return servers


def test_refusals_change_nothing(at_1_0: Lab, tmp_path: Path) -> None:
    lab = at_1_0
    before = {h: _state(lab, h) for h in SERVERS}

    no_ref = _sop(lab, tmp_path, "-l", "staging", *EMERGENCY, *INSTALL_11)
    assert no_ref.returncode == 5 and "no change reference" in no_ref.stdout, no_ref.stdout

    outside = _sop(lab, tmp_path, "-l", "staging", "--change-ref", "CR-R1", *INSTALL_11,
                   "-e", "patch_now=2024-06-05T05:00:00+00:00")  # Wednesday 12:00 in Jakarta
    assert outside.returncode == 5 and "outside every maintenance window" in outside.stdout, outside.stdout

    lab.exec("stg-app1", "sh", "-c", "echo 'deb [trusted=yes] http://apt:8080/unsigned ./' "
                                     "> /etc/apt/sources.list.d/sop-extra.list")
    trusted = _sop(lab, tmp_path, "-l", "staging", "--change-ref", "CR-R1", *EMERGENCY, *INSTALL_11)
    assert trusted.returncode == 5 and "unsigned source allowed" in trusted.stdout, trusted.stdout
    lab.exec("stg-app1", "sh", "-c", "echo 'deb http://apt:8080/unsigned ./' > /etc/apt/sources.list.d/sop-extra.list")
    unsigned = _sop(lab, tmp_path, "-l", "staging", "--change-ref", "CR-R1", *EMERGENCY, *INSTALL_11)
    assert unsigned.returncode == 5 and "is not signed" in unsigned.stdout, unsigned.stdout
    lab.exec("stg-app1", "rm", "-f", "/etc/apt/sources.list.d/sop-extra.list")
    lab.exec("stg-app1", "tee", EXTRA_SOURCES, input_text=aptrepo.publish_expired_suite(lab.apt_www))
    expired = _sop(lab, tmp_path, "-l", "staging", "--change-ref", "CR-R1", *EMERGENCY, *INSTALL_11)
    assert expired.returncode == 5 and "is expired" in expired.stdout, expired.stdout
    lab.exec("stg-app1", "rm", "-f", EXTRA_SOURCES)

    staged = _sop(lab, tmp_path, "-l", "staging", "--change-ref", "CR-R1", *EMERGENCY, *INSTALL_11)
    assert staged.returncode == 0, staged.stdout
    no_stakeholder = _sop(lab, tmp_path, "-l", "production", "--change-ref", "CR-R1", *EMERGENCY, *INSTALL_11,
                          "--approved-by", "it_manager=Test Manager")
    assert no_stakeholder.returncode == 5 and "no approval by stakeholder" in no_stakeholder.stdout
    for host in ("prod-app1", "prod-db1"):
        assert _state(lab, host) == before[host], f"a refused run changed {host}"


def test_flagged_package_refused_before_install(at_1_0: Lab, tmp_path: Path) -> None:
    lab = at_1_0
    before = _state(lab, "stg-app1")
    result = _sop(lab, tmp_path, "-l", "staging", "--change-ref", "CR-M1", *EMERGENCY,
                  "-e", '{"patch_packages": ["sop-demo-plugin"]}')
    assert result.returncode == 7, result.stdout
    assert "malware scan flagged" in result.stdout and "SopLab.Flagged.DemoPlugin" in result.stdout
    assert _version(lab, "stg-app1", "sop-demo-plugin") == ""
    assert _state(lab, "stg-app1") == before, "dpkg log or packages changed"


def test_check_mode_changes_nothing(at_1_0: Lab, tmp_path: Path) -> None:
    lab = at_1_0
    before = _state(lab, "stg-app1")
    result = _sop(lab, tmp_path, "-l", "staging", "--change-ref", "CR-C1", "--check", *EMERGENCY, *INSTALL_11)
    assert result.returncode == 0, result.stdout
    assert _state(lab, "stg-app1") == before


def test_failed_backup_changes_nothing(at_1_0: Lab, tmp_path: Path) -> None:
    lab = at_1_0
    before = _state(lab, "stg-app1")
    result = _sop(lab, tmp_path, "-l", "staging", "--change-ref", "CR-B1", *EMERGENCY, *INSTALL_11,
                  "-e", "restic_backup_local_repository=/proc/version/restic")  # cannot be created
    assert result.returncode == 7, result.stdout
    assert "nothing was changed" in result.stdout
    assert _state(lab, "stg-app1") == before


def test_staging_then_production_and_nothing_pending_the_second_time(at_1_0: Lab, tmp_path: Path) -> None:
    lab = at_1_0
    staged = _sop(lab, tmp_path, "-l", "staging", "--change-ref", "CR-N1", *EMERGENCY, *INSTALL_11)
    assert staged.returncode == 0, staged.stdout
    assert _version(lab, "stg-app1") == "1.1" and _version(lab, "prod-app1") == "1.0"
    prod = _sop(lab, tmp_path, "-l", "production", "--change-ref", "CR-N1", *EMERGENCY, *INSTALL_11, *APPROVED)
    assert prod.returncode == 0, prod.stdout + prod.stderr
    assert _version(lab, "prod-app1") == "1.1" and _version(lab, "prod-db1") == "1.1"
    before = {h: _state(lab, h) for h in SERVERS}
    again = _sop(lab, tmp_path, "-l", "production", "--change-ref", "CR-N1", *EMERGENCY, *INSTALL_11, *APPROVED)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout
    assert {h: _state(lab, h) for h in SERVERS} == before

    record = _change_record(tmp_path, "CR-N1")  # upd6: the change record shows all six stages
    assert [r["scope"] for r in record["runs"]] == ["staging", "production", "production"]
    assert {s["id"]: s["outcome"] for s in record["stages"]} == {
        "upd1": "done", "upd2": "done", "upd3": "done", "upd4": "done", "upd5": "done",
        "upd6": "done (this record)"}
    assert all(s["seconds"] > 0 for s in record["stages"][:5])
    changed = {(c["host"], c["name"], c["before"], c["after"]) for c in record["package_changes"]}
    assert changed == {(h, "sop-demo-app", "1.0", "1.1") for h in SERVERS}
    assert {b["host"] for b in record["backups"] if b["status"] == "ok"} == set(SERVERS)
    assert all(s["scan"]["files"] and not s["scan"]["flagged"] for s in record["scans"] if s["status"] == "ok")
    promotion = next(g for g in record["gate"] if g["protected_targets"])
    assert promotion["allowed"] and promotion["staging_run"] == record["runs"][0]["run_id"]
    assert sorted(map(sorted, record["runs"][1]["batches"])) == [["prod-app1"], ["prod-db1"]]  # serial [1, ...]
    assert record["evaluation"]["problems"] == [] and record["evaluation"]["rolled_back"] == []
    assert record["outcome"].startswith("Live in production on prod-app1, prod-db1.")


def test_failing_staging_validation_leaves_production_untouched(at_1_0: Lab, tmp_path: Path) -> None:
    lab = at_1_0
    for host in SERVERS:
        lab.exec(host, "sh", "-c", "echo 'deb [signed-by=/usr/share/keyrings/sop-lab-archive.gpg] "
                                   "http://apt:8080/signed/testing ./' > /etc/apt/sources.list.d/sop-extra.list")
    before = {h: _state(lab, h) for h in ("prod-app1", "prod-db1")}
    broken = ("-e", '{"patch_packages": ["sop-demo-app=1.2"]}')
    staged = _sop(lab, tmp_path, "-l", "staging", "--change-ref", "CR-F1", *EMERGENCY, *broken)
    assert staged.returncode == 7, staged.stdout
    assert "rolled back to the recorded versions" in staged.stdout
    assert _version(lab, "stg-app1") == "1.0"
    prod = _sop(lab, tmp_path, "-l", "production", "--change-ref", "CR-F1", *EMERGENCY, *broken, *APPROVED)
    assert prod.returncode == 5 and "no successful run of patch.yml under CR-F1 on staging" in prod.stdout
    assert {h: _state(lab, h) for h in ("prod-app1", "prod-db1")} == before


def test_failing_production_host_rolled_back_and_rollout_stopped(at_1_0: Lab, tmp_path: Path) -> None:
    lab = at_1_0
    lab.exec("prod-app1", "sh", "-c", f"mkdir -p {Path(PIN_PATH).parent} && cat > {PIN_PATH} && "
                                      "systemctl daemon-reload && systemctl restart sop-demo-app", input_text=PIN)
    versions_before = lab.exec("prod-app1", "dpkg-query", "-W", "-f", "${Package}=${Version}\n")
    db_before = _state(lab, "prod-db1")
    assert _sop(lab, tmp_path, "-l", "staging", "--change-ref", "CR-P1", *EMERGENCY, *INSTALL_11).returncode == 0
    prod = _sop(lab, tmp_path, "-l", "production", "--change-ref", "CR-P1", *EMERGENCY, *INSTALL_11, *APPROVED)
    assert prod.returncode == 7, prod.stdout
    assert "rolled back to the recorded versions" in prod.stdout
    assert lab.exec("prod-app1", "dpkg-query", "-W", "-f", "${Package}=${Version}\n") == versions_before
    assert lab.exec("prod-app1", "systemctl", "is-active", "sop-demo-app", check=False).strip() == "active"
    assert _state(lab, "prod-db1") == db_before, "a further batch ran after the rollback"
    record = _change_record(tmp_path, "CR-P1")
    assert record["evaluation"]["rolled_back"] == ["prod-app1"]
    assert any(f.startswith("prod-app1: rolled back") for f in record["evaluation"]["follow_ups"])
    assert [c["after"] for r in record["rollbacks"] for c in r.get("changes") or []] == ["1.0"]


def test_announcement_hooks_are_called_and_recorded(at_1_0: Lab, tmp_path: Path) -> None:
    """upd1.3: before anything changes, the policy's hook command gets the change ref and the hosts, and its
    webhook gets them as JSON (a receiver of this test's own on 127.0.0.1); both tasks are in the record."""
    import http.server
    import threading

    received: list[bytes] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    told = tmp_path / "told.txt"
    hook = tmp_path / "announce.sh"
    hook.write_text(f'#!/bin/sh\necho "$1 $SOP_PATCH_HOSTS" > {told}\n')
    hook.chmod(0o755)
    policy = tmp_path / "patching.yml"
    text = (REPO_ROOT / "policies" / "patching.yml").read_text()
    policy.write_text(text.replace("    hook: {}", f"    hook: {{command: {hook}, webhook: "
                                               f"'http://127.0.0.1:{server.server_port}/announce'}}"))
    try:
        result = _sop(at_1_0, tmp_path, "-l", "staging", "--change-ref", "CR-H1", *EMERGENCY, *INSTALL_11,
                      "-e", f"patch_policy_file={policy}")
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stdout
    assert told.read_text().split() == ["CR-H1", "stg-app1"]
    assert [json.loads(body) for body in received] == [{"change_ref": "CR-H1", "hosts": ["stg-app1"]}]
    record = _change_record(tmp_path, "CR-H1")
    assert {a["task"].split(" | ")[0]: a["status"] for a in record["announcement"]
            if "hook" in a["task"]} == {"Notify through the announcement hook (command)": "done",
                                        "Notify through the announcement hook (webhook)": "done"}
