"""Serve emulated network devices (fake-switches) over real SSH, with the fixes the lab needs.

Run inside a lab device container: ``python -m runner.lab.fakeswitch --spec /run/sop/device.json``.
The spec is a JSON list of ``{"model", "hostname", "port", "username", "password", "enable"}``.

Upstream defects worked around here (fake-switches 1.5.0):
- the enable password was compared as bytes, so any non-empty enable secret was denied;
- Cisco config mode had no ``end`` (netmiko's ``send_config_set`` ends with it);
- Cisco had no ``show privilege`` (cisco.ios network_cli uses it to decide whether to elevate).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from fake_switches import switch_factory
from fake_switches.cisco.command_processor.config import ConfigCommandProcessor
from fake_switches.cisco.command_processor.config_interface import ConfigInterfaceCommandProcessor
from fake_switches.cisco.command_processor.config_vlan import ConfigVlanCommandProcessor
from fake_switches.cisco.command_processor.default import DefaultCommandProcessor
from fake_switches.cisco.command_processor.enabled import EnabledCommandProcessor
from fake_switches.transports.ssh_service import SwitchSshService
from twisted.internet import reactor

MODELS = tuple(switch_factory.DEFAULT_MAPPING)


def _end_from_config(self: Any) -> None:
    self.is_done = True


def _end_from_config_submode(self: Any) -> None:
    # Leave the sub-mode, and make the parent config processor finish too (back to privileged EXEC).
    self.is_done = True
    self._sop_end_requested = True


def _show_privilege(level: int) -> Any:
    def do_show(self: Any, *args: str) -> None:
        if args and "privilege".startswith(args[0]) and len(args[0]) >= 4:
            self.write_line(f"Current privilege level is {level}")
            return
        self._sop_original_show(*args)

    return do_show


def _patch_cisco() -> None:
    ConfigCommandProcessor.do_end = _end_from_config
    for submode in (ConfigInterfaceCommandProcessor, ConfigVlanCommandProcessor):
        submode.do_end = _end_from_config_submode

    original_delegate = ConfigCommandProcessor.delegate_to_sub_processor

    def delegate(self: Any, line: str) -> Any:
        sub = self.sub_processor
        processed = original_delegate(self, line)
        if getattr(sub, "_sop_end_requested", False):
            self.is_done = True
        return processed

    ConfigCommandProcessor.delegate_to_sub_processor = delegate

    for processor, level in ((EnabledCommandProcessor, 15), (DefaultCommandProcessor, 1)):
        if hasattr(processor, "do_show"):
            processor._sop_original_show = processor.do_show
            processor.do_show = _show_privilege(level)
        else:
            processor._sop_original_show = lambda self, *a: self.write_line("% Invalid input detected")
            processor.do_show = _show_privilege(level)


def load_spec(path: Path) -> list[dict[str, Any]]:
    devices = json.loads(path.read_text())
    if not isinstance(devices, list) or not devices:
        raise SystemExit(f"{path}: expected a non-empty JSON list of devices")
    for device in devices:
        if device.get("model") not in MODELS:
            raise SystemExit(f"{path}: unknown model {device.get('model')!r}; known: {', '.join(MODELS)}")
    return devices


def serve(devices: list[dict[str, Any]], listen: str) -> None:
    _patch_cisco()
    factory = switch_factory.SwitchFactory()
    for device in devices:
        # The enable secret is compared with the typed line (a str): pass it as str, not bytes.
        core = factory.get(device["model"], device["hostname"], device["enable"])
        service = SwitchSshService(
            ip=listen,
            port=int(device["port"]),
            switch_core=core,
            users={device["username"]: device["password"].encode()},
        )
        service.hook_to_reactor(reactor)
    reactor.run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, required=True, help="JSON list of devices to serve")
    parser.add_argument("--listen", default="0.0.0.0", help="address to bind (inside its own container)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    serve(load_spec(args.spec), args.listen)


if __name__ == "__main__":
    main()
