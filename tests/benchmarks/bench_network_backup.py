"""Benchmark (run on demand): network config backup of >= 50 emulated devices.

    .venv/bin/python tests/benchmarks/bench_network_backup.py [--devices 60] [--ios-devices 12] [--workers 16]

Starts ONE fake-switches process (runner.lab.fakeswitch) serving N Cisco IOS devices on consecutive free
127.0.0.1 ports, then backs them up three ways in the same run:
  1. our module (runner.network.backup.run_backup: netmiko pool + masking + git store; running AND startup
     config), and the same through `ansible-playbook playbooks/network_backup.yml` (end to end);
  2. a bare netmiko ThreadPoolExecutor loop (same pool size; running + startup, nothing stored) - the baseline;
  3. cisco.ios.ios_config backup via ansible network_cli (libssh) on a smaller set (it costs ~2 s a device),
     compared per device.
Prints wall times and ratios (targets: >= 20x faster than ios_config, within 1.5x of bare netmiko).
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
from netmiko import ConnectHandler

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


@contextmanager
def fake_devices(count: int, workdir: Path) -> Iterator[list[Device]]:
    password, enable = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    base = free_range(count)
    spec = [{"model": "cisco_generic", "hostname": f"bench-sw{i:03d}", "port": base + i, "username": "netops",
             "password": password, "enable": enable, "config": [s.format(password=password) for s in SEED]}
            for i in range(count)]
    spec_file = workdir / "spec.json"
    spec_file.write_text(json.dumps(spec))
    spec_file.chmod(0o600)
    process = subprocess.Popen([str(VENV / "python"), "-m", "runner.lab.fakeswitch", "--spec", str(spec_file),
                                "--listen", "127.0.0.1"], cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not all(not _free(base + i) for i in range(count)):
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("fake devices did not start")
            time.sleep(0.2)
        yield [Device(s["hostname"], "127.0.0.1", s["port"], "cisco_ios", "netops", password, enable)
               for s in spec]
    finally:
        process.terminate()
        process.wait(timeout=10)


def write_inventory(devices: list[Device], path: Path) -> None:
    hosts = {d.name: {"ansible_host": d.host, "ansible_port": d.port, "netmiko_device_type": d.device_type}
             for d in devices}
    first = devices[0]
    group_vars = {"ansible_connection": "ansible.netcommon.network_cli", "ansible_network_os": "cisco.ios.ios",
                  "ansible_network_cli_ssh_type": "libssh", "ansible_user": first.username,
                  "ansible_password": first.password, "ansible_become": True,
                  "ansible_become_method": "ansible.netcommon.enable", "ansible_become_password": first.secret}
    network = {"hosts": hosts, "vars": group_vars}
    path.write_text(yaml.safe_dump({"all": {"children": {"network": network}}}))
    path.chmod(0o600)


def bare_netmiko(devices: list[Device], workers: int) -> int:
    def one(device: Device) -> bool:
        try:
            with ConnectHandler(device_type=device.device_type, host=device.host, port=device.port,
                                username=device.username, password=device.password, secret=device.secret) as conn:
                conn.enable()
                conn.send_command("show running-config")
                conn.send_command("show startup-config")
            return True
        except Exception:
            return False

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(one, devices))


def ansible(playbook: Path, inventory: Path, *args: str, forks: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_FORKS": str(forks),
           "ANSIBLE_PERSISTENT_COMMAND_TIMEOUT": "60", "ANSIBLE_DEPRECATION_WARNINGS": "False"}
    return subprocess.run([str(VENV / "ansible-playbook"), "-i", str(inventory), str(playbook), *args],
                          cwd=REPO_ROOT, capture_output=True, text=True, env=env, check=False, timeout=1800)


def timed(label: str, func: object, *args: object, **kwargs: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = func(*args, **kwargs)  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    print(f"  {label:<58} {elapsed:7.2f} s")
    return elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=60)
    parser.add_argument("--ios-devices", type=int, default=12, help="devices for the ios_config baseline")
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sop-bench-net-") as tmp, fake_devices(args.devices, Path(tmp)) as devs:
        work = Path(tmp)
        inventory = work / "inventory.yml"
        write_inventory(devs, inventory)
        ios_inventory = work / "ios.yml"
        write_inventory(devs[: args.ios_devices], ios_inventory)
        ios_play = work / "ios_backup.yml"
        ios_play.write_text(yaml.safe_dump([{"name": "ios_config backup", "hosts": "network",
                                             "gather_facts": False, "tasks": [{
                                                 "name": "Back up", "cisco.ios.ios_config": {
                                                     "backup": True, "backup_options": {
                                                         "dir_path": str(work / "ios-backups")}}}]}]))
        print(f"{args.devices} emulated Cisco IOS devices (one fake-switches process), pool {args.workers}")
        t_mod, result = timed(f"our module (run_backup, {args.devices} devices, run+startup)",
                              lambda: run_backup(devs, work / "store", workers=args.workers))
        print(f"    -> {result.summary()}")  # type: ignore[attr-defined]
        t_bare, ok = timed(f"bare netmiko pool ({args.devices} devices, run+startup)", bare_netmiko, devs,
                           args.workers)
        print(f"    -> {ok}/{args.devices} ok")
        t_play, done = timed(f"ansible-playbook network_backup.yml ({args.devices} devices)", ansible,
                             REPO_ROOT / "playbooks" / "network_backup.yml", inventory,
                             "-e", f"network_backup_store={work / 'store2'}",
                             "-e", f"network_backup_workers={args.workers}", forks=args.workers)
        print(f"    -> rc={done.returncode}")  # type: ignore[attr-defined]
        t_ios, done = timed(f"cisco.ios.ios_config backup, network_cli/libssh ({args.ios_devices} devices)",
                            ansible, ios_play, ios_inventory, forks=args.workers)
        backups = len(list((work / "ios-backups").glob("*")))
        print(f"    -> rc={done.returncode}, {backups} backup files")  # type: ignore[attr-defined]
        per_ios = t_ios / args.ios_devices
        print("per device:")
        print(f"  our module {t_mod / args.devices * 1000:.0f} ms, playbook {t_play / args.devices * 1000:.0f} ms,"
              f" bare netmiko {t_bare / args.devices * 1000:.0f} ms, ios_config {per_ios * 1000:.0f} ms")
        print("ratios:")
        print(f"  ios_config / our module (per device):       {per_ios / (t_mod / args.devices):6.1f}x"
              "  (target >= 20x)")
        print(f"  ios_config / our playbook (per device):     {per_ios / (t_play / args.devices):6.1f}x")
        print(f"  our module / bare netmiko:                  {t_mod / t_bare:6.2f}x  (target <= 1.5x)")
        print(f"  our playbook / bare netmiko:                {t_play / t_bare:6.2f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
