"""Benchmark (run on demand): network config backup of >= 50 emulated devices (60 and 200 are the sizes used).

    .venv/bin/python tests/benchmarks/bench_network_backup.py [--devices 60] [--junos-share 0.2]
        [--ios-devices 12] [--workers 16]

Starts ONE fake-switches process (runner.lab.fakeswitch) serving N devices on consecutive free 127.0.0.1
ports: Cisco IOS over SSH CLI, and a share of them (--junos-share; every k-th) Juniper Junos over NETCONF, seeded
like the lab's jun-sw1. Then backs them up three ways in the same run:
  1. our module (runner.network.backup.run_backup: one pool of netmiko and ncclient sessions + masking + git
     store; IOS running AND startup config, Junos running), and the same through
     `ansible-playbook playbooks/network_backup.yml` (end to end);
  2. a bare netmiko / ncclient ThreadPoolExecutor loop (same pool size and fetches, nothing stored) - the
     baseline;
  3. cisco.ios.ios_config backup via ansible network_cli (libssh) on a smaller set of the IOS devices (it costs
     ~2 s a device), compared per device.
Prints wall times and ratios (targets: >= 20x faster than ios_config, within 1.5x of the bare pool).
No assertions on timings.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import yaml
from ncclient import manager
from netmiko import ConnectHandler

from runner.lab.instance import TOPOLOGY
from runner.network.backup import run_backup
from runner.network.devices import Device
from runner.paths import REPO_ROOT

VENV = REPO_ROOT / ".venv" / "bin"
SEED = ["ntp server 169.254.1.123", "logging host 169.254.1.514", "ip ssh version 2",
        "snmp-server community benchCommunity RO", "username netops privilege 15 password 0 {password}"]


def free_range(count: int, start: int = 46000) -> int:
    """First port of ``count`` consecutive free 127.0.0.1 ports (bounded search)."""
    for base in range(start, start + 10000, 100):
        if all(_free(base + i) for i in range(count)):
            return base
    raise SystemExit("no free port range found")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def junos_seed(device_password: str, device_enable: str) -> str:
    """The lab's jun-sw1 seed (runner/lab/topology.yml) with this run's secrets."""
    lab_device = next(d for d in yaml.safe_load(TOPOLOGY.read_text())["devices"] if d["name"] == "jun-sw1")
    return lab_device["config_xml"].format(device_password=device_password, device_enable=device_enable)


def is_junos(index: int, share: float) -> bool:
    """Every k-th device is Junos (k = round(1/share)); none when share is 0."""
    return share > 0 and index % max(1, round(1 / share)) == 0


def _spec(i: int, port: int, share: float, password: str, enable: str) -> dict[str, object]:
    common = {"port": port, "username": "netops", "password": password, "enable": enable}
    if is_junos(i, share):
        return {"model": "juniper_generic", "hostname": f"bench-jun{i:03d}", **common,
                "config_xml": junos_seed(password, enable)}
    return {"model": "cisco_generic", "hostname": f"bench-sw{i:03d}", **common,
            "config": [s.format(password=password) for s in SEED]}


def _device(spec: dict[str, object], password: str, enable: str) -> Device:
    name, port = str(spec["hostname"]), int(spec["port"])  # type: ignore[call-overload]
    if spec["model"] == "juniper_generic":
        return Device(name, "127.0.0.1", port, "juniper_junos", "netops", password, transport="netconf")
    return Device(name, "127.0.0.1", port, "cisco_ios", "netops", password, enable)


@contextmanager
def fake_devices(count: int, workdir: Path, junos_share: float) -> Iterator[list[Device]]:
    password, enable = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    base = free_range(count)
    spec = [_spec(i, base + i, junos_share, password, enable) for i in range(count)]
    spec_file = workdir / "spec.json"
    spec_file.write_text(json.dumps(spec))
    spec_file.chmod(0o600)
    process = subprocess.Popen([str(VENV / "python"), "-m", "runner.lab.fakeswitch", "--spec", str(spec_file),
                                "--listen", "127.0.0.1"], cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        deadline = time.monotonic() + 60 + count * 0.5  # 200 devices on a busy machine take a while
        while not all(not _free(base + i) for i in range(count)):
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("fake devices did not start")
            time.sleep(0.2)
        yield [_device(s, password, enable) for s in spec]
    finally:
        process.terminate()
        process.wait(timeout=10)


def _host_vars(device: Device) -> dict[str, object]:
    host = {"ansible_host": device.host, "ansible_port": device.port, "netmiko_device_type": device.device_type}
    if device.transport == "netconf":
        host |= {"network_transport": "netconf", "ansible_connection": "ansible.netcommon.netconf",
                 "ansible_network_os": "junipernetworks.junos.junos", "ansible_become": False}
    return host


def write_inventory(devices: list[Device], path: Path) -> None:
    hosts = {d.name: _host_vars(d) for d in devices}
    first = next(d for d in devices if d.transport == "cli")
    group_vars = {"ansible_connection": "ansible.netcommon.network_cli", "ansible_network_os": "cisco.ios.ios",
                  "ansible_network_cli_ssh_type": "libssh", "ansible_user": first.username,
                  "ansible_password": first.password, "ansible_become": True,
                  "ansible_become_method": "ansible.netcommon.enable", "ansible_become_password": first.secret}
    network = {"hosts": hosts, "vars": group_vars}
    path.write_text(yaml.safe_dump({"all": {"children": {"network": network}}}))
    path.chmod(0o600)


def _bare_cli(device: Device) -> None:
    with ConnectHandler(device_type=device.device_type, host=device.host, port=device.port,
                        username=device.username, password=device.password, secret=device.secret) as conn:
        conn.enable()
        conn.send_command("show running-config")
        conn.send_command("show startup-config")


def _bare_netconf(device: Device) -> None:
    with manager.connect(host=device.host, port=device.port, username=device.username, password=device.password,
                         hostkey_verify=False, allow_agent=False, look_for_keys=False,
                         device_params={"name": "junos"}, timeout=20) as session:
        session.get_config(source="running")


def bare_pool(devices: list[Device], workers: int) -> int:
    def one(device: Device) -> bool:
        try:
            (_bare_netconf if device.transport == "netconf" else _bare_cli)(device)
            return True
        except Exception:
            return False

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(one, devices))


def ansible(playbook: Path, inventory: Path, *args: str, forks: int) -> subprocess.CompletedProcess[str]:
    # Runs are recorded by the audit callback as in production, into the benchmark's scratch audit dir.
    env = {**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_FORKS": str(forks),
           "ANSIBLE_PERSISTENT_COMMAND_TIMEOUT": "60", "ANSIBLE_DEPRECATION_WARNINGS": "False",
           "SOP_AUDIT_DIR": str(inventory.parent / "audit")}
    return subprocess.run([str(VENV / "ansible-playbook"), "-i", str(inventory), str(playbook), *args],
                          cwd=REPO_ROOT, capture_output=True, text=True, env=env, check=False, timeout=1800)


def per_transport(records: dict[str, dict[str, object]]) -> str:
    """Mean per-device session time of the backed-up devices, per transport."""
    seconds: dict[str, list[float]] = {}
    for record in records.values():
        if record["status"] == "ok":
            seconds.setdefault(str(record["transport"]), []).append(float(record["seconds"]))  # type: ignore[arg-type]
    return ", ".join(f"{t} {sum(v) / len(v) * 1000:.0f} ms ({len(v)})" for t, v in sorted(seconds.items()))


def timed(label: str, func: object, *args: object, **kwargs: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = func(*args, **kwargs)  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    print(f"  {label:<58} {elapsed:7.2f} s")
    return elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=60)
    parser.add_argument("--junos-share", type=float, default=0.2,
                        help="share of the devices that are Junos over NETCONF (every k-th; 0 = none, at most 0.5)")
    parser.add_argument("--ios-devices", type=int, default=12, help="IOS devices for the ios_config baseline")
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    if not 0 <= args.junos_share <= 0.5 or args.devices < 2:
        parser.error("--junos-share must be in [0, 0.5] (some IOS devices are needed) and --devices at least 2")
    with tempfile.TemporaryDirectory(prefix="sop-bench-net-") as tmp, \
            fake_devices(args.devices, Path(tmp), args.junos_share) as devs:
        work = Path(tmp)
        inventory = work / "inventory.yml"
        write_inventory(devs, inventory)
        ios = [d for d in devs if d.transport == "cli"][: args.ios_devices]
        args.ios_devices = len(ios)
        ios_inventory = work / "ios.yml"
        write_inventory(ios, ios_inventory)
        ios_play = work / "ios_backup.yml"
        ios_play.write_text(yaml.safe_dump([{"name": "ios_config backup", "hosts": "network",
                                             "gather_facts": False, "tasks": [{
                                                 "name": "Back up", "cisco.ios.ios_config": {
                                                     "backup": True, "backup_options": {
                                                         "dir_path": str(work / "ios-backups")}}}]}]))
        junos = sum(d.transport == "netconf" for d in devs)
        print(f"{args.devices} emulated devices (one fake-switches process): {args.devices - junos} Cisco IOS "
              f"(SSH CLI), {junos} Junos (NETCONF); pool {args.workers}")
        t_mod, result = timed(f"our module (run_backup, {args.devices} devices)",
                              lambda: run_backup(devs, work / "store", workers=args.workers))
        print(f"    -> {result.summary()}")  # type: ignore[attr-defined]
        print(f"    -> mean session: {per_transport(result.devices)}")  # type: ignore[attr-defined]
        t_bare, ok = timed(f"bare netmiko/ncclient pool ({args.devices} devices)", bare_pool, devs,
                           args.workers)
        print(f"    -> {ok}/{args.devices} ok")
        t_play, done = timed(f"ansible-playbook network_backup.yml ({args.devices} devices)", ansible,
                             REPO_ROOT / "playbooks" / "network_backup.yml", inventory,
                             "-e", f"network_backup_store={work / 'store2'}",
                             "-e", f"network_backup_workers={args.workers}", forks=args.workers)
        print(f"    -> rc={done.returncode}")  # type: ignore[attr-defined]
        # Where the playbook's time beyond the module goes: ansible's start-up (interpreter, plugins, inventory of
        # N hosts, the audit callback) measured by a no-op play, and the play itself with the backup skipped
        # (check mode: the action returns at once, the per-device failure task is still evaluated per host).
        noop_play = work / "noop.yml"
        noop_play.write_text(yaml.safe_dump([{"name": "no-op", "hosts": "network", "gather_facts": False,
                                              "tasks": [{"name": "Nothing", "ansible.builtin.meta": "noop"}]}]))
        t_noop, _ = timed(f"ansible-playbook no-op play ({args.devices} hosts)", ansible, noop_play, inventory,
                          forks=args.workers)
        t_check, _ = timed(f"ansible-playbook network_backup.yml --check ({args.devices} devices)", ansible,
                           REPO_ROOT / "playbooks" / "network_backup.yml", inventory, "--check",
                           "-e", f"network_backup_store={work / 'store3'}", forks=args.workers)
        t_ios, done = timed(f"cisco.ios.ios_config backup, network_cli/libssh ({args.ios_devices} devices)",
                            ansible, ios_play, ios_inventory, forks=args.workers)
        backups = len(list((work / "ios-backups").glob("*")))
        print(f"    -> rc={done.returncode}, {backups} backup files")  # type: ignore[attr-defined]
        per_ios = t_ios / args.ios_devices
        print("per device:")
        print(f"  our module {t_mod / args.devices * 1000:.0f} ms, playbook {t_play / args.devices * 1000:.0f} ms,"
              f" bare pool {t_bare / args.devices * 1000:.0f} ms, ios_config {per_ios * 1000:.0f} ms")
        print("ratios:")
        print(f"  ios_config / our module (per device):       {per_ios / (t_mod / args.devices):6.1f}x"
              "  (target >= 20x)")
        print(f"  ios_config / our playbook (per device):     {per_ios / (t_play / args.devices):6.1f}x")
        print(f"  our module / bare pool:                     {t_mod / t_bare:6.2f}x  (target <= 1.5x)")
        print(f"  our playbook / bare pool:                   {t_play / t_bare:6.2f}x")
        print("where the playbook's time goes:")
        print(f"  ansible start-up + inventory + callback (no-op play)   {t_noop:6.2f} s  {t_noop / t_play:5.0%}")
        print(f"  play around the backup (check mode - no-op)            {t_check - t_noop:6.2f} s  "
              f"{(t_check - t_noop) / t_play:5.0%}")
        print(f"  the backup itself (playbook - check mode)              {t_play - t_check:6.2f} s  "
              f"{(t_play - t_check) / t_play:5.0%}  (module alone: {t_mod:.2f} s)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
