"""Molecule verifier: the role is read-only, so the host must look exactly as a fresh lab host."""


def test_role_left_no_files(host):
    assert not host.file("/etc/sop").exists


def test_host_is_debian_12(host):
    assert host.system_info.distribution == "debian"
    assert host.system_info.release.startswith("12")


def test_ssh_service_still_running(host):
    assert host.service("ssh").is_running
