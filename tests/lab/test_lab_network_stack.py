"""The lab proves what the SOPs rely on before it says it is up: podman's netavark backend with its DNS, lab
hosts that resolve and reach `s3` and the probe targets by name -- and refuses, naming the fix, when they don't."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.errors import LabError
from runner.lab import Lab
from runner.lab import podman as lab_podman

pytestmark = pytest.mark.lab


def test_lab_podman_uses_netavark_with_dns() -> None:
    assert lab_podman.network_backend() == "netavark"
    lab_podman.check_network_stack()  # raises LabError otherwise


def test_lab_hosts_resolve_and_reach_services_by_name(lab: Lab) -> None:
    lab.check_names(timeout_s=0)  # raises LabError naming the service otherwise
    answer = lab.exec("stg-app1", "getent", "hosts", "s3").split()
    assert answer and answer[0].startswith("169.254.")


def test_preflight_refuses_the_cni_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "containers.conf"
    conf.write_text(lab_podman.CONTAINERS_CONF.read_text().replace('network_backend = "netavark"',
                                                                   'network_backend = "cni"'))
    monkeypatch.setattr(lab_podman, "ENV", {"CONTAINERS_CONF": str(conf)})
    with pytest.raises(LabError) as refused:
        lab_podman.check_network_stack()
    assert "network backend is 'cni'" in str(refused.value)
    assert "apt-get install -y netavark aardvark-dns" in str(refused.value)


def test_cni_leftover_of_a_lab_network_is_found_and_removed(tmp_path: Path) -> None:
    conflist = tmp_path / "sop-x.conflist"
    conflist.write_text(json.dumps({"cniVersion": "0.4.0", "name": "sop-x",
                                    "plugins": [{"type": "bridge", "bridge": "cni-sopx-none"}]}))
    assert lab_podman.cni_leftover("sop-y", tmp_path) is None
    assert lab_podman.cni_leftover("sop-x", tmp_path) == conflist
    assert lab_podman.remove_cni_leftover(conflist) == "cni-sopx-none"
    assert not conflist.exists()


SMALL = {"hosts": [{"name": "nd-host", "groups": ["staging"], "offset": 1}], "devices": [],
         "services": {"s3": {"offset": 50, "container_port": 5000, "bucket": "sop-backups"}}}


def test_lab_up_refuses_a_network_without_dns_and_writes_no_inventory() -> None:
    """A lab network whose DNS does not work (as under CNI) is refused by `lab up`, naming the fix, and no
    inventory is written, so no SOP can run against a lab where backups could not reach s3."""
    lab = Lab("nodns-test", progress=lambda _msg: None, topology=SMALL)
    try:
        lab.up()  # a working lab first (its state is kept), then its network loses DNS
        for container in lab_podman.containers(f"io.sop-as-code.lab={lab.name}"):
            lab_podman.remove_container(container["Id"])
        lab_podman.podman("network", "rm", "-f", lab.network)
        lab.inventory_path.unlink()
        lab_podman.podman("network", "create", "--disable-dns", "--subnet", lab.subnet, "--label",
                          f"io.sop-as-code.lab={lab.name}", lab.network)
        with pytest.raises(LabError) as refused:
            lab.up()
        message = str(refused.value)
        assert message.splitlines()[0] == (
            "lab host nd-host cannot resolve s3 by name (podman DNS): backups to s3 and the network check "
            "would fail")
        assert "apt-get install -y netavark aardvark-dns" in message
        assert not lab.inventory_path.exists()
    finally:
        lab.down()
    assert not lab_podman.exists("network", lab.network)


def test_lab_network_left_by_the_cni_backend_is_recreated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where an older setup made the lab's network with CNI: `lab up` removes that network's config and
    containers, and brings the lab up on netavark with working names."""
    monkeypatch.setattr(lab_podman, "CNI_CONFIG_DIR", tmp_path)
    messages: list[str] = []
    lab = Lab("cni-test", progress=messages.append, topology=SMALL)
    try:
        lab.up()
        before = lab_podman.podman("inspect", "--format", "{{.Id}}", lab.container("nd-host")).stdout
        leftover = tmp_path / f"{lab.network}.conflist"
        leftover.write_text(json.dumps({"name": lab.network, "plugins": [{"type": "bridge", "bridge": "cni-none0"}]}))
        lab.up()
        after = lab_podman.podman("inspect", "--format", "{{.Id}}", lab.container("nd-host")).stdout
        assert not leftover.exists()
        assert before != after  # the host was recreated on the netavark network
        assert any("made by podman's CNI backend" in m for m in messages)
        lab.check_names(timeout_s=0)
    finally:
        lab.down()


def test_a_host_that_stopped_while_booting_is_started_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The boot wait starts a container that exited (once); running ones are left to finish booting."""
    from runner.lab import instance

    monkeypatch.setattr(instance, "STATE_CHECK_S", 0)
    messages: list[str] = []
    lab = Lab("stopped-test", progress=messages.append, topology=SMALL)
    try:
        lab.up()
        lab.stop("nd-host")
        assert lab_podman.container_state(lab.container("nd-host")) == "exited"
        lab._wait_ready([n for n in lab.nodes() if n.name == "nd-host"])
        assert lab_podman.container_state(lab.container("nd-host")) == "running"
        assert "nd-host stopped while booting; starting it again (once)" in messages
    finally:
        lab.down()
