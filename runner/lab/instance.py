"""One lab instance: its containers, network, keys, secrets and generated inventory.

Several instances can coexist (``sop lab up --name test``): each has its own podman network (a link-local
/24), port range on 127.0.0.1, state directory ``.lab/<name>/`` and inventory file.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from runner import execute
from runner.errors import LabError
from runner.lab import aptrepo, directory, podman
from runner.lab.image import ensure_image
from runner.lab.inventory import render_inventory
from runner.paths import INVENTORIES, LAB_STATE, REPO_ROOT

TOPOLOGY = Path(__file__).with_name("topology.yml")
LABEL = "io.sop-as-code.lab"
DEFAULT_BASE_PORT = 2300
# Ready in ~5-20 s on the project's machines, but minutes on a slow one (a TCG VM: the fresh-machine check); the
# wait ends as soon as every node answers, so a generous bound costs nothing. $SOP_LAB_BOOT_TIMEOUT overrides it.
BOOT_TIMEOUT_S = 600
STATE_CHECK_S = 15  # how often the boot wait looks for containers that stopped


def boot_timeout() -> float:
    value = os.environ.get("SOP_LAB_BOOT_TIMEOUT", "")
    try:
        return float(value) if value else BOOT_TIMEOUT_S
    except ValueError:
        raise LabError(f"SOP_LAB_BOOT_TIMEOUT={value!r}: not a number of seconds") from None
# The venv the lab's devices and services run (its real path: a worktree may share the main checkout's .venv).
VENV = (REPO_ROOT / ".venv").resolve()
NAME_CHECK_TIMEOUT_S = 60  # podman DNS registers new containers within a second or two; a slow VM needs more
# Run on a lab host: {name: port} -> {name: problem} for each service not resolved/reached (port 0: resolve only).
NAME_PROBE = """
import json, socket, sys
problems = {}
for name, port in json.loads(sys.argv[1]).items():
    try:
        address = socket.getaddrinfo(name, None, socket.AF_INET)[0][4][0]
    except OSError:
        problems[name] = "unresolved"
        continue
    if port:
        try:
            socket.create_connection((address, port), timeout=3).close()
        except OSError as exc:
            problems[name] = f"{address}:{port}: {exc.strerror or exc}"
print(json.dumps(problems))
"""
Progress = Callable[[str], None]


def default_lab_name() -> str:
    return os.environ.get("SOP_LAB_NAME", "default")


def _checkout_mounts() -> list[str]:
    """This checkout read-only at its own path, and the venv too when it lives elsewhere (a shared .venv)."""
    mounts = ["-v", f"{REPO_ROOT}:{REPO_ROOT}:ro"]
    if not VENV.is_relative_to(REPO_ROOT):
        mounts += ["-v", f"{VENV}:{VENV}:ro"]
    return mounts


@dataclass(frozen=True)
class Node:
    """A host, device or service container of the lab."""

    name: str
    kind: str  # host | device | service
    port: int
    spec: dict[str, Any]


class Lab:
    def __init__(self, name: str | None = None, progress: Progress = print,
                 topology: dict[str, Any] | None = None) -> None:
        self.name = name or default_lab_name()
        if not self.name.replace("-", "").isalnum() or len(self.name) > 20:
            raise LabError(f"lab name {self.name!r}: use up to 20 letters, digits and dashes")
        self.progress = progress
        self.index = 0 if self.name == "default" else 1 + zlib.crc32(self.name.encode()) % 30
        self.base_port = DEFAULT_BASE_PORT + 100 * self.index
        self.subnet = f"169.254.{210 + self.index}.0/24"
        self.prefix = "sop-lab" if self.name == "default" else f"sop-{self.name}"
        self.network = self.prefix
        self.state_dir = LAB_STATE / self.name
        self.inventory_path = INVENTORIES / "lab" / (
            "hosts.yml" if self.name == "default" else f"hosts-{self.name}.yml")
        self.topology = topology or yaml.safe_load(TOPOLOGY.read_text())  # a smaller one in tests

    # --- naming -------------------------------------------------------------------------------------------
    def container(self, node: str) -> str:
        return f"{self.prefix}-{node}"

    @property
    def key_path(self) -> Path:
        return self.state_dir / "ssh" / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.state_dir / "ssh" / "known_hosts"

    def nodes(self) -> list[Node]:
        topo = self.topology
        nodes = [Node(h["name"], "host", self.base_port + h["offset"], h) for h in topo["hosts"]]
        nodes += [Node(d["name"], "device", self.base_port + d["offset"], d) for d in topo["devices"]]
        nodes += [Node(n, "service", self.base_port + s["offset"], s) for n, s in topo["services"].items()]
        return nodes

    def hosts(self) -> list[Node]:
        return [n for n in self.nodes() if n.kind == "host"]

    def devices(self) -> list[Node]:
        return [n for n in self.nodes() if n.kind == "device"]

    @property
    def s3_port(self) -> int:
        return self.base_port + self.topology["services"]["s3"]["offset"]

    # --- lifecycle ----------------------------------------------------------------------------------------
    def up(self) -> dict[str, Any]:
        started = time.monotonic()
        podman.preflight()
        image = ensure_image(self.progress)
        if not (self.state_dir / "state.json").exists():
            self._remove_orphans()
        self._replace_cni_network()
        self._ensure_state()
        apt_files = aptrepo.host_files(aptrepo.build_repositories(self.apt_www))
        self._ensure_network()
        for node in self.nodes():
            self._ensure_container(node, image)
        self._wait_ready()
        self._install_apt_trust(apt_files)
        self._ensure_bucket()
        self.check_names()
        self._write_known_hosts()
        self._ensure_config_remote()
        state = self._write_inventory()
        self.progress(f"lab '{self.name}' up in {time.monotonic() - started:.1f}s: "
                      f"{len(self.hosts())} hosts, {len(self.devices())} devices, s3 on 127.0.0.1:{self.s3_port}; "
                      f"inventory {self.inventory_path.relative_to(REPO_ROOT)}")
        return state

    def down(self) -> None:
        podman.preflight()
        self._remove_orphans()
        self.inventory_path.unlink(missing_ok=True)
        if self.state_dir.exists():
            execute.run(["rm", "-rf", str(self.state_dir)])
        self.progress(f"lab '{self.name}' removed (the cached image is kept)")

    def status(self) -> list[dict[str, Any]]:
        rows = []
        for node in self.nodes():
            state = podman.container_state(self.container(node.name)) or "absent"
            rows.append({"name": node.name, "kind": node.kind, "state": state,
                         "address": f"127.0.0.1:{node.port}", "container": self.container(node.name)})
        return rows

    # --- fault simulation (used by tests and the network check) ---------------------------------------------
    def stop(self, node: str) -> None:
        podman.podman("stop", "-t", "2", self.container(node))

    def start(self, node: str) -> None:
        podman.podman("start", self.container(node))
        self._wait_ready([n for n in self.nodes() if n.name == node])

    def exec(self, node: str, *command: str, check: bool = True, input_text: str | None = None) -> str:
        return podman.podman("exec", "-i", self.container(node), *command, check=check,
                             input_text=input_text).stdout

    def recreate(self, node: str) -> None:
        """Replace a host with a fresh container from the image (tests that need a bare host)."""
        podman.remove_container(self.container(node))
        target = next(n for n in self.nodes() if n.name == node)
        self._ensure_container(target, ensure_image(self.progress))
        self._wait_ready([target])
        if target.kind == "host" and (self.apt_www.parent / "sop-lab.sources").exists():
            self._install_apt_trust(aptrepo.host_files(aptrepo.build_repositories(self.apt_www)), [target])
        self._write_known_hosts()

    def check_names(self, timeout_s: float = NAME_CHECK_TIMEOUT_S) -> None:
        """Prove what the SOPs rely on: a lab host resolves and reaches ``s3`` and the probe targets by name
        (backups go to http://s3:5000). Retried briefly while podman's DNS registers new containers."""
        host = self.hosts()[0]
        targets = {name: (0 if spec.get("udp") else spec["container_port"])
                   for name, spec in self.topology["services"].items()}
        deadline = time.monotonic() + timeout_s
        while True:  # bounded by timeout_s
            problems = json.loads(self.exec(host.name, "python3", "-c", NAME_PROBE, json.dumps(targets)) or "{}")
            if not problems or time.monotonic() > deadline:
                break
            time.sleep(1)
        unresolved = sorted(n for n, why in problems.items() if why == "unresolved")
        if unresolved:
            raise LabError(f"lab host {host.name} cannot resolve {', '.join(unresolved)} by name (podman DNS): "
                           f"backups to s3 and the network check would fail",
                           hint=f"{podman.FIX_DNS}; then sop lab down --name {self.name} && "
                                f"sop lab up --name {self.name}")
        if problems:
            name, why = sorted(problems.items())[0]
            raise LabError(f"lab host {host.name} resolves but cannot reach {name}: {why}",
                           hint=f"podman logs {self.container(name)}")

    # --- internals ----------------------------------------------------------------------------------------
    def _replace_cni_network(self) -> None:
        """A lab network made by podman's CNI backend (an older setup, no DNS) is replaced: its containers and
        config go, and netavark creates the network again (keys and secrets in the state dir are kept)."""
        leftover = podman.cni_leftover(self.network)
        if leftover is None:
            return
        self.progress(f"lab network {self.network} was made by podman's CNI backend (no DNS): recreating it "
                      "and its containers with netavark")
        for info in podman.containers(f"{LABEL}={self.name}"):
            podman.remove_container(info["Id"])
        podman.remove_cni_leftover(leftover)

    def _remove_orphans(self) -> None:
        """Remove this lab's containers and network. Also used when they outlive their state directory (another
        checkout, a deleted .lab/): their keys and secrets are gone, so they cannot be reused."""
        for info in podman.containers(f"{LABEL}={self.name}"):
            podman.remove_container(info["Id"])
        if podman.exists("network", self.network):
            podman.podman("network", "rm", "-f", self.network)

    def _ensure_state(self) -> None:
        (self.state_dir / "ssh").mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.state_dir, 0o700)
        if not self.key_path.exists():
            execute.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"sop-lab-{self.name}",
                         "-f", str(self.key_path)])
        secrets_file = self.state_dir / "secrets.json"
        known = json.loads(secrets_file.read_text()) if secrets_file.exists() else {}
        generated = {k: secrets.token_urlsafe(18) for k in
                     ("device_password", "device_enable", "restic_password", "s3_secret_key", "ldap_admin_password")}
        generated["s3_access_key"] = "SOPLAB" + secrets.token_hex(7).upper()
        if set(generated) - set(known):  # a new lab, or one made before a secret was added (keep the others)
            secrets_file.touch(mode=0o600)
            secrets_file.write_text(json.dumps({**generated, **known}, indent=2))
        directory.write_config(self.state_dir / "ldap", self.secrets["ldap_admin_password"])

    @property
    def secrets(self) -> dict[str, str]:
        return json.loads((self.state_dir / "secrets.json").read_text())

    def _ensure_network(self) -> None:
        if not podman.exists("network", self.network):
            podman.podman("network", "create", "--subnet", self.subnet, "--label", f"{LABEL}={self.name}",
                          self.network)

    def _identity_options(self, node: Node) -> list[str]:
        return ["--name", self.container(node.name), "--hostname", node.name,
                "--label", f"{LABEL}={self.name}", "--network", self.network, "--network-alias", node.name]

    def _ensure_container(self, node: Node, image: str) -> None:
        name = self.container(node.name)
        state = podman.container_state(name)
        if state == "running":
            return
        if state is not None:
            podman.podman("start", name)
            return
        self._check_port_free(node.port)
        options = self._identity_options(node)
        if node.kind == "host":
            # Block devices handed to a host (a wipe target: loop devices as /dev/sdX), never --privileged.
            devices = [arg for dev in node.spec.get("devices", []) for arg in ("--device", str(dev))]
            self._create_host(name, [*options, *devices, "-p", f"127.0.0.1:{node.port}:22", "--tmpfs", "/tmp",
                                     image])
            self._install_key(node)
            return
        # Devices and services run a program of this checkout's venv (same Debian python3 as the image).
        extra, command = self._device_program(node) if node.kind == "device" else self._service_program(node)
        podman.podman("run", "-d", *options, *extra, *_checkout_mounts(),
                      "-e", f"PYTHONPATH={REPO_ROOT}", image, *command)

    def _device_program(self, node: Node) -> tuple[list[str], list[str]]:
        """fake-switches serving this device on port 22, its spec (with generated secrets) mounted read-only."""
        spec = self.state_dir / f"device-{node.name}.json"
        self._write_device_spec(node, spec)
        extra = ["-p", f"127.0.0.1:{node.port}:22", "-v", f"{spec}:/run/sop-device.json:ro"]
        return extra, [f"{VENV}/bin/python", "-m", "runner.lab.fakeswitch", "--spec", "/run/sop-device.json"]

    def _service_program(self, node: Node) -> tuple[list[str], list[str]]:
        """A service: moto S3 by default, or ``python -m <module> <args>``."""
        cport = node.spec["container_port"]
        options = ["-p", f"127.0.0.1:{node.port}:{cport}"]
        if node.spec.get("udp"):
            options += ["-p", f"127.0.0.1:{node.port}:{cport}/udp"]
        for port in node.spec.get("extra_ports", []):
            options += ["-p", f"127.0.0.1:{self.base_port + port['offset']}:{port['container_port']}"]
        for cap in node.spec.get("cap_add", []):
            options += ["--cap-add", cap]
        if "module" in node.spec:  # args may name the lab's state dir ({state_dir}: inside the mounted checkout)
            return options, [f"{VENV}/bin/python", "-m", node.spec["module"],
                             *[str(a).format(state_dir=self.state_dir) for a in node.spec.get("args", [])]]
        return options, [f"{VENV}/bin/moto_server", "-H", "0.0.0.0", "-p", str(cport)]

    def _create_host(self, name: str, create_args: list[str]) -> None:
        """Create, give the host a machine-id of its own (systemd would derive the same one in every container),
        then boot it."""
        podman.podman("create", *create_args)
        machine_id = self.state_dir / f"machine-id-{name}"
        machine_id.write_text(uuid.uuid4().hex + "\n")
        podman.podman("cp", str(machine_id), f"{name}:/etc/machine-id")
        machine_id.unlink()
        podman.podman("start", name)

    def _write_device_spec(self, node: Node, path: Path) -> None:
        # Optional seed configuration lines may use the lab's generated secrets ({device_password}...).
        spec = [{"model": node.spec["model"], "hostname": node.name, "port": 22, "username": "netops",
                 "password": self.secrets["device_password"], "enable": self.secrets["device_enable"],
                 "config": [line.format(**self.secrets) for line in node.spec.get("config", [])],
                 "config_xml": node.spec.get("config_xml", "").format(**self.secrets)}]
        path.touch(mode=0o600)
        path.write_text(json.dumps(spec))

    def _install_key(self, node: Node) -> None:
        pub = self.key_path.with_suffix(".pub").read_text()
        deadline = time.monotonic() + 30
        while True:  # bounded: systemd may still be setting up the container's user namespace
            result = podman.podman(
                "exec", "-i", self.container(node.name), "sh", "-c",
                "install -d -m 700 -o sop -g sop /home/sop/.ssh && cat > /home/sop/.ssh/authorized_keys"
                " && chown sop:sop /home/sop/.ssh/authorized_keys && chmod 600 /home/sop/.ssh/authorized_keys",
                input_text=pub, check=False)
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise LabError(f"could not install the lab key on {node.name}: {result.stderr.strip()}")
            time.sleep(0.5)

    @staticmethod
    def _check_port_free(port: int) -> None:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                raise LabError(f"port 127.0.0.1:{port} is already in use",
                               hint="another lab or program holds it: `sop lab status` / `ss -ltnp`") from None

    def _wait_ready(self, nodes: list[Node] | None = None) -> None:
        """Wait (bounded) until every SSH endpoint greets and the S3 port accepts connections.

        A node whose container has stopped is started again, once. A running one is left to finish booting: on a
        slow machine (the fresh-machine VM) hosts came up after minutes, and restarting them half-way only made
        them later. (The stall this once guarded against, inotify exhaustion, is refused by the preflight.)
        """
        pending = {n.name: n for n in (nodes or self.nodes())}
        timeout = boot_timeout()
        started = time.monotonic()
        restarted: set[str] = set()
        next_state_check = started + STATE_CHECK_S
        while pending and time.monotonic() - started < timeout:
            for name, node in list(pending.items()):
                if _endpoint_ready(node):
                    del pending[name]
            if pending and time.monotonic() >= next_state_check:  # a podman call per node: not every second
                next_state_check = time.monotonic() + STATE_CHECK_S
                self._start_stopped(pending, restarted)
            if pending:
                time.sleep(0.5)
        if pending:
            raise LabError(f"lab nodes not ready after {timeout:.0f}s: {', '.join(sorted(pending))}",
                           hint=f"podman logs {self.container(next(iter(pending)))}")

    def _start_stopped(self, pending: dict[str, Node], restarted: set[str]) -> None:
        for name in sorted(set(pending) - restarted):
            if podman.container_state(self.container(name)) == "exited":
                self.progress(f"{name} stopped while booting; starting it again (once)")
                podman.podman("start", self.container(name))
                restarted.add(name)

    def _ensure_bucket(self) -> None:
        import boto3

        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.s3_port}", region_name="us-east-1",
                          aws_access_key_id=self.secrets["s3_access_key"],
                          aws_secret_access_key=self.secrets["s3_secret_key"])
        bucket = self.topology["services"]["s3"]["bucket"]
        if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=bucket)

    def _write_known_hosts(self) -> None:
        lines = []
        for node in self.hosts():
            result = execute.run(["ssh-keyscan", "-T", "5", "-t", "ed25519", "-p", str(node.port), "127.0.0.1"],
                                 check=False, timeout=30)
            lines += [line for line in result.stdout.splitlines() if line and not line.startswith("#")]
        self.known_hosts.write_text("\n".join(lines) + "\n")

    @property
    def apt_www(self) -> Path:
        """What the lab's ``apt`` service serves (runner.lab.aptrepo): inside the checkout, mounted read-only."""
        return self.state_dir / "apt" / "www"

    def _install_apt_trust(self, files: dict[str, Path], hosts: list[Node] | None = None) -> None:
        for node in hosts or self.hosts():
            self.exec(node.name, "install", "-d", "-m", "0755", "/usr/share/keyrings", "/var/lib/clamav")
            for dest, src in files.items():
                podman.podman("cp", str(src), f"{self.container(node.name)}:{dest}")
                self.exec(node.name, "chmod", "0644", dest)

    @property
    def config_remote(self) -> Path:
        """The bare git repository the network config store is pushed to (as a team's git server would be)."""
        return self.state_dir / "network-configs.git"

    def _ensure_config_remote(self) -> None:
        if not (self.config_remote / "HEAD").exists():
            execute.run(["git", "init", "-q", "--bare", "-b", "main", str(self.config_remote)], timeout=60)

    def _write_inventory(self) -> dict[str, Any]:
        state = {"name": self.name, "base_port": self.base_port, "subnet": self.subnet,
                 "network": self.network, "key": str(self.key_path), "known_hosts": str(self.known_hosts),
                 "s3_port": self.s3_port, "bucket": self.topology["services"]["s3"]["bucket"],
                 "config_remote": str(self.config_remote),
                 "nodes": [{"name": n.name, "kind": n.kind, "port": n.port, **n.spec} for n in self.nodes()]}
        self.inventory_path.parent.mkdir(parents=True, exist_ok=True)
        self.inventory_path.touch(mode=0o600)
        self.inventory_path.write_text(render_inventory(state, self.secrets))
        (self.state_dir / "state.json").write_text(json.dumps(state, indent=2))
        return state


def _endpoint_ready(node: Node) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", node.port), timeout=1) as sock:
            if node.kind == "service":
                return True
            sock.settimeout(2)
            return sock.recv(64).startswith(b"SSH-")
    except OSError:
        return False
