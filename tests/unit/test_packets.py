"""Reading a packet seen leaving a program into the attempt it makes (the network
boundary's observer): connections opened, DNS queries, datagrams and pings are attempts;
loopback traffic, the kernel's answers and malformed packets are not."""

from __future__ import annotations

import struct

import pytest
from packet_builders import ACK, ICMP, ICMPV6, RST, SYN, TCP, UDP, ipv4, ipv6, query, tcp, udp

from harness.transports.packets import attempt_of, dns_question

CASES = {
    "a TCP connection": (
        ipv4("203.0.113.9", TCP, tcp(443, SYN)),
        ("CONNECT", "203.0.113.9", ":443"),
    ),
    "an IPv6 connection": (
        ipv6("2001:db8::9", TCP, tcp(80, SYN)),
        ("CONNECT", "[2001:db8::9]", ":80"),
    ),
    "an IPv4-mapped connection": (
        ipv6("::ffff:198.51.100.7", TCP, tcp(22, SYN)),
        ("CONNECT", "198.51.100.7", ":22"),
    ),
    "a DNS query to a name server": (
        ipv4("10.255.255.53", UDP, udp(53, query(b"api", b"Vendor", b"example"))),
        ("RESOLVE", "api.vendor.example", ""),
    ),
    "a DNS query to a local resolver": (
        ipv4("127.0.0.53", UDP, udp(53, query(b"leak", b"example"))),
        ("RESOLVE", "leak.example", ""),
    ),
    "a UDP datagram": (
        ipv4("198.51.100.7", UDP, udp(514, b"log line")),
        ("SEND", "198.51.100.7", ":514"),
    ),
    "a ping": (ipv4("198.51.100.7", ICMP, b"\x08\x00" + bytes(6)), ("RAW", "198.51.100.7", "")),
    "an IPv6 ping": (
        ipv6("2001:db8::1", ICMPV6, b"\x80\x00" + bytes(6)),
        ("RAW", "[2001:db8::1]", ""),
    ),
}

NOT_ATTEMPTS = {
    "a connection to a mock on loopback": ipv4("127.0.0.1", TCP, tcp(8080, SYN)),
    "an IPv6 loopback connection": ipv6("::1", TCP, tcp(8080, SYN)),
    "the mock's answer (SYN-ACK)": ipv4("203.0.113.9", TCP, tcp(40000, SYN | ACK)),
    "the kernel's reset": ipv4("203.0.113.9", TCP, tcp(40000, RST | ACK)),
    "data on a connection": ipv4("203.0.113.9", TCP, tcp(443, ACK)),
    "a UDP datagram on loopback": ipv4("127.0.0.1", UDP, udp(9999, b"x")),
    "the kernel's port unreachable": ipv4("203.0.113.9", ICMP, b"\x03\x03" + bytes(30)),
    "a DNS response": ipv4("10.0.0.2", UDP, udp(53, query(b"a", b"example", response=True))),
    "a later fragment": ipv4("203.0.113.9", TCP, tcp(443, SYN), fragment=100),
    "an empty packet": b"",
    "a truncated IPv4 header": ipv4("203.0.113.9", TCP, tcp(443, SYN))[:19],
    "a truncated TCP header": ipv4("203.0.113.9", TCP, tcp(443, SYN)[:10]),
    "an ARP frame": b"\x00\x01\x08\x00\x06\x04\x00\x01" + bytes(20),
}


@pytest.mark.parametrize("name", CASES)
def test_each_way_out_is_an_attempt(name: str) -> None:
    packet, attempt = CASES[name]
    assert attempt_of(packet) == attempt


@pytest.mark.parametrize("name", NOT_ATTEMPTS)
def test_what_is_not_an_attempt(name: str) -> None:
    assert attempt_of(NOT_ATTEMPTS[name]) is None


def test_a_queried_name_is_read_safely() -> None:
    assert dns_question(query(b"a\nb", b"ex ample")) == "a\\x0ab.ex\\x20ample"
    assert dns_question(query(b"x" * 63, b"y" * 63, b"z" * 63, b"w" * 61)) is not None
    assert dns_question(query(b"x" * 63, b"y" * 63, b"z" * 63, b"w" * 63)) is None  # over 253
    pointer = query(b"a")[:12] + b"\xc0\x0c" + b"\0\x01\0\x01"
    assert dns_question(pointer) is None
    assert dns_question(query(b"a", b"b")[:15]) is None  # cut inside the name
    no_question = struct.pack("!HHHHHH", 1, 0x0100, 0, 0, 0, 0) + b"\0"
    assert dns_question(no_question) is None
