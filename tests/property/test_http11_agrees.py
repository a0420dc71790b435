"""The loopback server's request parser is never more lenient than h11, and reads alike
however the bytes are split.

Requests are drawn from parts that clients send and attackers try (odd methods, targets
and versions, duplicate and conflicting framing headers, controls, obs-text, chunk
extensions, trailers, bare LF line ends), then mutated byte-wise. Whatever the parser
accepts, h11 must accept as the same request (method, target, fields, body); fed in
random pieces, the parser must reach the same result as fed at once; it never raises.
The one deliberate leniency, empty lines before a request line (RFC 9112 2.2 asks a
server to skip them; h11 refuses), is left out of the drawn inputs.
"""

from __future__ import annotations

from collections.abc import Iterable

import h11
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.transports.http11 import Limits, ParsedRequest, Refusal, RequestParser

LIMITS = Limits(max_body=4096, max_head=8192, max_header_line=2048, max_request_line=2048)


def _mostly(good: list[str], bad: list[str]) -> st.SearchStrategy[str]:
    """Usually a value clients send, sometimes one they should not."""
    return st.sampled_from(good * 8 + bad)


METHODS = _mostly(
    ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "X-Y"], ["G T", "GE\x00T", "", "G(T"]
)
TARGETS = _mostly(
    ["/", "/items?x=1", "/a%20b", "http://api.example/x", "HTTPS://API.example:8443?q", "//x"],
    ["*", "/\xe9", "/a b", "/a#b", "?", "http://u@h/", "api.example:443", "/\x7f"],
)
VERSIONS = _mostly(
    ["HTTP/1.1", "HTTP/1.0", "HTTP/1.2"], ["HTTP/2.0", "http/1.1", "HTTP/1", "", "HTTP/1.1 "]
)
NAMES = _mostly(
    [
        "Host",
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "Authorization",
        "X-A",
        "x-a",
        "Expect",
    ],
    ["Bad Name", "Name ", "", "N\x7f", " X-Folded"],
)
VALUES = _mostly(
    [
        "api.example",
        "[::1]",
        "[::1]:80",
        "h:8080",
        "3",
        "0",
        "chunked",
        "close",
        "keep-alive",
        "100-continue",
        "a\tb",
        " padded ",
        "\xe9t\xe9",
        "",
    ],
    [
        "[::1",
        "h:99999",
        "h:",
        "-1",
        "03",
        "3, 3",
        "\xb2",
        "gzip, chunked",
        "chunked, gzip",
        "a\rb",
        "a\x00b",
        "[zz]",
    ],
)


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    end = draw(st.sampled_from(["\r\n", "\n"]))
    lines = [f"{draw(METHODS)} {draw(TARGETS)} {draw(VERSIONS)}"]
    fields = draw(st.lists(st.tuples(NAMES, VALUES), max_size=4))
    if draw(st.booleans()):
        fields.insert(0, ("Host", "api.example"))
    lines += [f"{name}: {value}" for name, value in fields]
    head = (end.join(lines) + end + end).encode("latin-1")
    framing = draw(st.sampled_from(["none", "length", "chunked"]))
    body = draw(st.binary(max_size=20))
    if framing == "length":
        head = head[: -len(end)] + f"Content-Length: {len(body)}{end}{end}".encode()
        data = head + body
    elif framing == "chunked":
        head = head[: -len(end)] + f"Transfer-Encoding: chunked{end}{end}".encode()
        extension = draw(st.sampled_from(["", ";a=b", " ;a", ";a ", "  "]))
        trailer = draw(st.sampled_from(["", "X-T: 1\r\n", "bad\r\n"]))
        chunks = f"{len(body):x}{extension}\r\n".encode() + body + b"\r\n" if body else b""
        data = head + chunks + f"0\r\n{trailer}\r\n".encode()
    else:
        data = head
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 1, 2]))):  # byte-wise mutations
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = bytes([draw(st.sampled_from([0, 9, 10, 13, 32, 58, 59, 127, 200, ord("a")]))])
        if action == "insert":
            data = data[:position] + byte + data[position:]
        elif action == "delete":
            data = data[:position] + data[position + 1 :]
        else:
            data = data[:position] + byte + data[position + 1 :]
    return data.lstrip(b"\r\n")


def _ours(data: bytes, cuts: list[int]) -> ParsedRequest | Refusal | None:
    parser = RequestParser(LIMITS)
    result: ParsedRequest | Refusal | None = None
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        parser.feed(data[start:cut])
        start = cut
        result = parser.next()
        if result is not None:
            return result
    return result


def _h11(data: bytes) -> tuple[h11.Request, bytes] | None:
    connection = h11.Connection(h11.SERVER, max_incomplete_event_size=LIMITS.max_head)
    connection.receive_data(data)
    request, body = None, b""
    try:
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return None
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                assert request is not None
                return request, body
    except h11.RemoteProtocolError:
        return None


def _fields(items: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """Field lines compared: h11 lowercases names and keeps one of equal Content-Lengths."""
    fields: list[tuple[str, str]] = []
    for name, value in items:
        field = (name.decode().lower(), value.decode("latin-1"))
        if field[0] != "content-length" or field not in fields:
            fields.append(field)
    return fields


@settings(max_examples=3000, deadline=None)
@given(requests(), st.lists(st.integers(0, 400), max_size=4))
@example(
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1 ;a\r\nx\r\n0\r\n\r\n", []
)
@example(b"GET / HTTP/1.1\r\nHost: x\nX-A: 1\r\n\n", [30])
def test_what_the_parser_accepts_h11_accepts_alike(data: bytes, cuts: list[int]) -> None:
    whole = _ours(data, [])
    pieces = _ours(data, [cut for cut in cuts if cut < len(data)])
    assert type(pieces) is type(whole)
    if isinstance(whole, ParsedRequest):
        assert pieces == whole
        theirs = _h11(data)
        assert theirs is not None, f"h11 refuses what the parser accepted: {whole}"
        request, body = theirs
        assert request.method.decode() == whole.method
        if request.target.startswith(b"/") or request.target == b"*":
            assert request.target.decode() == whole.target
        else:  # absolute form: the authority is the host, the rest the target
            rest = request.target.decode().partition("://")[2]
            cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
            assert whole.host == rest[:cut].lower()
            assert whole.target == (rest[cut:] if rest[cut:].startswith("/") else "/" + rest[cut:])
        ours = [(name.encode(), value.encode("latin-1")) for name, value in whole.headers]
        assert _fields(request.headers.raw_items()) == _fields(ours)
        assert body == whole.body
