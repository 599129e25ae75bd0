"""Check methods, applicability, waivers and reports with fake evidence (no lab needed)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from runner.check.evaluate import evaluate_host, probe_request
from runner.check.methods import METHODS
from runner.check.report import junit
from runner.policy.catalogue import load_catalogue

NOW = 1_800_000_000.0
DAY = 86400
TODAY = dt.date(2027, 1, 15)


def params(cid: str) -> dict:
    return load_catalogue().controls[cid].parameters


def judge(cid: str, facts: dict):
    control = load_catalogue().controls[cid]
    return METHODS[control.method].evaluate(control.parameters, {"now": NOW, **facts})


def cvd(built: float) -> dict:
    return {
        "header": f"ClamAV-VDB:01 Jan 2027 00-00 +0000:27500:2000000:90:md5:dsig:builder:{int(built)}",
        "mtime": built,
    }


def test_av_signatures_missing_stale_fresh_and_unreadable():
    missing = judge("AV-002", {"clamav": {"/var/lib/clamav": {}}})
    assert missing.status == "fail" and missing.message.startswith("signatures missing")
    stale = judge("AV-002", {"clamav": {"/var/lib/clamav": {"daily.cvd": cvd(NOW - 30 * DAY)}}})
    assert stale.status == "fail" and "signatures stale" in stale.message and "30 days old" in stale.message
    assert stale.seen["daily_signatures_age_days"] == 30.0 and stale.required["daily_signatures_age_days"] == "<= 7"
    fresh = judge("AV-002", {"clamav": {"/var/lib/clamav": {"daily.cld": cvd(NOW - DAY)}}})
    assert fresh.status == "pass"
    broken = judge("AV-002", {"clamav": {"/var/lib/clamav": {"daily.cvd": {"header": "garbage", "mtime": NOW}}}})
    assert broken.status == "error"


def apt(pending: int, index_age_days: float | None, patched_days_ago: float | None, config: str = "") -> dict:
    return {
        "apt": {
            "index_mtime": None if index_age_days is None else NOW - index_age_days * DAY,
            "pending": [
                {
                    "package": f"p{i}",
                    "installed": "1",
                    "candidate": "2",
                    "origin": "Debian-Security:12/oldstable-security",
                }
                for i in range(pending)
            ],
            "simulation_rc": 0,
            "apt_config": config,
            "last_patch_run": None if patched_days_ago is None else NOW - patched_days_ago * DAY,
        }
    }


def test_security_updates_window():
    assert judge("PATCH-001", apt(0, 1, None)).status == "pass"
    within = judge("PATCH-001", apt(3, 1, 10))
    assert within.status == "pass" and "within the patch window" in within.message
    late = judge("PATCH-001", apt(3, 1, 45))
    assert late.status == "fail" and "3 security update(s) pending, last patch run 45 days ago" in late.message
    assert judge("PATCH-001", apt(0, None, None)).message.startswith("package index never refreshed")
    assert judge("PATCH-001", apt(0, 20, None)).status == "fail"


UU_CONFIG = (
    'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n'
    'Unattended-Upgrade::Origins-Pattern "";\n'
    'Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=bookworm,label=Debian-Security";\n'
)
TIMER = {"apt-daily-upgrade.timer": {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"}}


def test_patch_mechanism_config_or_recent_run():
    configured = {**apt(0, 1, None, UU_CONFIG), "packages": {"unattended-upgrades": "2.9"}, "units": TIMER}
    assert judge("PATCH-002", configured).status == "pass"
    off = UU_CONFIG.replace('Unattended-Upgrade "1"', 'Unattended-Upgrade "0"')
    disabled = {**apt(0, 1, None, off), "packages": {"unattended-upgrades": "2.9"}, "units": TIMER}
    result = judge("PATCH-002", disabled)
    assert result.status == "fail" and "Unattended-Upgrade=0" in result.message
    manual = {**apt(0, 1, 12, off), "packages": {"unattended-upgrades": None}, "units": {}}
    assert judge("PATCH-002", manual).message == "monthly patch run recorded 12 days ago"


def sshd(methods: str = "any", password: str = "no", kbd: str = "no") -> dict:
    return {
        "authenticationmethods": methods,
        "passwordauthentication": password,
        "kbdinteractiveauthentication": kbd,
    }


def mfa_facts(**over) -> dict:
    facts = {
        "files": {"/etc/pam.d/sshd": "auth required pam_google_authenticator.so\n"},
        "groups": {"sop-admins": {"exists": True, "members": ["alice"]}},
        "users": {"sop": {"exists": True, "groups": ["sop", "sudo"]}},
        "paths": {"/lib/*/security/pam_google_authenticator.so": ["/lib/x/security/pam_google_authenticator.so"]},
        "sshd": {"alice": sshd("publickey,keyboard-interactive", kbd="yes"), "sop": sshd()},
    }
    facts.update(over)
    return facts


def test_ssh_2fa_pass_and_each_way_to_fail():
    good = judge("MFA-001", mfa_facts())
    assert good.status == "pass", good.message
    assert good.seen["service_accounts"]["sop"].startswith("key-only")
    nullok = judge("MFA-001", mfa_facts(files={"/etc/pam.d/sshd": "auth required pam_google_authenticator.so nullok"}))
    assert nullok.status == "fail" and "without nullok" in nullok.message
    weak = judge("MFA-001", mfa_facts(sshd={"alice": sshd("any"), "sop": sshd()}))
    assert "alice: AuthenticationMethods any (need publickey,keyboard-interactive)" in weak.message
    trapped = judge("MFA-001", mfa_facts(users={"sop": {"exists": True, "groups": ["sop-admins"]}}))
    assert "service account sop: is a member of sop-admins" in trapped.message
    no_members = mfa_facts(groups={"sop-admins": {"exists": True, "members": []}})
    no_members["files"]["/etc/ssh/sshd_config"] = (
        "Match Group sop-admins\n  AuthenticationMethods publickey,keyboard-interactive\n"
    )
    assert judge("MFA-001", no_members).status == "pass"


def test_sshd_settings_seen_and_required():
    settings = {
        "permitrootlogin": "without-password",
        "passwordauthentication": "no",
        "permitemptypasswords": "no",
        "x11forwarding": "no",
        "maxauthtries": "6",
        "logingracetime": "60",
    }
    result = judge("SSH-001", {"sshd": {"sop-check-probe": settings}})
    assert result.status == "fail"
    assert result.seen["permitrootlogin"] == "without-password" and result.required["permitrootlogin"] == "no"
    assert "maxauthtries 6 (need <= 4)" in result.message


def test_faillock_module_arguments_override_the_config_file():
    stack = (
        "auth requisite pam_faillock.so preauth\nauth [success=3 default=ignore] pam_unix.so\n"
        "auth [default=die] pam_faillock.so authfail deny=20\n"
    )
    result = judge(
        "PWD-003",
        {
            "files": {
                "/etc/security/faillock.conf": "deny = 5\nunlock_time = 900\n",
                "/etc/pam.d/common-auth": stack,
            }
        },
    )
    assert result.status == "fail" and "deny 20 not in 1..5" in result.message


def test_usb_needs_install_false_and_blacklist():
    good = {"files": {"/etc/modprobe.d/x.conf": "install usb-storage /bin/false\nblacklist usb-storage\n"}}
    assert judge("USB-001", good).status == "pass"
    only_blacklist = judge("USB-001", {"files": {"/etc/modprobe.d/x.conf": "blacklist usb_storage\n"}})
    assert only_blacklist.status == "fail" and "no 'install usb-storage /bin/false'" in only_blacklist.message


def catalogue_dicts() -> list[dict]:
    return [c.to_dict() for c in load_catalogue().controls.values()]


def test_probe_request_is_the_union_of_what_controls_need():
    request = probe_request(catalogue_dicts())
    assert request["apt"] is True
    assert "/etc/login.defs" in request["files"] and "sop-admins" in request["groups"]
    assert len(request["units"]) == len(set(request["units"]))


def test_host_verdicts_applicability_waivers_and_expiry():
    controls = [c for c in catalogue_dicts() if c["id"] in ("MFA-001", "USB-001", "PWD-002")]
    waivers = [
        {
            "control": "USB-001",
            "hosts": ["ws-lt01"],
            "groups": [],
            "justification": "imports survey data",
            "approver": "IT manager",
            "expires": "2027-01-31",
        },
        {
            "control": "PWD-002",
            "hosts": [],
            "groups": ["workstations"],
            "justification": "legacy kiosk",
            "approver": "IT manager",
            "expires": "2027-01-14",
        },
    ]
    facts = {"now": NOW, "files": {"/etc/login.defs": "PASS_MAX_DAYS 99999\n"}}
    rows = {
        r["control"]: r
        for r in evaluate_host("ws-lt01", ["linux", "workstations"], controls, facts, waivers=waivers, today=TODAY)
    }
    assert rows["MFA-001"]["status"] == "not_applicable"
    assert rows["USB-001"]["status"] == "waived" and rows["USB-001"]["underlying_status"] == "fail"
    assert rows["USB-001"]["waiver"]["approver"] == "IT manager"
    assert rows["PWD-002"]["status"] == "fail"
    assert "waiver expired on 2027-01-14" in rows["PWD-002"]["message"]
    # the last day of a waiver still counts
    last_day = evaluate_host(
        "ws-lt01", ["linux", "workstations"], controls, facts, waivers=waivers, today=dt.date(2027, 1, 14)
    )
    assert {r["control"]: r["status"] for r in last_day}["PWD-002"] == "waived"


def test_unreachable_host_is_an_error_for_every_applicable_control():
    rows = evaluate_host(
        "prod-db1",
        ["linux", "servers", "production"],
        catalogue_dicts(),
        None,
        waivers=[],
        today=TODAY,
        probe_error="host unreachable",
    )
    assert {r["status"] for r in rows} == {"error"}


def test_junit_maps_statuses():
    rows = [
        {
            "host": "h1",
            "control": c,
            "title": "t",
            "status": s,
            "message": "m",
            "seen": {"a": 1},
            "required": {"a": 2},
        }
        for c, s in (
            ("A-001", "pass"),
            ("B-001", "fail"),
            ("C-001", "error"),
            ("D-001", "waived"),
            ("E-001", "not_applicable"),
        )
    ]
    root = ET.fromstring(junit({"duration_s": 1.0, "hosts": {"h1": []}, "results": rows}))
    suite = root.find("testsuite")
    assert suite.get("tests") == "5" and suite.get("failures") == "1" and suite.get("errors") == "1"
    assert suite.get("skipped") == "2"
    assert "required" in suite.find("testcase[@name='B-001 t']/failure").text
