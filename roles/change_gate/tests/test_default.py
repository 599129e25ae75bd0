"""Molecule verifier: the gate runs on the controller and leaves the target untouched."""

import testinfra


def test_gate_left_nothing_on_the_host(host: "testinfra.host.Host") -> None:
    assert not host.file("/etc/sop").exists
    assert host.service("ssh").is_running
