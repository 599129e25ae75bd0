"""Serve emulated network devices (fake-switches) over real SSH, with the fixes the lab needs.

Run inside a lab device container: ``python -m runner.lab.fakeswitch --spec /run/sop/device.json``.
The spec is a JSON list of ``{"model", "hostname", "port", "username", "password", "enable"}``.

Upstream defects worked around here (fake-switches 1.5.0):
- the enable password was compared as bytes, so any non-empty enable secret was denied;
- Cisco config mode had no ``end`` (netmiko's ``send_config_set`` ends with it);
- Cisco had no ``show privilege`` (cisco.ios network_cli uses it to decide whether to elevate).
- Arista answered ``terminal width`` with "Pagination disabled." (netmiko's arista_eos waits for
  "Width set to");
- Brocade crashed on a bare ``show running-config`` (it only knew ``show running-config vlan|interface``).

Added for the network SOP (all vendors): global configuration lines the emulator has no model for
(``ntp server``, ``logging host``, ``snmp-server community``, ``username ... secret``, ``banner``...) are kept
verbatim, shown in ``show running-config`` after the hostname, and removed by ``no <line>``;
``show startup-config`` shows the running configuration with the extra lines as of the last ``write memory``/
``copy``. A device spec may seed them with ``"config": [lines]``.

Juniper models speak only NETCONF (the SSH subsystem ``netconf`` of the same server; no CLI). Their emulated
datastore models only interfaces, VLANs and RSTP/LLDP; a spec's ``"config_xml": "<configuration>..."`` seeds
those through the emulator's own edit + commit (so NETCONF edit-config and commit keep working on them) and
keeps every other hierarchy (``system``, ``snmp``, ``protocols bgp``...) verbatim: shown by get-config in both
datastores, read-only. ``system/host-name`` is the spec's hostname.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
from pathlib import Path
from typing import Any

from fake_switches import switch_factory
from fake_switches.arista.command_processor.config import ConfigCommandProcessor as AristaConfig
from fake_switches.arista.command_processor.config_interface import (
    ConfigInterfaceCommandProcessor as AristaConfigInterface,
)
from fake_switches.arista.command_processor.config_vlan import ConfigVlanCommandProcessor as AristaConfigVlan
from fake_switches.arista.command_processor.default import DefaultCommandProcessor as AristaDefault
from fake_switches.arista.command_processor.enabled import EnabledCommandProcessor as AristaEnabled
from fake_switches.brocade.command_processor.config import ConfigCommandProcessor as BrocadeConfig
from fake_switches.brocade.command_processor.config_interface import (
    ConfigInterfaceCommandProcessor as BrocadeConfigInterface,
)
from fake_switches.brocade.command_processor.config_virtual_interface import (
    ConfigVirtualInterfaceCommandProcessor,
)
from fake_switches.brocade.command_processor.config_virtual_interface_vrrp import (
    ConfigVirtualInterfaceVrrpCommandProcessor,
)
from fake_switches.brocade.command_processor.config_vlan import (
    ConfigVlanCommandProcessor as BrocadeConfigVlan,
)
from fake_switches.brocade.command_processor.config_vrf import ConfigVrfCommandProcessor as BrocadeConfigVrf
from fake_switches.brocade.command_processor.enabled import EnabledCommandProcessor as BrocadeEnabled
from fake_switches.cisco.command_processor.config import ConfigCommandProcessor
from fake_switches.cisco.command_processor.config_interface import ConfigInterfaceCommandProcessor
from fake_switches.cisco.command_processor.config_vlan import ConfigVlanCommandProcessor
from fake_switches.cisco.command_processor.config_vrf import ConfigVRFCommandProcessor
from fake_switches.cisco.command_processor.default import DefaultCommandProcessor
from fake_switches.cisco.command_processor.enabled import EnabledCommandProcessor
from fake_switches.dell.command_processor.config import DellConfigCommandProcessor
from fake_switches.dell.command_processor.enabled import DellEnabledCommandProcessor
from fake_switches.dell10g.command_processor.config import Dell10GConfigCommandProcessor
from fake_switches.dell10g.command_processor.enabled import Dell10GEnabledCommandProcessor
from fake_switches.juniper.juniper_core import BaseJuniperSwitchCore
from fake_switches.juniper.juniper_netconf_datastore import JuniperNetconfDatastore
from fake_switches.netconf import CANDIDATE
from fake_switches.switch_configuration import SwitchConfiguration
from fake_switches.transports.ssh_service import SwitchSshService
from lxml import etree
from twisted.internet import reactor

MODELS = tuple(switch_factory.DEFAULT_MAPPING)
_CONFIG_SUBMODES = (ConfigInterfaceCommandProcessor, ConfigVlanCommandProcessor, ConfigVRFCommandProcessor,
                    AristaConfigInterface, AristaConfigVlan, BrocadeConfigInterface,
                    ConfigVirtualInterfaceCommandProcessor, ConfigVirtualInterfaceVrrpCommandProcessor,
                    BrocadeConfigVlan, BrocadeConfigVrf)


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
        self._sop_show_before_privilege(*args)

    return do_show


def _end_propagating(original: Any) -> Any:
    def delegate(self: Any, line: str) -> Any:
        sub = self.sub_processor
        processed = original(self, line)
        if getattr(sub, "_sop_end_requested", False):
            self.is_done = True
            self._sop_end_requested = True
        return processed

    return delegate


def _patch_end() -> None:
    """``end`` in config mode and in every config sub-mode returns to privileged EXEC (all CLI vendors)."""
    for top in (ConfigCommandProcessor, AristaConfig, BrocadeConfig):
        top.do_end = _end_from_config
    for submode in _CONFIG_SUBMODES:
        submode.do_end = _end_from_config_submode
    for processor in (ConfigCommandProcessor, AristaConfig, BrocadeConfig, *_CONFIG_SUBMODES):
        if "_sop_end_patched" not in vars(processor):
            processor.delegate_to_sub_processor = _end_propagating(processor.delegate_to_sub_processor)
            processor._sop_end_patched = True


def _patch_cisco() -> None:
    for processor, level in ((EnabledCommandProcessor, 15), (DefaultCommandProcessor, 1)):
        if hasattr(processor, "do_show"):
            processor._sop_show_before_privilege = processor.do_show
            processor.do_show = _show_privilege(level)
        else:
            processor._sop_show_before_privilege = lambda self, *a: self.write_line("% Invalid input")
            processor.do_show = _show_privilege(level)


# --- every vendor: free-form global configuration lines ------------------------------------------------
_CONFIG_PROCESSORS = (ConfigCommandProcessor, AristaConfig, BrocadeConfig, DellConfigCommandProcessor,
                      Dell10GConfigCommandProcessor)
_ENABLED_PROCESSORS = (EnabledCommandProcessor, AristaEnabled, BrocadeEnabled, DellEnabledCommandProcessor,
                       Dell10GEnabledCommandProcessor)
_NOT_STORED = ("exit", "end", "do ", "show ")


def _extra(config: Any) -> list[str]:
    if not hasattr(config, "_sop_extra"):
        config._sop_extra = []
        config._sop_saved_extra = []
    return config._sop_extra


def _keep_unknown_line(original: Any) -> Any:
    def parse_and_execute_command(self: Any, line: str) -> bool:
        if original(self, line):
            return True
        text = line.strip()
        if not text or text.startswith(_NOT_STORED):
            return False
        lines = _extra(self.switch_configuration)
        if text.startswith("no "):
            target = text[3:].strip()
            lines[:] = [kept for kept in lines if kept != target and not kept.startswith(target + " ")]
        elif text not in lines:
            lines.append(text)
        return True

    return parse_and_execute_command


def _commit(original: Any) -> Any:
    def commit(self: Any) -> None:
        self._sop_saved_extra = list(_extra(self))
        original(self)

    return commit


def _render_running(processor: Any, extra: list[str]) -> None:
    captured: list[str] = []
    real_write_line = processor.write_line
    processor.write_line = captured.append
    try:
        if isinstance(processor, BrocadeEnabled):
            captured += ["Current configuration:", "!", "ver 08.0.30tT7f3", "!",
                         f"hostname {processor.switch_configuration.name}", "!"]
            processor.show_run_vlan()
            processor.show_run_int(("running-config", "interface"))
            captured.append("end")
        elif isinstance(processor, AristaEnabled):
            processor._sop_original_show("running-config", "all")
        else:
            processor._sop_original_show("running-config")
    finally:
        processor.write_line = real_write_line
    lines = "\n".join(captured).split("\n")
    headers = ("hostname ", "! device:")
    anchor = next((i + 1 for i, line in enumerate(lines) if line.startswith(headers)), None)
    if anchor is None:
        anchor = next((i for i, line in enumerate(lines) if line.strip() in ("end", "exit")), len(lines))
    for line in lines[:anchor] + extra + lines[anchor:]:
        real_write_line(line)


def _show_with_extra(self: Any, *args: str) -> None:
    config = self.switch_configuration
    whole = len(args) == 1 and len(args[0]) >= 3
    if whole and "running-config".startswith(args[0]):
        return _render_running(self, _extra(config))
    if whole and "startup-config".startswith(args[0]):
        _extra(config)
        return _render_running(self, config._sop_saved_extra)
    return self._sop_original_show(*args)


def _arista_terminal(self: Any, *args: str) -> None:
    if args and "width".startswith(args[0]) and len(args) > 1:
        self.write_line(f"Width set to {args[1]} columns.")
    else:
        self.write_line("Pagination disabled.")


def _patch_all_vendors() -> None:
    for processor in _CONFIG_PROCESSORS:
        if "_sop_patched" not in vars(processor):
            processor.parse_and_execute_command = _keep_unknown_line(processor.parse_and_execute_command)
            processor._sop_patched = True
    for processor in _ENABLED_PROCESSORS:
        if "do_show" in vars(processor) and "_sop_patched" not in vars(processor):
            processor._sop_original_show = processor.do_show
            processor.do_show = _show_with_extra
            processor._sop_patched = True
    SwitchConfiguration.commit = _commit(SwitchConfiguration.commit)
    AristaDefault.do_terminal = _arista_terminal
    AristaEnabled.do_terminal = _arista_terminal


# --- Juniper (NETCONF): seed hierarchies the emulator has no model for -------------------------------------
# Top-level order of a Junos configuration (get-config shows the hierarchies in this order).
_JUNOS_ORDER = ("version", "groups", "system", "chassis", "services", "security", "interfaces", "snmp",
                "forwarding-options", "routing-options", "protocols", "policy-options", "class-of-service",
                "firewall", "routing-instances", "vlans")


def _junos_rank(element: Any) -> int:
    tag = etree.QName(element).localname
    return _JUNOS_ORDER.index(tag) if tag in _JUNOS_ORDER else len(_JUNOS_ORDER)


def _merge_hierarchy(configuration: Any, extra: Any) -> None:
    """Add a verbatim hierarchy to a generated <configuration> (its children if the emulator made one too)."""
    tag = etree.QName(extra).localname
    same = next((c for c in configuration if etree.QName(c).localname == tag), None)
    if same is None:
        configuration.append(copy.deepcopy(extra))
    else:
        same.extend(copy.deepcopy(child) for child in extra)


def _to_etree_with_extra(original: Any) -> Any:
    def to_etree(self: Any, source: str) -> Any:
        data = original(self, source)
        configuration = data[0]
        for extra in getattr(self, "_sop_extra", []):
            _merge_hierarchy(configuration, extra)
        configuration[:] = sorted(configuration, key=_junos_rank)
        return data

    return to_etree


def _with_host_name(extras: list[Any], hostname: str) -> list[Any]:
    system = next((e for e in extras if e.tag == "system"), None)
    if system is None:
        system = etree.Element("system")
        extras.insert(0, system)
    if system.find("host-name") is None:
        host_name = etree.Element("host-name")
        host_name.text = hostname
        system.insert(0, host_name)
    return extras


def seed_junos(core: Any, hostname: str, config_xml: str) -> None:
    """Seed a Juniper core: modelled hierarchies through edit + commit, the others kept verbatim."""
    datastore = core.datastore
    parser = etree.XMLParser(remove_blank_text=True)
    root = etree.fromstring(config_xml.encode(), parser) if config_xml.strip() else etree.Element("configuration")
    known = ("interfaces", datastore.VLANS_COLLECTION)  # what the emulated datastore parses on edit-config
    modelled = etree.Element("configuration")
    modelled.extend(copy.deepcopy(c) for c in root if c.tag in known)
    if len(modelled):
        datastore.edit(CANDIDATE, modelled)
        datastore.commit_candidate()
        datastore.configurations[CANDIDATE].commit()
    datastore._sop_extra = _with_host_name([c for c in root if c.tag not in known], hostname)


def _patch_juniper() -> None:
    if "_sop_patched" not in vars(JuniperNetconfDatastore):
        JuniperNetconfDatastore.to_etree = _to_etree_with_extra(JuniperNetconfDatastore.to_etree)
        JuniperNetconfDatastore._sop_patched = True


def load_spec(path: Path) -> list[dict[str, Any]]:
    devices = json.loads(path.read_text())
    if not isinstance(devices, list) or not devices:
        raise SystemExit(f"{path}: expected a non-empty JSON list of devices")
    for device in devices:
        if device.get("model") not in MODELS:
            raise SystemExit(f"{path}: unknown model {device.get('model')!r}; known: {', '.join(MODELS)}")
    return devices


def serve(devices: list[dict[str, Any]], listen: str) -> None:
    _patch_all_vendors()
    _patch_end()
    _patch_cisco()
    _patch_juniper()
    factory = switch_factory.SwitchFactory()
    for device in devices:
        # The enable secret is compared with the typed line (a str): pass it as str, not bytes.
        core = factory.get(device["model"], device["hostname"], device["enable"])
        if isinstance(core, BaseJuniperSwitchCore):
            seed_junos(core, device["hostname"], device.get("config_xml", ""))
        _extra(core.switch_configuration)[:] = list(device.get("config", []))
        core.switch_configuration._sop_saved_extra = list(device.get("config", []))
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
