"""The lab itself: real hosts over SSH, real device CLIs, a reachable S3 store, clean teardown."""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pytest
import testinfra
import yaml
from labtools import scratch_lab_name
from netmiko import ConnectHandler

from runner.lab import Lab
from runner.lab import podman as lab_podman
from runner.network.collect import PLATFORM_OPTIONS
from runner.paths import REPO_ROOT

pytestmark = pytest.mark.lab
SOP = str(REPO_ROOT / ".venv" / "bin" / "sop")


def _inventory(lab: Lab) -> dict:
    return yaml.safe_load(lab.inventory_path.read_text())


def _host(lab: Lab, name: str) -> testinfra.host.Host:
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={lab.inventory_path}")


def test_topology_has_the_groups_the_sops_need(lab: Lab) -> None:
    groups = _inventory(lab)["all"]["children"]
    assert len(groups["staging"]["hosts"]) >= 1
    assert len(groups["production"]["hosts"]) >= 1
    assert len(groups["workstations"]["hosts"]) >= 1
    assert len([n for n in lab.nodes() if n.kind == "host"]) >= 3
    assert len(groups["network"]["hosts"]) >= 3


def test_ansible_reaches_every_host_over_ssh(lab: Lab) -> None:
    result = subprocess.run([str(REPO_ROOT / ".venv/bin/ansible"), "linux", "-i", str(lab.inventory_path),
                             "-m", "ansible.builtin.ping", "-o"], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    for host in lab.hosts():
        assert f"{host.name} | SUCCESS" in result.stdout


def test_hosts_are_distinct_debian_systems_running_systemd(lab: Lab) -> None:
    machine_ids = set()
    for node in lab.hosts():
        host = _host(lab, node.name)
        assert host.system_info.distribution == "debian" and host.system_info.release.startswith("12")
        assert host.service("ssh").is_running
        assert host.run("systemctl is-system-running").stdout.strip() in {"running", "degraded"}
        assert host.file("/proc/1/comm").content_string.strip() == "systemd"
        machine_ids.add(host.file("/etc/machine-id").content_string.strip())
    assert len(machine_ids) == len(lab.hosts()), "hosts share a machine-id"


def test_lab_network_is_link_local_and_hosts_resolve_each_other(lab: Lab) -> None:
    assert lab.subnet.startswith("169.254.")
    host = _host(lab, "stg-app1")
    address = host.run("ip -4 -o addr show eth0").stdout
    assert " 169.254." in address
    assert host.run("getent hosts prod-db1").stdout.split()[0].startswith("169.254.")


def test_s3_store_reachable_from_targets_and_controller(lab: Lab) -> None:
    host = _host(lab, "prod-app1")
    listing = host.run("curl -fsS http://s3:5000/")
    assert listing.rc == 0 and "sop-backups" in listing.stdout
    with urllib.request.urlopen(f"http://127.0.0.1:{lab.s3_port}/", timeout=5) as response:
        assert b"sop-backups" in response.read()


def test_netmiko_reaches_every_cli_device(lab: Lab) -> None:
    network = _inventory(lab)["all"]["children"]["network"]
    creds = network["vars"]
    cli = {name: d for name, d in network["hosts"].items() if d.get("network_transport") != "netconf"}
    assert cli
    for name, device in cli.items():
        conn = ConnectHandler(device_type=device["netmiko_device_type"], host=device["ansible_host"],
                              port=device["ansible_port"], username=creds["ansible_user"],
                              password=creds["ansible_password"], secret=creds["ansible_become_password"],
                              timeout=10, **PLATFORM_OPTIONS.get(device["netmiko_device_type"], {}))
        try:
            conn.enable()
            assert conn.check_enable_mode(), name
        finally:
            conn.disconnect()


def test_ncclient_reaches_every_netconf_device(lab: Lab) -> None:
    from ncclient import manager

    network = _inventory(lab)["all"]["children"]["network"]
    netconf = {name: d for name, d in network["hosts"].items() if d.get("network_transport") == "netconf"}
    assert netconf, "the lab has a NETCONF (Junos) device"
    for name, device in netconf.items():
        with manager.connect(host=device["ansible_host"], port=device["ansible_port"],
                             username=network["vars"]["ansible_user"], password=network["vars"]["ansible_password"],
                             hostkey_verify=False, allow_agent=False, look_for_keys=False,
                             device_params={"name": "junos"}, timeout=10) as session:
            host_name = session.get_config(source="running").xpath("//system/host-name")
            assert [e.text for e in host_name] == [name]


def test_device_rejects_wrong_password(lab: Lab) -> None:
    from netmiko.exceptions import NetmikoAuthenticationException

    device = next(iter(lab.devices()))
    with pytest.raises(NetmikoAuthenticationException):
        ConnectHandler(device_type="cisco_ios", host="127.0.0.1", port=device.port, username="netops",
                       password="not-the-password", timeout=10)


def test_secrets_stay_out_of_the_repository(lab: Lab) -> None:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    files = [REPO_ROOT / f for f in tracked.decode().split("\0") if f]
    for secret in lab.secrets.values():
        for path in files:
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"lab secret in tracked file {path}"
    assert lab.inventory_path.stat().st_mode & 0o077 == 0


def test_up_is_idempotent(lab: Lab) -> None:
    before = {c["Names"][0]: c["Id"] for c in lab_podman.containers(f"io.sop-as-code.lab={lab.name}")}
    result = subprocess.run([SOP, "lab", "up", "--name", lab.name], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    after = {c["Names"][0]: c["Id"] for c in lab_podman.containers(f"io.sop-as-code.lab={lab.name}")}
    assert before == after


def test_status_reports_every_node(lab: Lab) -> None:
    result = subprocess.run([SOP, "lab", "status", "--name", lab.name, "--json"], capture_output=True,
                            text=True, timeout=60, check=True)
    rows = json.loads(result.stdout)
    assert {r["name"] for r in rows} == {n.name for n in lab.nodes()}
    assert all(r["state"] == "running" for r in rows)


def test_lost_state_is_rebuilt_then_down_leaves_nothing_behind() -> None:
    scratch = Lab(scratch_lab_name("down"), progress=lambda _msg: None)
    scratch.up()
    # A fresh checkout (or a deleted .lab/) must not reuse containers whose SSH key and secrets are gone.
    subprocess.run(["rm", "-rf", str(scratch.state_dir)], check=True)
    scratch.up()
    ping = subprocess.run([str(REPO_ROOT / ".venv/bin/ansible"), "stg-app1", "-i", str(scratch.inventory_path),
                           "-m", "ansible.builtin.ping"], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    ids = [c["Id"] for c in lab_podman.containers(f"io.sop-as-code.lab={scratch.name}")]
    assert len(ids) == len(scratch.nodes())
    scratch.down()
    assert lab_podman.containers(f"io.sop-as-code.lab={scratch.name}") == []
    assert not lab_podman.exists("network", scratch.network)
    assert not scratch.state_dir.exists() and not scratch.inventory_path.exists()
    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert not any(container_id[:12] in processes for container_id in ids), "conmon processes left behind"


def test_user_errors_are_one_line_without_traceback() -> None:
    result = subprocess.run([SOP, "lab", "status", "--name", "bad name!"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 3
    assert "lab name 'bad name!'" in result.stderr and "Traceback" not in result.stderr


def test_non_root_gets_the_command_to_fix_it() -> None:
    # As uid 65534 with one capability, to read the checkout (a clone in /root, mode 700, as on a fresh machine,
    # is otherwise out of its reach): still not root, so the lab must refuse.
    read_only = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *read_only, SOP, "lab",
                             "up", "--name", "nobody"], capture_output=True, text=True, timeout=60, check=False,
                            cwd="/")
    assert result.returncode == 3, result.stderr
    assert "needs root" in result.stderr and "sudo sop lab up" in result.stderr
    assert "Traceback" not in result.stderr
