"""IP packets built byte by byte, as a program in the network boundary would send them."""

from __future__ import annotations

import ipaddress
import struct

TCP, UDP, ICMP, ICMPV6 = 6, 17, 1, 58
SYN, ACK, RST = 0x02, 0x10, 0x04


def ipv4(destination: str, protocol: int, payload: bytes, *, fragment: int = 0) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45, 0, 20 + len(payload), 1, fragment, 64, protocol, 0,
        ipaddress.IPv4Address("10.0.0.1").packed, ipaddress.IPv4Address(destination).packed,
    )  # fmt: skip
    return header + payload


def ipv6(destination: str, protocol: int, payload: bytes) -> bytes:
    header = struct.pack("!IHBB", 6 << 28, len(payload), protocol, 64)
    return (
        header
        + ipaddress.IPv6Address("::1").packed
        + ipaddress.IPv6Address(destination).packed
        + payload
    )


def tcp(port: int, flags: int) -> bytes:
    return struct.pack("!HHIIBBHHH", 40000, port, 1, 0, 5 << 4, flags, 65535, 0, 0)


def udp(port: int, body: bytes) -> bytes:
    return struct.pack("!HHHH", 40000, port, 8 + len(body), 0) + body


def query(*labels: bytes, response: bool = False) -> bytes:
    flags = 0x8180 if response else 0x0100
    name = b"".join(bytes([len(label)]) + label for label in labels) + b"\0"
    return struct.pack("!HHHHHH", 0x1234, flags, 1, 0, 0, 0) + name + b"\0\x01\0\x01"
