"""Molecule verifier: the role is read-only, so the host must look exactly as a fresh lab host."""

import testinfra


def test_role_left_no_files(host: "testinfra.host.Host") -> None:
    assert not host.file("/etc/sop").exists


def test_host_is_debian_12(host: "testinfra.host.Host") -> None:
    assert host.system_info.distribution == "debian"
    assert host.system_info.release.startswith("12")


def test_ssh_service_still_running(host: "testinfra.host.Host") -> None:
    assert host.service("ssh").is_running
