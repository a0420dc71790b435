"""Any bytes seen on the wire are read without an exception: a program inside the network
boundary writes the packets the observer reads, so they are attacker input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from packet_builders import UDP, ipv4, udp

from harness.transports.packets import attempt_of


@given(st.binary(max_size=200))
def test_any_bytes_are_read_without_an_exception(packet: bytes) -> None:
    attempt = attempt_of(packet)
    assert attempt is None or attempt[0] in {"CONNECT", "RESOLVE", "SEND", "RAW"}


@given(st.binary(max_size=120))
def test_any_udp_payload_to_port_53_is_read_without_an_exception(body: bytes) -> None:
    attempt = attempt_of(ipv4("10.0.0.2", UDP, udp(53, body)))
    assert attempt is None or (attempt[0] == "RESOLVE" and len(attempt[1]) <= 4 * 253)
