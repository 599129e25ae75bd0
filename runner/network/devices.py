"""Network devices and their credentials, read from the Ansible inventory (vaulted values included)."""

from __future__ import annotations

import contextlib
import functools
import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runner import execute
from runner.audit.redact import MIN_SECRET_LEN, is_secret_key, is_vaulted
from runner.errors import ConfigError
from runner.network.masking import family_names
from runner.paths import REPO_ROOT

DEFAULT_GROUP = "network"
TRANSPORTS = ("cli", "netconf")
DEFAULT_PORTS = {"cli": 22, "netconf": 830}  # NETCONF over SSH (RFC 6242)
_VAR_REF = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
_NOT_SECRETS = frozenset({"true", "false", "yes", "no", "none", "null"})  # too common to scrub from a config


@dataclass(frozen=True)
class Device:
    """One device to reach with netmiko (``cli``) or ncclient (``netconf``). ``repr`` never shows the credentials."""

    name: str
    host: str
    port: int
    device_type: str
    username: str
    password: str = field(repr=False)
    secret: str = field(default="", repr=False)
    role: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    transport: str = "cli"
    mask_family: str | None = None  # network_mask_family: masking rules chosen by the inventory (None: by type)
    known_secrets: tuple[str, ...] = field(default=(), repr=False)  # other vaulted / secret-looking host vars

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value known for this device: its credentials first, then the other host secrets."""
        values = (self.password, self.secret, *self.known_secrets)
        return tuple(dict.fromkeys(s for s in values if s))


@functools.cache
def _vault_lib() -> Any:
    """Vault secrets as ansible-playbook would get them (ansible.cfg / ANSIBLE_VAULT_* environment)."""
    from ansible import constants
    from ansible.cli import CLI
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultLib

    password_files = [constants.DEFAULT_VAULT_PASSWORD_FILE] if constants.DEFAULT_VAULT_PASSWORD_FILE else []
    secrets = CLI.setup_vault_secrets(DataLoader(), vault_ids=constants.DEFAULT_VAULT_IDENTITY_LIST,
                                      vault_password_files=password_files, ask_vault_pass=False)
    return VaultLib(secrets)


def _decrypt(value: Any) -> Any:
    """``ansible-inventory --list`` prints vaulted values as ``{"__ansible_vault": ciphertext}``."""
    if isinstance(value, dict) and set(value) == {"__ansible_vault"}:
        try:
            return _vault_lib().decrypt(value["__ansible_vault"]).decode()
        except Exception as exc:
            raise ConfigError(f"cannot decrypt a vaulted inventory value: {type(exc).__name__}",
                              hint="set ANSIBLE_VAULT_PASSWORD_FILE or vault_password_file in ansible.cfg") from None
    return value


def _resolve(value: Any, hostvars: Mapping[str, Any], depth: int = 0) -> Any:
    """Resolve a plain ``{{ var }}`` reference (ansible-inventory does not template) and vaulted values."""
    value = _decrypt(value)
    if isinstance(value, str) and depth < 5 and (match := _VAR_REF.match(value.strip())):
        return _resolve(hostvars.get(match.group(1), value), hostvars, depth + 1)
    return value


def transport_of(name: str, network_transport: Any, ansible_connection: Any) -> str:
    """``network_transport`` if set, else ``netconf`` when Ansible itself connects over NETCONF, else ``cli``."""
    if network_transport:
        transport = str(network_transport).lower()
        if transport not in TRANSPORTS:
            raise ConfigError(f"inventory host {name}: network_transport {network_transport!r} is not one of "
                              f"{', '.join(TRANSPORTS)}")
        return transport
    return "netconf" if str(ansible_connection or "").split(".")[-1] == "netconf" else "cli"


def _mask_family(name: str, value: Any) -> str | None:
    """``network_mask_family``, checked at the edge: a family of runner/network/masking_rules.yml or unset."""
    if value in (None, ""):
        return None
    allowed = family_names()
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"inventory host {name}: network_mask_family {value!r} is not a masking family",
                          hint=f"use one of: {', '.join(allowed)} (or leave it unset to use the device type's)")
    return value


def _is_vault_value(value: Any) -> bool:
    return (isinstance(value, dict) and set(value) == {"__ansible_vault"}) or is_vaulted(value)


def host_secrets(hostvars: Mapping[str, Any], extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Plain text of the host's vaulted values and secret-looking vars (``*_password``, ``*_key``, ...).

    They are masked wherever they appear in the device's configuration and the store's leak scan looks for them.
    A value that cannot be decrypted is skipped: its plain text is unknown, so it cannot be looked for either.
    """
    found = [str(v) for v in extra if v]
    for key, raw in hostvars.items():
        if not (is_secret_key(key) or _is_vault_value(raw)):
            continue
        with contextlib.suppress(ConfigError):
            value = _resolve(raw, hostvars)
            if isinstance(value, str):  # not numbers: a port or an id would be masked all over the config
                found.append(value)
    return tuple(dict.fromkeys(v for v in found if len(v) >= MIN_SECRET_LEN and v.lower() not in _NOT_SECRETS))


def device_from_vars(name: str, hostvars: Mapping[str, Any], extra_secrets: Iterable[str] = ()) -> Device:
    def get(key: str, default: Any = None) -> Any:
        return _resolve(hostvars.get(key, default), hostvars)

    device_type = get("netmiko_device_type")
    if not device_type:
        raise ConfigError(f"inventory host {name}: netmiko_device_type is not set",
                          hint="set it as a host or group var (e.g. cisco_ios, arista_eos)")
    if not get("ansible_user") or get("ansible_password") is None:
        raise ConfigError(f"inventory host {name}: ansible_user/ansible_password are not set")
    transport = transport_of(name, get("network_transport"), get("ansible_connection"))
    return Device(
        name=name,
        host=str(get("ansible_host", name)),
        port=int(get("ansible_port", DEFAULT_PORTS[transport])),
        device_type=str(device_type),
        username=str(get("ansible_user")),
        password=str(get("ansible_password")),
        secret=str(get("ansible_become_password") or ""),
        role=get("network_role"),
        options=dict(get("netmiko_options") or {}),
        transport=transport,
        mask_family=_mask_family(name, get("network_mask_family")),
        known_secrets=host_secrets(hostvars, extra_secrets),
    )


def _group_hosts(groups: Mapping[str, Any], group: str) -> set[str]:
    entry = groups.get(group) or {}
    members = set(entry.get("hosts", []))
    for child in entry.get("children", []):
        members |= _group_hosts(groups, child)
    return members


def load_devices(inventory: str | None, limit: str | None = None, group: str = DEFAULT_GROUP) -> list[Device]:
    """Devices of ``group`` from ``ansible-inventory --list`` (vault per ansible.cfg/ANSIBLE_VAULT_* env)."""
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-inventory"), "--list"]
    if inventory:
        command += ["-i", inventory]
    if limit:
        command += ["--limit", limit]
    try:
        result = execute.run(command, timeout=120, env={"ANSIBLE_INVENTORY_UNPARSED_WARNING": "False"})
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        raise ConfigError(f"inventory {inventory or '(ansible.cfg default)'}: "
                          f"{detail[-1] if detail else 'ansible-inventory failed'}") from None
    data = json.loads(result.stdout)
    hostvars = data.get("_meta", {}).get("hostvars", {})
    names = sorted(_group_hosts(data, group))
    if not names:
        raise ConfigError(f"inventory {inventory or '(ansible.cfg default)'}: no hosts in group {group!r}"
                          + (f" matching --limit {limit}" if limit else ""),
                          hint="check the path (-i) and that network devices are in the 'network' group")
    return [device_from_vars(name, hostvars.get(name, {})) for name in names]
