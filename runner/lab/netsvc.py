"""Tiny lab service responder: the probe targets of the morning network check (ISP edge, internet, DNS, VPN).

Run inside a lab service container:
``python -m runner.lab.netsvc --tcp 7000=isp-edge --relay 7001=internet:8000``.

- ``--tcp PORT=BANNER``: accept TCP connections and send one banner line.
- ``--relay PORT=HOST:PORT``: on connect, open a connection onward to HOST:PORT (over the lab network) and
  answer ``relay ok`` or ``relay failed``
  (the "internet through the ISP edge" path; a dropped route breaks it).
- ``--dns PORT``: answer DNS A queries over UDP for every lab name (resolved by podman's DNS) and open a
  TCP port of the same number (readiness). Unknown names get NXDOMAIN.
A service is "dropped" without stopping its container while ``/tmp/sop-down`` exists (it then stays silent).
Bounded: every onward connection has a 2 s timeout; nothing is sent outside the lab network.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import struct
from pathlib import Path

DOWN_FLAG = Path("/tmp/sop-down")


def _down() -> bool:
    return DOWN_FLAG.exists()


async def _banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, text: str) -> None:
    if not _down():
        writer.write(f"{text}\n".encode())
        await writer.drain()
    writer.close()


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: tuple[str, int]) -> None:
    if _down():
        writer.close()
        return
    try:
        _, onward = await asyncio.wait_for(asyncio.open_connection(*target), timeout=2)
        onward.close()
        answer = b"relay ok\n"
    except (TimeoutError, OSError):
        answer = b"relay failed\n"
    writer.write(answer)
    await writer.drain()
    writer.close()


def dns_answer(query: bytes, resolve: callable) -> bytes | None:  # type: ignore[valid-type]
    """Build a response to a single-question A query; None for anything unparseable."""
    if len(query) < 12:
        return None
    ident, _flags, qdcount = struct.unpack("!HHH", query[:6])
    if qdcount != 1:
        return None
    labels, offset = [], 12
    while offset < len(query) and query[offset]:
        length = query[offset]
        labels.append(query[offset + 1:offset + 1 + length].decode(errors="replace"))
        offset += 1 + length
    question = query[12:offset + 5]
    name = ".".join(labels).rstrip(".")
    address = resolve(name)
    if address is None:
        return struct.pack("!HHHHHH", ident, 0x8183, 1, 0, 0, 0) + question
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton(address)
    return struct.pack("!HHHHHH", ident, 0x8180, 1, 1, 0, 0) + question + answer


def _resolve(name: str) -> str | None:
    try:
        return socket.gethostbyname(name.split(".", maxsplit=1)[0]) if name else None
    except OSError:
        return None


class _Dns(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if _down():
            return
        response = dns_answer(data, _resolve)
        if response:
            self.transport.sendto(response, addr)  # type: ignore[attr-defined]


async def serve(args: argparse.Namespace) -> None:
    servers = []
    for spec in args.tcp:
        port, _, text = spec.partition("=")
        handler = lambda r, w, t=text: _banner(r, w, t)  # noqa: E731
        servers.append(await asyncio.start_server(handler, "0.0.0.0", int(port)))
    for spec in args.relay:
        port, _, target = spec.partition("=")
        host, _, tport = target.rpartition(":")
        servers.append(await asyncio.start_server(lambda r, w, t=(host, int(tport)): _relay(r, w, t),
                                                  "0.0.0.0", int(port)))
    if args.dns:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(_Dns, local_addr=("0.0.0.0", args.dns))
        servers.append(await asyncio.start_server(lambda r, w: _banner(r, w, "dns"), "0.0.0.0", args.dns))
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tcp", action="append", default=[], help="PORT=BANNER")
    parser.add_argument("--relay", action="append", default=[], help="PORT=HOST:PORT")
    parser.add_argument("--dns", type=int, default=0, help="UDP (+ TCP readiness) port of the DNS responder")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
