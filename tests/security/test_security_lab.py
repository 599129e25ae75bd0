"""SOP 5 security baseline against real lab hosts over SSH: audit, harden, idempotence, 2FA, breakage.

The tests run in file order on one freshly recreated server (stg-app1) plus one untouched workstation: apt
work is CPU-heavy, so only one host is hardened.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import struct
import subprocess
import time
from pathlib import Path

import paramiko
import pytest
import yaml
from labtools import ansible_playbook  # tests/labtools.py

from runner.paths import REPO_ROOT

pytestmark = pytest.mark.lab

HOST = "stg-app1"
WORKSTATION = "ws-lt01"
LAB_WAIVED = {"AV-002", "AUD-002", "TIME-002"}  # inventories/lab/waivers.yml: container / no-internet limits
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
STATE: dict[str, dict] = {}

# Everything `sop check` could conceivably change: config files, packages, unit states, and any file modified
# since the previous snapshot (outside /proc, /sys, /run, /tmp and the journal, which a login itself writes, and
# freshclam's log: the daemon the baseline starts retries its mirrors, unreachable in the lab, on its own clock).
SNAPSHOT = r"""
set -e
find /etc -xdev -type f -print0 | sort -z | xargs -0 sha256sum
dpkg-query -W -f '${Package} ${Version} ${Status}\n'
systemctl list-unit-files --no-legend --no-pager
systemctl list-units --all --no-legend --no-pager --plain | awk '{print $1, $3, $4}' \
  | grep -Ev '^(session-|user@|user-runtime-dir@|run-user-)'
echo '--- modified since the previous snapshot:'
if [ -e /run/sop-snapshot-marker ]; then
  find / -xdev \( -path /proc -o -path /sys -o -path /run -o -path /tmp -o -path /var/log/journal \
    -o -path /var/log/clamav/freshclam.log \) -prune -o -newer /run/sop-snapshot-marker -print
fi
touch /run/sop-snapshot-marker
"""


def snapshot(lab) -> tuple[list[str], list[str]]:
    """(state lines, paths modified since the previous snapshot)."""
    state, _, newer = lab.exec(HOST, "bash", "-c", SNAPSHOT).partition("--- modified since the previous snapshot:")
    return state.splitlines(), newer.split()


# sudo (Debian) drops this marker in the automation account's home at its first successful sudo: an
# artefact of Ansible's become, made once by any play (health.yml too), not host configuration.
SUDO_MARKER = ["/home/sop", "/home/sop/.sudo_as_admin_successful"]


# Check mode of the remediation may leave Ansible's own artefacts (module temp dir, apt's binary cache that
# the apt module rebuilds when it reads the package list); configuration, packages, units must stay identical.
CHECK_MODE_ARTEFACTS = ("/home/sop/.ansible", "/var/cache/apt")


def assert_unchanged(lab, before: tuple[list[str], list[str]], what: str, artefacts: tuple[str, ...] = ()) -> None:
    state, modified = snapshot(lab)
    if SUDO_MARKER[1] in modified:
        modified = [m for m in modified if m not in SUDO_MARKER]
    if artefacts:
        modified = [
            m for m in modified if m != "/home/sop" and not any(m == a or m.startswith(a + "/") for a in artefacts)
        ]
    assert modified == [], f"{what} modified {modified}"
    assert state == before[0], f"{what} changed config files, packages or unit states"


def sop_check(lab, audit_dir: Path, *args: str) -> tuple[int, dict]:
    command = [
        str(REPO_ROOT / ".venv" / "bin" / "sop"),
        "check",
        "-i",
        str(lab.inventory_path),
        "--format",
        "json",
        "--audit-dir",
        str(audit_dir),
        *args,
    ]
    proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.stdout.startswith("{"), f"sop check failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.returncode, json.loads(proc.stdout)


def verdicts(doc: dict, host: str) -> dict[str, dict]:
    return {r["control"]: r for r in doc["results"] if r["host"] == host}


def recap(stdout: str, host: str) -> dict[str, int]:
    line = re.search(rf"^{re.escape(host)}\s+:\s+(.*)$", stdout, re.M)
    assert line, stdout[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line.group(1))}


@pytest.fixture(scope="module")
def audit_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sec-audit")


@pytest.fixture(scope="module")
def server(lab):
    """A fresh stg-app1 (bare Debian from the lab image), whatever earlier sessions did to it."""
    lab.recreate(HOST)
    snapshot(lab)  # first marker
    return HOST


def test_fresh_host_fails_bare_debian_controls_and_the_check_changes_nothing(lab, server, audit_dir):
    before = snapshot(lab)
    started = time.monotonic()
    rc, doc = sop_check(lab, audit_dir, "--limit", f"{HOST},{WORKSTATION}")
    STATE["fresh_check_s"] = time.monotonic() - started
    assert_unchanged(lab, before, "sop check")
    assert rc == 1
    rows = verdicts(doc, HOST)
    failed = {c for c, r in rows.items() if r["status"] == "fail"}
    assert failed == set(rows) - LAB_WAIVED, {c: r["message"] for c, r in rows.items()}
    assert {c for c, r in rows.items() if r["status"] == "waived"} == LAB_WAIVED
    assert rows["SSH-001"]["seen"]["passwordauthentication"] == "yes"
    assert rows["SSH-001"]["required"]["passwordauthentication"] == "no"
    assert rows["PWD-002"]["seen"]["pass_max_days"] == 99999
    assert verdicts(doc, WORKSTATION)["MFA-001"]["status"] == "not_applicable"
    # reports for people and CI, and the collection run recorded (with the verdicts) in the audit ledger
    report_dir = audit_dir / "checks" / doc["check_id"]
    assert {p.name for p in report_dir.iterdir()} == {"check.json", "check.html", "check.md", "check-junit.xml"}
    assert 'name="stg-app1"' in (report_dir / "check-junit.xml").read_text()
    record = json.loads(Path(doc["collection_run"]["record"]).read_text())
    evidence = [
        r["evidence"]
        for play in record["plays"]
        for task in play["tasks"]
        for r in task["results"]
        if r["host"] == HOST
    ]
    assert evidence[0]["kind"] == "security_baseline_check"
    assert evidence[0]["controls"]["SSH-001"]["status"] == "fail"
    assert ["passwordauthentication", "yes"] in evidence[0]["controls"]["SSH-001"]["seen"]


def test_harden_check_mode_runs_and_changes_nothing(lab, server):
    before = snapshot(lab)
    result = ansible_playbook("playbooks/harden.yml", lab.inventory_path, "--limit", HOST, "--check", check=True)
    assert recap(result.stdout, HOST)["failed"] == 0
    assert recap(result.stdout, HOST)["changed"] > 0
    assert_unchanged(lab, before, "harden.yml --check", CHECK_MODE_ARTEFACTS)


def test_after_harden_every_applicable_control_passes(lab, server, audit_dir):
    started = time.monotonic()
    result = ansible_playbook("playbooks/harden.yml", lab.inventory_path, "--limit", HOST, check=True)
    STATE["harden_s"] = time.monotonic() - started
    assert recap(result.stdout, HOST)["changed"] > 0
    before = snapshot(lab)
    rc, doc = sop_check(lab, audit_dir, "--limit", HOST)
    assert_unchanged(lab, before, "sop check (hardened host)")
    rows = verdicts(doc, HOST)
    assert rc == 0, {c: r["message"] for c, r in rows.items() if r["status"] not in ("pass", "waived")}
    assert {c for c, r in rows.items() if r["status"] == "pass"} == set(rows) - LAB_WAIVED
    for control in LAB_WAIVED:  # explicit, justified waivers, not silent skips
        assert rows[control]["status"] == "waived"
        assert rows[control]["underlying_status"] == "fail"
        assert rows[control]["waiver"]["justification"]
    assert "signatures missing" in rows["AV-002"]["message"]
    STATE["hardened"] = rows


def test_second_harden_changes_nothing(lab, server):
    started = time.monotonic()
    result = ansible_playbook("playbooks/harden.yml", lab.inventory_path, "--limit", HOST, check=True)
    STATE["harden_again_s"] = time.monotonic() - started
    counts = recap(result.stdout, HOST)
    assert counts["changed"] == 0 and counts["failed"] == 0, result.stdout[-3000:]


def totp(secret: str, at: float) -> str:
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def ssh_login(lab, user: str, key: paramiko.PKey, code: str | None) -> str:
    port = next(n.port for n in lab.hosts() if n.name == HOST)
    known = paramiko.HostKeys(str(lab.known_hosts))
    transport = paramiko.Transport(("127.0.0.1", port))
    try:
        transport.start_client(timeout=15)
        server_key = transport.get_remote_server_key()
        assert known.check(f"[127.0.0.1]:{port}", server_key), "lab host key mismatch"
        next_methods = transport.auth_publickey(user, key)
        if transport.is_authenticated():
            return "in with key only"
        if code is None:
            return f"key accepted, still needs {','.join(next_methods)}"
        transport.auth_interactive(user, lambda _title, _instr, prompts: [code for _ in prompts])
        return "in with key + TOTP" if transport.is_authenticated() else "refused"
    except paramiko.AuthenticationException:
        return "refused"
    finally:
        transport.close()


def test_admin_needs_key_and_totp_while_the_service_account_stays_key_only(lab, server, tmp_path):
    key_file = tmp_path / "admin_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key_file)], check=True)
    public = (tmp_path / "admin_ed25519.pub").read_text().strip()
    # TOTP enrolment as the role README describes, with a known secret instead of google-authenticator's
    enrol = f"""set -e
id opsadmin >/dev/null 2>&1 || useradd -m -s /bin/bash -G sop-admins opsadmin
install -d -m 700 -o opsadmin -g opsadmin /home/opsadmin/.ssh
echo '{public}' > /home/opsadmin/.ssh/authorized_keys
printf '%s\\n" TOTP_AUTH\\n" WINDOW_SIZE 3\\n' {TOTP_SECRET} > /home/opsadmin/.google_authenticator
chown opsadmin:opsadmin /home/opsadmin/.ssh/authorized_keys /home/opsadmin/.google_authenticator
chmod 600 /home/opsadmin/.ssh/authorized_keys; chmod 400 /home/opsadmin/.google_authenticator
"""
    lab.exec(HOST, "bash", "-c", enrol)
    admin_key = paramiko.Ed25519Key.from_private_key_file(str(key_file))
    valid = {totp(TOTP_SECRET, time.time() + d * 30) for d in (-1, 0, 1)}
    wrong = next(c for c in (f"{n:06d}" for n in range(123456, 123500)) if c not in valid)
    assert ssh_login(lab, "opsadmin", admin_key, None) == "key accepted, still needs keyboard-interactive"
    assert ssh_login(lab, "opsadmin", admin_key, wrong) == "refused"
    assert ssh_login(lab, "opsadmin", admin_key, totp(TOTP_SECRET, time.time())) == "in with key + TOTP"
    sop_key = paramiko.Ed25519Key.from_private_key_file(str(lab.key_path))
    assert ssh_login(lab, "sop", sop_key, None) == "in with key only"


def test_expired_waiver_no_longer_applies(lab, server, audit_dir, tmp_path):
    today = dt.datetime.now(dt.UTC).date()
    expired = (today - dt.timedelta(days=1)).isoformat()
    waivers = tmp_path / "waivers.yml"
    waivers.write_text(
        yaml.safe_dump(
            {
                "waivers": [
                    {
                        "control": "AV-002",
                        "groups": ["linux"],
                        "justification": "signature mirror project not finished",
                        "approver": "IT manager",
                        "expires": expired,
                    },
                    {
                        "control": "USB-001",
                        "hosts": [HOST],
                        "justification": "temporary data import from a USB disk",
                        "approver": "IT manager",
                        "expires": (today + dt.timedelta(days=30)).isoformat(),
                    },
                ]
            }
        )
    )
    rc, doc = sop_check(lab, audit_dir, "--limit", HOST, "--waivers", str(waivers), "--controls", "AV-002,USB-001")
    rows = verdicts(doc, HOST)
    assert rc == 1
    assert rows["AV-002"]["status"] == "fail"
    assert f"waiver expired on {expired}" in rows["AV-002"]["message"]
    assert rows["USB-001"]["status"] == "pass"  # a waiver never hides a pass


def stale_signature_header() -> str:
    built = int(time.time()) - 40 * 86400
    return f"ClamAV-VDB:01 Jan 2020 00-00 +0000:27000:2000000:90:md5:dsig:sop-test:{built}"


# control -> (shell that breaks it on the hardened host, text the failed verdict's evidence must show)
BREAKS = {
    "PWD-001": (
        "sed -i 's/^minlen = .*/minlen = 8/' /etc/security/pwquality.conf.d/50-sop-baseline.conf",
        "minlen 8 < 14",
    ),
    "PWD-002": (
        "sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\\t99999/' /etc/login.defs",
        "PASS_MAX_DAYS 99999 > 90",
    ),
    "PWD-003": ("sed -i 's/^deny = .*/deny = 50/' /etc/security/faillock.conf", "deny 50 not in 1..5"),
    "AV-001": ("systemctl disable --now sop-clamscan.timer", "sop-clamscan.timer inactive/disabled"),
    "AV-002": (
        f"printf '%s' '{stale_signature_header()}' > /var/lib/clamav/daily.cvd",
        "signatures stale: daily database is 40 days old",
    ),
    "MFA-001": (
        "sed -i '/BEGIN SOP security baseline MFA-001/,/END SOP security baseline MFA-001/d' /etc/ssh/sshd_config",
        "opsadmin: AuthenticationMethods any (need publickey,keyboard-interactive)",
    ),
    "SSH-001": (
        "sed -i 's/^X11Forwarding no/X11Forwarding yes/' /etc/ssh/sshd_config.d/10-sop-baseline.conf",
        "x11forwarding yes (need no)",
    ),
    "PATCH-001": ("touch -d '30 days ago' /var/lib/apt/lists/*_Packages", "package index 30 days old"),
    "PATCH-002": (
        "echo 'APT::Periodic::Unattended-Upgrade \"0\";' > /etc/apt/apt.conf.d/99sop-test-break; "
        "mv /var/log/apt/history.log /root/history.log.moved",
        "Unattended-Upgrade=0",
    ),
    "USB-001": ("rm /etc/modprobe.d/sop-usb-storage.conf", "no 'install usb-storage /bin/false'"),
    "AUD-001": (
        "sed -i 's/^Storage=persistent/Storage=volatile/' /etc/systemd/journald.conf.d/50-sop-baseline.conf",
        "Storage=volatile",
    ),
    "AUD-002": ("systemctl mask auditd", "auditd.service masked"),
    "TIME-001": (
        "rm /etc/systemd/timesyncd.conf.d/50-sop-baseline.conf",
        '"systemd-timesyncd.service": {"installed": true, "unit_file": "disabled", "servers": []}',
    ),
    "TIME-002": ("systemctl disable systemd-timesyncd", "systemd-timesyncd.service inactive/disabled"),
}


@pytest.fixture(scope="module")
def broken(lab, server, audit_dir) -> dict[str, dict]:
    """Break every control on the hardened host at once, then audit once without waivers."""
    assert "hardened" in STATE, "needs the hardened host of the earlier tests"
    lab.exec(HOST, "bash", "-c", "set -e\n" + "\n".join(shell for shell, _ in BREAKS.values()))
    rc, doc = sop_check(lab, audit_dir, "--limit", HOST, "--no-waivers")
    assert rc == 1
    return verdicts(doc, HOST)


@pytest.mark.parametrize("control", sorted(BREAKS))
def test_breaking_a_control_is_reported_failed_with_evidence(broken, control):
    expected = BREAKS[control][1]
    row = broken[control]
    evidence = row["message"] + " " + json.dumps(row["seen"])
    assert row["status"] == "fail", row
    assert expected in evidence, evidence
    hardened = STATE["hardened"][control]
    assert expected not in hardened["message"] + " " + json.dumps(hardened["seen"])
    assert row["required"], "a failed verdict names the value required"
