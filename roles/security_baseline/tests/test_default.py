"""Molecule verifier (testinfra): the baseline's settings are in place on the converged host."""

import re

import testinfra


def test_password_policy(host: "testinfra.host.Host") -> None:
    assert "minlen = 16" in host.file("/etc/security/pwquality.conf.d/50-sop-baseline.conf").content_string
    assert "pam_faillock.so preauth" in host.file("/etc/pam.d/common-auth").content_string
    assert re.search(r"^PASS_MAX_DAYS\s+90$", host.file("/etc/login.defs").content_string, re.M)


def test_sshd_effective_settings(host: "testinfra.host.Host") -> None:
    with host.sudo():
        settings = host.check_output("sshd -T -C user=sop-check-probe,host=localhost,addr=127.0.0.1")
    assert "passwordauthentication no" in settings
    assert "permitrootlogin no" in settings
    assert "x11forwarding no" in settings


def test_admin_group_needs_totp_and_service_account_is_key_only(host: "testinfra.host.Host") -> None:
    with host.sudo():
        sop = host.check_output("sshd -T -C user=sop,host=localhost,addr=127.0.0.1")
    assert "authenticationmethods any" in sop
    assert "sop-admins" not in host.user("sop").groups
    assert "pam_google_authenticator.so" in host.file("/etc/pam.d/sshd").content_string


def test_antivirus_usb_logging_time(host: "testinfra.host.Host") -> None:
    assert host.package("clamav").is_installed
    assert host.service("sop-clamscan.timer").is_running
    assert host.file("/etc/modprobe.d/sop-usb-storage.conf").contains("install usb-storage /bin/false")
    assert host.file("/etc/systemd/journald.conf.d/50-sop-baseline.conf").contains("Storage=persistent")
    assert host.service("systemd-timesyncd").is_enabled
