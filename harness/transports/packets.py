"""What an IP packet seen leaving a program tried to reach: the attempt it stands for.

The network boundary (harness.transports.netns) watches every packet sent inside its
network namespace, where every address is local and no route leads out. Each packet is
read here into an attempt, as the in-process guard words one (method naming its channel,
host, path): a TCP connection opened (a SYN) is `CONNECT host :PORT`, a DNS query (UDP
to port 53, to any address) is `RESOLVE name`, another UDP datagram is `SEND host :PORT`,
an ICMP echo request is `RAW host`. Loopback traffic (the mocked services), the
kernel's own answers (resets, ICMP errors) and anything malformed are no attempt.
Reading is bounded by the packet: a truncated or lying header gives no attempt.
"""

from __future__ import annotations

import ipaddress
import struct

from harness.egress_guard import Attempt

DNS_PORT = 53
_TCP, _UDP, _ICMP, _ICMPV6 = 6, 17, 1, 58
_SYN, _ACK = 0x02, 0x10
_ECHO_REQUEST = {_ICMP: 8, _ICMPV6: 128}
MAX_NAME = 253  # the longest DNS name, in text


def attempt_of(packet: bytes) -> Attempt | None:
    """The attempt an IP packet (v4 or v6, no link header) makes, or None."""
    parsed = _network(packet)
    if parsed is None:
        return None
    protocol, destination, payload = parsed
    if protocol == _UDP and len(payload) >= 8:
        port = struct.unpack_from("!H", payload, 2)[0]
        if port == DNS_PORT:
            name = dns_question(payload[8:])
            return ("RESOLVE", name, "") if name is not None else None
        return None if destination.is_loopback else ("SEND", _shown(destination), f":{port}")
    if destination.is_loopback:
        return None
    if protocol == _TCP and len(payload) >= 14:
        port = struct.unpack_from("!H", payload, 2)[0]
        flags = payload[13]
        if flags & _SYN and not flags & _ACK:
            return ("CONNECT", _shown(destination), f":{port}")
        return None
    if protocol in _ECHO_REQUEST and payload[:1] == bytes([_ECHO_REQUEST[protocol]]):
        return ("RAW", _shown(destination), "")
    return None


def _network(
    packet: bytes,
) -> tuple[int, ipaddress.IPv4Address | ipaddress.IPv6Address, bytes] | None:
    """(protocol, destination, transport payload) of an IPv4 or IPv6 packet."""
    if not packet:
        return None
    version = packet[0] >> 4
    if version == 4 and len(packet) >= 20:
        header = (packet[0] & 0x0F) * 4
        fragment = struct.unpack_from("!H", packet, 6)[0] & 0x1FFF
        if header < 20 or len(packet) < header or fragment:
            return None  # a later fragment carries no transport header
        return packet[9], ipaddress.IPv4Address(packet[16:20]), packet[header:]
    if version == 6 and len(packet) >= 40:
        destination = ipaddress.IPv6Address(packet[24:40])
        mapped = destination.ipv4_mapped
        return packet[6], mapped if mapped is not None else destination, packet[40:]
    return None


def dns_question(message: bytes) -> str | None:
    """The name the first question of a DNS query asks for (lowercase, no final dot)."""
    if len(message) < 12 or message[2] & 0x80 or struct.unpack_from("!H", message, 4)[0] < 1:
        return None  # too short, a response, or no question
    labels: list[str] = []
    at, length = 12, 0
    while at < len(message):
        size = message[at]
        if size == 0:
            name = ".".join(labels).lower()
            return name if name else None
        if size > 63 or at + 1 + size > len(message):
            return None  # a compression pointer has no place in a query's first name
        label = message[at + 1 : at + 1 + size]
        length += size + 1
        if length > MAX_NAME + 1:
            return None
        labels.append("".join(chr(c) if 0x21 <= c <= 0x7E else f"\\x{c:02x}" for c in label))
        at += 1 + size
    return None


def _shown(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return f"[{address}]" if address.version == 6 else str(address)
