"""The loopback server's HTTP/1.1 request parser and answer heads, byte by byte."""

from __future__ import annotations

import pytest

from harness.transports.http11 import (
    Limits,
    ParsedRequest,
    Refusal,
    RequestParser,
    header_lines,
    status_line,
)

GET = b"GET /items?x=1 HTTP/1.1\r\nHost: api.example\r\nAuthorization: Bearer t\r\n\r\n"
POST = b"POST /items HTTP/1.1\r\nHost: api.example\r\nContent-Length: 5\r\n\r\nhello"


def _all(data: bytes, step: int = 0) -> list[ParsedRequest | Refusal]:
    parser = RequestParser(Limits(max_body=64))
    out: list[ParsedRequest | Refusal] = []
    pieces = [data[i : i + step] for i in range(0, len(data), step)] if step else [data]
    for piece in pieces:
        parser.feed(piece)
        while (item := parser.next()) is not None:
            out.append(item)
            if isinstance(item, Refusal):
                return out
    return out


def test_a_request_reads_the_same_whole_or_one_byte_at_a_time() -> None:
    whole = _all(GET + POST)
    assert whole == _all(GET + POST, step=1)
    assert [
        (r.method, r.target, r.host, r.body) for r in whole if isinstance(r, ParsedRequest)
    ] == [
        ("GET", "/items?x=1", "api.example", b""),
        ("POST", "/items", "api.example", b"hello"),
    ]
    assert whole[0] == ParsedRequest(
        "GET",
        "/items?x=1",
        "api.example",
        "HTTP/1.1",
        (("Host", "api.example"), ("Authorization", "Bearer t")),
        b"",
        True,
    )


def test_chunked_bodies_join_their_chunks_and_skip_extensions_and_trailers() -> None:
    data = (
        b"PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Checksum: 1\r\n\r\n"
    )
    for step in (0, 1, 7):
        (request,) = _all(data, step)
        assert isinstance(request, ParsedRequest)
        assert request.body == b"abcde"


def test_bare_lf_line_ends_and_empty_lines_before_a_request_are_accepted() -> None:
    (request,) = _all(b"\r\n\nGET / HTTP/1.1\nHost: H.Example:8080\n\n")
    assert isinstance(request, ParsedRequest)
    assert request.host == "h.example:8080"


@pytest.mark.parametrize(
    ("head", "keep_alive"),
    [
        (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", True),
        (b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, Close\r\n\r\n", False),
        (b"GET / HTTP/1.0\r\n\r\n", False),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", True),
    ],
)
def test_keep_alive_follows_the_version_and_the_connection_header(
    head: bytes, keep_alive: bool
) -> None:
    (request,) = _all(head)
    assert isinstance(request, ParsedRequest)
    assert request.keep_alive is keep_alive


def test_an_absolute_form_target_gives_its_host_and_path() -> None:
    (request,) = _all(b"GET HTTP://API.Example:8443?q=1 HTTP/1.1\r\nHost: other\r\n\r\n")
    assert isinstance(request, ParsedRequest)
    assert (request.host, request.target) == ("api.example:8443", "/?q=1")


def test_a_refusal_is_final_and_drops_what_was_buffered() -> None:
    parser = RequestParser()
    parser.feed(b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n" + GET)
    first = parser.next()
    assert first == Refusal(
        400, "bad_request", "Host '[::1' opens an IPv6 address with [ but never closes it"
    )
    parser.feed(GET)
    assert parser.next() is first


def test_a_client_waiting_for_continue_is_told_so_once() -> None:
    parser = RequestParser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    assert parser.next() is None
    assert parser.wants_continue
    parser.continue_sent = True
    assert not parser.wants_continue
    parser.feed(b"ok")
    request = parser.next()
    assert isinstance(request, ParsedRequest)
    assert request.body == b"ok"
    assert not parser.pending


def test_answer_heads_never_carry_a_line_break_from_a_recorded_header() -> None:
    lines = header_lines(
        [
            ("Content-Type", "application/json"),
            ("X-Injected", "a\r\nSet-Cookie: stolen=1"),
            ("Bad Name", "dropped"),
            ("X-Nul", "a\x00b"),
        ]
    )
    assert lines == (
        "Content-Type: application/json\r\nX-Injected: a  Set-Cookie: stolen=1\r\nX-Nul: a b\r\n"
    )
    assert status_line(431) == "HTTP/1.1 431 Request Header Fields Too Large\r\n"
    assert status_line(599) == "HTTP/1.1 599 Unknown\r\n"


def test_an_empty_host_is_accepted_and_names_no_host() -> None:
    # RFC 9112 3.2: a client with no authority to name sends Host with an empty value
    requests = _all(b"GET / HTTP/1.1\r\nHost:\r\n\r\nGET / HTTP/1.1\r\nHost: H\r\n\r\n")
    assert [r.host for r in requests if isinstance(r, ParsedRequest)] == ["", "h"]


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"GET /" + b"a" * 80 + b" HTTP/1.1\r\nHost: h\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: " + b"v" * 80 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X-A: 1\r\n" * 4 + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\n" + b"X-Long-Name: v\r\n" * 7 + b"\r\n", 431),
    ],
)
def test_a_whole_head_as_clients_write_it_is_held_to_every_bound(head: bytes, status: int) -> None:
    """A head complete in one read takes the one-match path; past a line, count or size
    bound it is refused exactly as when it arrives byte by byte."""
    limits = Limits(max_request_line=64, max_header_line=64, max_headers=4, max_head=4096)
    results = []
    for step in (len(head), 1):
        parser = RequestParser(limits)
        result = None
        for start in range(0, len(head), step):
            parser.feed(head[start : start + step])
            if (result := parser.next()) is not None:
                break
        results.append(result)
    assert isinstance(results[0], Refusal)
    assert results[0].status == status
    assert results[0] == results[1]


def test_a_whole_head_just_within_its_bounds_is_read_by_either_path() -> None:
    head = b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X-A: 1\r\n" * 3 + b"\r\n"
    limits = Limits(max_request_line=64, max_header_line=64, max_headers=4, max_head=len(head))
    whole = RequestParser(limits)
    whole.feed(head)
    request = whole.next()
    assert isinstance(request, ParsedRequest)
    assert request.headers == (("Host", "h"), ("X-A", "1"), ("X-A", "1"), ("X-A", "1"))
    bytewise = RequestParser(limits)
    for index in range(len(head)):
        bytewise.feed(head[index : index + 1])
    assert bytewise.next() == request
