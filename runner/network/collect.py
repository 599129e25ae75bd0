"""Fetch device output concurrently (one session per device, a bounded thread pool): netmiko for CLI devices,
ncclient for NETCONF ones (``runner.network.netconf``: Junos).

Each device is isolated: a timeout, an authentication failure or an unreachable device becomes a failed
``Fetch`` naming the cause; the others continue.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ncclient.operations.errors import TimeoutExpiredError
from ncclient.transport.errors import AuthenticationError, SSHError
from netmiko import ConnectHandler

from runner.network import netconf
from runner.network.devices import Device

DEFAULT_WORKERS = 16
DEFAULT_TIMEOUT = 20

# What to run per netmiko device type: the running and the startup configuration.
COMMANDS: dict[str, dict[str, str]] = {
    "default": {"running": "show running-config", "startup": "show startup-config"},
    "juniper_junos": {"running": "show configuration | display set",
                      "startup": "show configuration | display set"},
}
# Connection options some platforms need (the inventory's netmiko_options host var adds to these).
PLATFORM_OPTIONS: dict[str, dict[str, Any]] = {
    # PowerConnect answers SSH 'none' auth with an in-band login unless key/agent auth is enabled: with
    # allow_agent netmiko uses plain password auth; its login handler then polls with the global delay factor.
    "dell_powerconnect": {"allow_agent": True, "global_delay_factor": 0.1},
}
# Lines that change without a configuration change (timestamps, byte counts): dropped before storing.
VOLATILE = re.compile(
    r"^(?:Building configuration\.\.\.|Current configuration\s*:.*|! Last configuration change.*|"
    r"! NVRAM config last updated.*|! Time:.*|ntp clock-period.*|! Command: show .*)$")


@dataclass
class Fetch:
    device: str
    ok: bool
    outputs: dict[str, str] = field(default_factory=dict)
    error_kind: str | None = None  # auth | timeout | unreachable | error
    error: str | None = None
    seconds: float = 0.0


def _classify_ncclient(exc: BaseException) -> str | None:
    if isinstance(exc, AuthenticationError):
        return "auth"
    if isinstance(exc, TimeoutExpiredError):
        return "timeout"
    if isinstance(exc, SSHError) and str(exc).startswith("Could not open socket"):
        return "unreachable"  # ncclient's word for refused and connect timeout alike
    return None


def classify(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc).lower()
    if known := _classify_ncclient(exc):
        return known
    if "Authentication" in name or "authentication" in text:
        return "auth"
    if "refused" in text or "tcp connection to device failed" in text or "no route" in text or \
            isinstance(exc, ConnectionError):
        return "unreachable"
    if "Timeout" in name or "timed out" in text or isinstance(exc, TimeoutError):
        return "timeout"
    return "error"


def clean(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r", "").split("\n") if not VOLATILE.match(line.strip())]
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines).strip("\n") + "\n"


def connect_args(device: Device, timeout: float) -> dict[str, Any]:
    return {"device_type": device.device_type, "host": device.host, "port": device.port,
            "username": device.username, "password": device.password, "secret": device.secret,
            "conn_timeout": min(timeout, 10), "auth_timeout": timeout, "banner_timeout": timeout,
            "read_timeout_override": timeout, "use_keys": False, "allow_agent": False,
            **PLATFORM_OPTIONS.get(device.device_type, {}), **device.options}


def _close(connection: Any) -> None:
    # Close the transport without the CLI logout dance (it costs ~2 s on some platforms for nothing).
    with contextlib.suppress(Exception):
        connection.paramiko_cleanup()


def _fetch_cli(device: Device, commands: Sequence[str] | None, timeout: float,
               connect: Callable[..., Any]) -> dict[str, str]:
    wanted = COMMANDS.get(device.device_type, COMMANDS["default"])
    plan = dict(wanted) if commands is None else {c: c for c in commands}
    connection = connect(**connect_args(device, timeout))
    try:
        if device.secret and not connection.check_enable_mode():
            connection.enable()
        return {key: clean(connection.send_command(cmd)) for key, cmd in plan.items()}
    finally:
        _close(connection)


def fetch(device: Device, commands: Sequence[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
          connect: Callable[..., Any] | None = None) -> Fetch:
    """Run the device type's commands (or ``commands``) on one device, or get its configuration over NETCONF;
    never raises."""
    started = time.monotonic()
    try:
        if device.transport == "netconf":
            outputs = netconf.fetch_outputs(device, timeout, commands)
        else:
            outputs = _fetch_cli(device, commands, timeout, connect or ConnectHandler)
    except Exception as exc:
        message = " ".join(str(exc).split())[:300] or type(exc).__name__
        for secret in device.secrets:
            message = message.replace(secret, "****")
        return Fetch(device.name, False, error_kind=classify(exc), error=message,
                     seconds=round(time.monotonic() - started, 3))
    return Fetch(device.name, True, outputs, seconds=round(time.monotonic() - started, 3))


def fetch_all(devices: Sequence[Device], workers: int = DEFAULT_WORKERS, timeout: float = DEFAULT_TIMEOUT,
              commands: Sequence[str] | None = None) -> list[Fetch]:
    """Fetch from every device with at most ``workers`` concurrent sessions; results in input order."""
    if not devices:
        return []
    size = max(1, min(workers, len(devices)))
    with ThreadPoolExecutor(max_workers=size, thread_name_prefix="netbackup") as pool:
        return list(pool.map(lambda d: fetch(d, commands, timeout), devices))
