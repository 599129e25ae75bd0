"""Fetch a device's configuration over NETCONF (ncclient): Juniper Junos, and any device the inventory marks
``network_transport: netconf`` (or whose ``ansible_connection`` is ``ansible.netcommon.netconf``).

One NETCONF session per device (SSH subsystem ``netconf``), ``<get-config>`` of the ``running`` datastore, which
on Junos is the committed configuration. Junos has no startup configuration (the committed one is what boots),
so only ``running`` is stored. The candidate is not a saved state (uncommitted edits) and is not fetched.

Stored as XML, not converted to ``display set``: the XML is exactly what the device returned, lossless and
loadable again (``load-configuration``/edit-config), while a faithful set rendering needs Junos' schema (which
list keywords are positional: ``interfaces ge-0/0/1`` but ``protocols lldp interface ge-0/0/1``; multi-key
lists such as ``route-filter``). The rendering is made diff-friendly: namespaces dropped, the commit time/user
attributes of ``<configuration>`` dropped (they change with every commit, not with the configuration),
attributes sorted, one element per line, two-space indent. Element order is kept as the device sends it: in
Junos it is meaningful (firewall and policy terms are evaluated in order).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from lxml import etree
from ncclient import manager

from runner.network.devices import Device

# ncclient device handlers per netmiko device type (the Junos one strips namespaces and knows Junos' replies).
DEVICE_PARAMS: dict[str, dict[str, str]] = {"juniper_junos": {"name": "junos"}}
_VOLATILE_PREFIXES = ("commit-", "changed-")  # junos:commit-seconds, -localtime, -user; junos:changed-*


def connect_args(device: Device, timeout: float) -> dict[str, Any]:
    # Password authentication only: no agent or ~/.ssh keys (a key the device refuses would cost an attempt).
    return {"host": device.host, "port": device.port, "username": device.username, "password": device.password,
            "hostkey_verify": False, "allow_agent": False, "look_for_keys": False, "timeout": min(timeout, 10),
            "device_params": DEVICE_PARAMS.get(device.device_type, {"name": "default"})}


def _localname(name: str) -> str:
    return etree.QName(name).localname


def _configuration(root: Any) -> Any:
    """The <configuration> element of a reply (Junos), else the <data> element (another NETCONF device)."""
    for tag in ("configuration", "data"):
        found = root.xpath(f"//*[local-name()='{tag}']")
        if found:
            return found[0]
    raise ValueError("the NETCONF reply holds no <configuration> or <data>")


def _strip(element: Any) -> None:
    for node in element.iter():
        if isinstance(node.tag, str):
            node.tag = _localname(node.tag)
        attributes = sorted((_localname(k), v) for k, v in node.attrib.items())
        node.attrib.clear()
        for key, value in attributes:
            node.set(key, value)
    etree.cleanup_namespaces(element)


def render(reply_xml: str | bytes) -> str:
    """A get-config reply as stable, pretty-printed XML of its configuration (see the module docstring)."""
    data = reply_xml.encode() if isinstance(reply_xml, str) else reply_xml
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(data, parser)
    config = _configuration(root)
    config = etree.fromstring(etree.tostring(config), parser)  # detached: no inherited namespaces
    for name in list(config.attrib):
        if _localname(name).startswith(_VOLATILE_PREFIXES):
            del config.attrib[name]
    _strip(config)
    etree.indent(config, space="  ")
    return etree.tostring(config, encoding="unicode") + "\n"


def _close(session: Any) -> None:
    with contextlib.suppress(Exception):
        session.timeout = min(session.timeout, 5)
        session.close_session()  # closes the transport too once the device answers
    if getattr(session, "connected", False):
        with contextlib.suppress(Exception):
            session._session.close()  # no answer to close-session: close the SSH transport ourselves


def fetch_outputs(device: Device, timeout: float, commands: Sequence[str] | None = None) -> dict[str, str]:
    """``{"running": xml}`` of one device; raises what ncclient raises (the caller classifies it)."""
    if commands is not None:
        raise ValueError(f"{device.name} is reached over NETCONF: CLI commands cannot be sent to it")
    session = manager.connect(**connect_args(device, timeout))
    try:
        session.timeout = timeout  # per RPC
        reply = session.get_config(source="running")
        return {"running": render(reply.data_xml)}
    finally:
        _close(session)
