"""HTTP/1.1 requests read from bytes, strictly and within bounds (RFC 9112), for the loopback
server; and the answer heads it writes.

The parser is sans-I/O: `feed` bytes, then `next()` gives a complete request, None while
more bytes are needed, or a `Refusal` (the status, and why) for a request that is
malformed, too large or not HTTP at all. Whatever it accepts, h11 accepts alike (a
property test compares them), but for the empty lines before a request line that
RFC 9112 2.2 asks a server to skip: one SP between the parts of the request line, a token
method, no whitespace before a colon, no folded lines, no control characters, a
decimal Content-Length, chunked as the only transfer coding and never beside a
Content-Length, one Host. Every buffer it keeps is bounded by `Limits`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import NamedTuple

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A request line's method is a token: a first byte that cannot start one is not HTTP (TLS, ...).
_TOKEN_BYTE = frozenset(
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])")
_TARGET = re.compile(rb"[\x21-\x7e]+")  # visible ASCII: no spaces, controls or raw non-ASCII
# Control characters other than HTAB, and a CR that does not end a line (RFC 9112 2.2).
_FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")
# The same but for CR, as bytes to delete: a head that loses none holds none (fast).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_COMMON_REQUEST_LINE = re.compile(
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (/[\x21-\x7e]*) HTTP/1\.([0-9])"
)
# A whole head as nearly every client writes it: `METHOD /path HTTP/1.x`, then field lines of
# a token name, a colon and a value of visible ASCII, SP, HTAB or obs-text, each ending in
# CRLF, then CRLF. A head this matches holds no control, bare CR or LF, folded line or
# whitespace before a colon, so one match settles every per-byte rule of the slow path.
_COMMON_HEAD = re.compile(
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (/[\x21-\x7e]*) HTTP/1\.([0-9])\r\n"
    rb"((?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*\r\n)*)\r\n"
)
# A field line: a token name, a colon, the value between optional whitespace (RFC 9112 5).
_FIELD_LINE = re.compile(rb"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):(.*)$", re.MULTILINE)
_FIELD_SPACE = b" \t\r"  # around a value; a CR here can only end the line (bare ones are refused)
_HEX = re.compile(rb"[0-9A-Fa-f]+")
_REG_NAME = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=%]*")
_PORT = re.compile(r"[0-9]{0,5}")
_WHITESPACE = b" \t"
_LINE_END = b"\r\n"
# The fields the parser itself reads (and Authorization, which must not come twice).
_FRAMING_FIELDS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "expect", "authorization"}
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one request may make the server hold."""

    max_request_line: int = 8192  # bytes, CRLF excluded (longer: 414, or 400 when not HTTP)
    max_header_line: int = 8192  # bytes of one field line (longer: 431)
    max_headers: int = 100  # field lines in the head, and in the trailer (more: 431)
    max_head: int = 65536  # bytes of the whole head (more: 431)
    max_body: int = 16 * 1024 * 1024  # bytes of a body after dechunking (more: 413)
    max_chunk_line: int = 4096  # bytes of a chunk-size line with its extensions (more: 400)


class ParsedRequest(NamedTuple):
    """A complete request. A NamedTuple rather than a frozen dataclass: one is built for every
    request, and a frozen dataclass sets each field through `object.__setattr__`."""

    method: str
    target: str  # origin-form: /path?query (`*` for OPTIONS *)
    host: str  # from the Host header or an absolute-form target, lowercase; "" when absent
    version: str  # "HTTP/1.0" or "HTTP/1.1"
    headers: tuple[tuple[str, str], ...]  # as sent, in order
    body: bytes
    keep_alive: bool


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request the server answers with an error and a closed connection."""

    status: int
    error: str  # a short code for the JSON body: bad_request, body_too_large, ...
    detail: str


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.refusal = Refusal(status, _ERROR_CODES.get(status, "bad_request"), detail)


_ERROR_CODES = {
    400: "bad_request",
    408: "request_timeout",
    413: "body_too_large",
    414: "request_line_too_long",
    417: "expectation_failed",
    431: "header_fields_too_large",
    501: "not_implemented",
    505: "http_version_not_supported",
}


@dataclass(slots=True)
class _Head:
    """A parsed head whose body is still to come."""

    method: str
    target: str
    host: str
    version: str
    headers: tuple[tuple[str, str], ...]
    keep_alive: bool
    length: int  # -1: chunked
    expects_continue: bool


class RequestParser:
    """Reads requests from a byte stream; one parser per connection."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits = limits or Limits()
        # A complete head this short is within every line and size bound (`_common_head`).
        self._common_bound = (
            min(limits.max_request_line, limits.max_header_line, limits.max_head - 1) + 4
        )
        self._buffer = bytearray()
        self._head: _Head | None = None
        self._scanned = 0  # bytes of an incomplete head already checked
        self._line_start = 0  # where the incomplete head's last line starts
        self._newlines = 0
        self._chunks: list[bytes] = []
        self._chunked_size = 0
        self._chunk_state = "size"  # size | data | trailer
        self._chunk_left = 0
        self._trailers = 0
        self._host_seen: tuple[str | None, str] = (None, "")  # the last Host read, its host
        self.continue_sent = False
        self.refusal: Refusal | None = None  # set once; the parser reads nothing more

    def feed(self, data: bytes | memoryview) -> None:
        if self.refusal is None:
            self._buffer += data

    @property
    def pending(self) -> bool:
        """Part of a request has arrived (a timeout now is a half-sent request)."""
        return bool(self._buffer) or self._head is not None

    @property
    def wants_continue(self) -> bool:
        """The client waits for `100 Continue` before sending the body it announced."""
        return self._head is not None and self._head.expects_continue and not self.continue_sent

    def next(self) -> ParsedRequest | Refusal | None:
        """The next complete request, a refusal, or None until more bytes arrive."""
        if self.refusal is not None:
            return self.refusal
        try:
            if self._head is None:
                if not self._buffer:
                    return None
                if self._scanned == 0:  # a head not yet looked at: most often a common one
                    self._head = self._common_head()
                if self._head is None:
                    self._head = self._read_head()
                    if self._head is None:
                        return None
            head = self._head
            body = self._read_chunked() if head.length < 0 else self._read_body(head.length)
        except _Refused as refused:
            self.refusal = refused.refusal
            self._buffer.clear()
            return self.refusal
        if body is None:
            return None
        self._head = None
        self.continue_sent = False
        return ParsedRequest(
            head.method, head.target, head.host, head.version, head.headers, body, head.keep_alive
        )

    # -- the head ------------------------------------------------------------------------------

    def _common_head(self) -> _Head | None:
        """The head at the start of the buffer when it is complete and written as nearly every
        client writes it (`_COMMON_HEAD`), read in one match; None to let `_read_head` decide.
        Only a head within every line and size bound is taken here, so what this accepts the
        slow path accepts alike, and what it leaves the slow path refuses or reads as before."""
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n", 0, self._common_bound)
        if end < 0:
            return None
        common = _COMMON_HEAD.fullmatch(buffer, 0, end + 4)
        if common is None:
            return None
        method, target, minor, block = common.groups()
        lines = block.decode("latin-1").split("\r\n")
        lines.pop()  # after the last CRLF
        if len(lines) > self.limits.max_headers:
            return None
        headers = tuple(
            [
                (name, value.strip(" \t"))
                for name, _, value in [line.partition(":") for line in lines]
            ]
        )
        head = self._head_from(
            method.decode("ascii"), target.decode("ascii"), None, minor == b"0", headers
        )
        del buffer[: end + 4]
        return head

    def _read_head(self) -> _Head | None:
        buffer = self._buffer
        if not buffer:
            return None
        while buffer[0] in _LINE_END and (buffer[:2] == b"\r\n" or buffer[:1] == b"\n"):
            del buffer[: 2 if buffer[:1] == b"\r" else 1]  # RFC 9112 2.2: empty lines first
            self._scanned = self._line_start = self._newlines = 0
            if not buffer:
                return None
        if buffer[0] not in _TOKEN_BYTE:
            raise _Refused(400, "this is not an HTTP/1.1 request (it does not start with a method)")
        # The head ends at an empty line: LF then LF or CRLF (RFC 9112 2.2 lets a bare LF end lines).
        start = max(self._scanned - 3, 0)
        crlf = buffer.find(b"\n\r\n", start)
        bare = buffer.find(b"\n\n", start, crlf + 1 if crlf >= 0 else len(buffer))
        if bare >= 0 and (crlf < 0 or bare < crlf):
            cut, skip = bare, 2
        elif crlf >= 0:
            cut, skip = crlf, 3
        else:
            self._check_incomplete_head()
            return None
        if cut > self.limits.max_head:
            raise _Refused(431, f"the request head is longer than {self.limits.max_head} bytes")
        head = bytes(buffer[:cut]).removesuffix(b"\r")
        del buffer[: cut + skip]
        self._scanned = self._line_start = self._newlines = 0
        return self._parse_head(head)

    def _check_incomplete_head(self) -> None:
        """Refuse as early as the bytes so far allow: a head that cannot become valid or
        would outgrow its bounds is not waited for (a TLS hello, a flood of headers)."""
        buffer, limits = self._buffer, self.limits
        newline = buffer.rfind(b"\n", self._scanned)
        if newline >= 0:
            self._newlines += buffer.count(b"\n", self._scanned)
            self._line_start = newline + 1
        self._scanned = len(buffer)
        bound = limits.max_request_line + 1
        first_end = buffer.find(b"\n", 0, bound)
        if first_end < 0 and len(buffer) >= bound:
            self._refuse_long_request_line(bytes(buffer[: limits.max_request_line]))
        line_end = first_end if first_end >= 0 else len(buffer)
        space = buffer.find(b" ", 0, line_end)
        method = buffer[: space if space >= 0 else line_end].removesuffix(b"\r")
        if not _TOKEN.fullmatch(method):
            raise _Refused(400, "this is not an HTTP/1.1 request line")
        if self._newlines and len(buffer) - self._line_start > limits.max_header_line:
            raise _Refused(431, f"a header line is longer than {limits.max_header_line} bytes")
        if self._newlines > limits.max_headers + 1:
            raise _Refused(431, f"the request has more than {limits.max_headers} header lines")
        if len(buffer) > limits.max_head:
            raise _Refused(431, f"the request head is longer than {limits.max_head} bytes")

    def _refuse_long_request_line(self, prefix: bytes) -> None:
        method, space, _ = prefix.partition(b" ")
        if space and _TOKEN.fullmatch(method):
            raise _Refused(
                414, f"the request line is longer than {self.limits.max_request_line} bytes"
            )
        raise _Refused(400, "this is not an HTTP/1.1 request line")

    def _parse_head(self, head: bytes) -> _Head:
        limits = self.limits
        if len(head.translate(None, _CONTROL_BYTES)) != len(head) or head.count(
            b"\r"
        ) != head.count(b"\r\n"):
            raise _Refused(400, "the request head holds a control character or a bare CR")
        first = head.find(b"\n")
        request_line = (head if first < 0 else head[:first]).removesuffix(b"\r")
        block = b"" if first < 0 else head[first + 1 :]
        if len(request_line) > limits.max_request_line:
            self._refuse_long_request_line(request_line)
        common = _COMMON_REQUEST_LINE.fullmatch(request_line)
        if common is not None:  # METHOD /path HTTP/1.x, as nearly every request reads
            method, target = common[1].decode("ascii"), common[2].decode("ascii")
            uri_host, http10 = None, common[3] == b"0"
        else:
            method, target, uri_host, http10 = self._uncommon_request_line(request_line)
        headers: tuple[tuple[str, str], ...] = ()
        if block:
            count = block.count(b"\n") + 1
            if count > limits.max_headers:
                raise _Refused(431, f"the request has more than {limits.max_headers} header lines")
            found = _FIELD_LINE.findall(block)
            if len(found) == count and len(block) <= limits.max_header_line:
                headers = tuple(
                    [(n.decode("ascii"), v.strip(_FIELD_SPACE).decode("latin-1")) for n, v in found]
                )
            else:  # line by line, to say which rule a line breaks
                headers = _fields(block.split(b"\n"), limits)
        return self._head_from(method, target, uri_host, http10, headers)

    def _uncommon_request_line(self, request_line: bytes) -> tuple[str, str, str | None, bool]:
        """Method, origin-form target, the host of an absolute-form target, HTTP/1.0?"""
        parts = request_line.split(b" ")
        if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]):
            raise _Refused(400, "this is not an HTTP/1.1 request line (METHOD TARGET HTTP/1.1)")
        method_bytes, target_bytes, version_bytes = parts
        version = _VERSION.fullmatch(version_bytes)
        if version is None:
            raise _Refused(400, "this is not an HTTP/1.1 request line (METHOD TARGET HTTP/1.1)")
        if version[1] != b"1":
            raise _Refused(505, f"{version_bytes.decode()} is not served; speak HTTP/1.1")
        method = method_bytes.decode("ascii")
        target, uri_host = _target(method, target_bytes)
        return method, target, uri_host, version[2] == b"0"

    def _head_from(
        self,
        method: str,
        target: str,
        uri_host: str | None,
        http10: bool,
        headers: tuple[tuple[str, str], ...],
    ) -> _Head:
        # Most heads name one Host, at most one Content-Length and Authorization, and no
        # other framing field: read those in one pass; anything else goes the general way.
        host_value = length_value = None
        authorization = False
        for name, value in headers:
            lowered = name.lower()
            if lowered not in _FRAMING_FIELDS:
                continue
            if lowered == "host" and host_value is None:
                host_value = value
            elif lowered == "content-length" and length_value is None:
                length_value = value
            elif lowered == "authorization" and not authorization:
                authorization = True
            else:
                return self._framed_head(method, target, uri_host, http10, headers)
        if host_value is None:
            if not http10:
                raise _Refused(400, "an HTTP/1.1 request needs a Host header (RFC 9112 3.2)")
            named = ""
        else:
            if host_value != self._host_seen[0]:  # a connection names one host: check it once
                self._host_seen = (host_value, _host(host_value))
            named = self._host_seen[1]
        length = 0 if length_value is None else self._length([length_value], None, http10)
        return _Head(
            method,
            target,
            uri_host if uri_host is not None else named,
            "HTTP/1.0" if http10 else "HTTP/1.1",
            headers,
            not http10,
            length,
            False,
        )

    def _framed_head(
        self,
        method: str,
        target: str,
        uri_host: str | None,
        http10: bool,
        headers: tuple[tuple[str, str], ...],
    ) -> _Head:
        """A head with Transfer-Encoding, Connection, Expect or a repeated framing field."""
        hosts: list[str] = []
        lengths: list[str] = []
        codings: list[str] | None = None
        connection: list[str] = []
        expect: list[str] = []
        authorizations = 0
        for name, value in headers:
            lowered = name.lower()
            if lowered not in _FRAMING_FIELDS:
                continue
            if lowered == "host":
                hosts.append(value)
            elif lowered == "content-length":
                lengths.append(value)
            elif lowered == "transfer-encoding":
                if not _list(value):
                    raise _Refused(400, "the request's Transfer-Encoding is empty; send chunked")
                codings = [*(codings or []), *_list(value)]
            elif lowered == "connection":
                connection.extend(_list(value))
            elif lowered == "expect":
                expect.append(value.lower())
            else:
                authorizations += 1
        if len(hosts) > 1:
            raise _Refused(400, "the request has several Host headers; send one")
        if authorizations > 1:
            raise _Refused(400, "the request has several Authorization headers; send one")
        if not hosts and not http10:
            raise _Refused(400, "an HTTP/1.1 request needs a Host header (RFC 9112 3.2)")
        named = ""
        if hosts:
            # A connection names one host, request after request: check it once.
            if hosts[0] != self._host_seen[0]:
                self._host_seen = (hosts[0], _host(hosts[0]))
            named = self._host_seen[1]  # still checked when the target's authority wins
        host = uri_host if uri_host is not None else named
        length = self._length(lengths, codings, http10)
        keep_alive = ("keep-alive" in connection) if http10 else ("close" not in connection)
        expects_continue = False
        if expect:
            if expect != ["100-continue"]:
                raise _Refused(417, "only `Expect: 100-continue` is understood")
            expects_continue = not http10 and length != 0
        return _Head(
            method,
            target,
            host,
            "HTTP/1.0" if http10 else "HTTP/1.1",
            headers,
            keep_alive,
            length,
            expects_continue,
        )

    def _length(self, lengths: list[str], codings: list[str] | None, http10: bool) -> int:
        if codings is not None:
            if http10:
                raise _Refused(400, "Transfer-Encoding is not allowed in an HTTP/1.0 request")
            if lengths:
                raise _Refused(400, "the request has both Transfer-Encoding and Content-Length")
            if codings != ["chunked"]:
                shown = ", ".join(codings)
                raise _Refused(
                    501,
                    f"transfer coding {shown!r} is not served; send chunked or a Content-Length",
                )
            return -1
        if not lengths:
            return 0
        if any(text != lengths[0] for text in lengths):
            raise _Refused(400, "the request has several different Content-Length headers")
        text = lengths[0]
        if not (text.isascii() and text.isdigit()):  # ASCII digits only: int() takes any script
            raise _Refused(
                400, f"Content-Length {lengths[0][:40]!r} is not a decimal number of bytes"
            )
        if len(text) > 18 or int(text) > self.limits.max_body:
            raise _Refused(413, f"the body is larger than {self.limits.max_body} bytes")
        return int(text)

    # -- the body ------------------------------------------------------------------------------

    def _read_body(self, length: int) -> bytes | None:
        if length == 0:
            return b""
        buffer = self._buffer
        if len(buffer) < length:
            return None
        body = bytes(buffer[:length])
        del buffer[:length]
        return body

    def _read_chunked(self) -> bytes | None:
        """Chunked framing, strictly with CRLF (a bare LF here is how requests get smuggled)."""
        buffer, limits = self._buffer, self.limits
        while True:
            if self._chunk_state == "data":
                size = self._chunk_left
                if len(buffer) < size + 2:
                    return None
                if buffer[size : size + 2] != b"\r\n":
                    raise _Refused(
                        400, "chunk data is not followed by CRLF (the chunk size is wrong)"
                    )
                self._chunks.append(bytes(buffer[:size]))
                del buffer[: size + 2]
                self._chunk_state = "size"
                continue
            bound = limits.max_chunk_line if self._chunk_state == "size" else limits.max_header_line
            end = buffer.find(b"\r\n", 0, bound + 2)
            if end < 0:
                if len(buffer) > bound:
                    what = "chunk-size" if self._chunk_state == "size" else "trailer"
                    status = 400 if self._chunk_state == "size" else 431
                    raise _Refused(status, f"a {what} line is longer than {bound} bytes")
                return None
            line = bytes(buffer[:end])
            del buffer[: end + 2]
            if self._chunk_state == "size":
                size = self._chunk_size(line)
                if size == 0:
                    self._chunk_state = "trailer"
                else:
                    self._chunk_state, self._chunk_left = "data", size
            elif line:
                self._trailers += 1
                if self._trailers > limits.max_headers:
                    raise _Refused(431, f"the trailer has more than {limits.max_headers} lines")
                if _FORBIDDEN.search(line) or b"\n" in line:
                    raise _Refused(400, "a trailer line holds a control character")
                _fields([line], limits)
            else:
                body = b"".join(self._chunks)
                self._chunks, self._chunked_size, self._trailers = [], 0, 0
                self._chunk_state = "size"
                return body

    def _chunk_size(self, line: bytes) -> int:
        size_text, semicolon, extension = line.partition(b";")
        if not semicolon:
            size_text = size_text.rstrip(_WHITESPACE)
        if not _HEX.fullmatch(size_text):
            shown = line[:40].decode("latin-1")
            raise _Refused(400, f"chunk size {shown!r} is not a hexadecimal number")
        if _FORBIDDEN.search(extension) or b"\n" in extension:
            raise _Refused(400, "a chunk extension holds a control character")
        if len(size_text) > 16:
            raise _Refused(413, f"the body is larger than {self.limits.max_body} bytes")
        size = int(size_text, 16)
        self._chunked_size += size
        if self._chunked_size > self.limits.max_body:
            raise _Refused(413, f"the body is larger than {self.limits.max_body} bytes")
        return size


def _fields(lines: list[bytes], limits: Limits) -> tuple[tuple[str, str], ...]:
    fields = []
    for raw in lines:
        line = raw.removesuffix(b"\r")
        if len(line) > limits.max_header_line:
            raise _Refused(431, f"a header line is longer than {limits.max_header_line} bytes")
        if line[:1] in (b" ", b"\t"):
            raise _Refused(
                400, "a header line is folded (starts with whitespace); send it on one line"
            )
        name, colon, value = line.partition(b":")
        if not colon:
            raise _Refused(400, "a header line has no colon (NAME: VALUE)")
        if not _TOKEN.fullmatch(name):
            raise _Refused(400, "a header name is empty, or holds whitespace or a separator")
        fields.append((name.decode("ascii"), value.strip(_WHITESPACE).decode("latin-1")))
    return tuple(fields)


def _list(value: str) -> list[str]:
    return [item.strip(" \t").lower() for item in value.split(",") if item.strip(" \t")]


def _target(method: str, target: bytes) -> tuple[str, str | None]:
    """The origin-form target, and the host an absolute-form target names (None: none)."""
    if not _TARGET.fullmatch(target):
        raise _Refused(400, "the request target holds a space, a control or a non-ASCII byte")
    text = target.decode("ascii")
    if text.startswith("/"):
        return text, None
    if text == "*":
        if method != "OPTIONS":
            raise _Refused(400, "the target * is only for OPTIONS")
        return text, None
    if method == "CONNECT":
        raise _Refused(501, "CONNECT is not served: the sandbox speaks plain HTTP, not tunnels")
    scheme, separator, rest = text.partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        raise _Refused(400, "the request target is neither a path (/...) nor an http(s) URL")
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, path = rest[:cut], rest[cut:]
    if "@" in authority:
        raise _Refused(
            400, "the request target carries user information; send credentials in headers"
        )
    if "#" in rest:
        raise _Refused(400, "the request target holds a fragment (#)")
    if not path.startswith("/"):
        path = "/" + path
    return path, _host(authority)


def _host(value: str) -> str:
    """A Host header's `host[:port]`, checked (RFC 3986 3.2.2) and lowercased; empty when the
    client names no authority (RFC 9112 3.2 has it send an empty Host then)."""
    if not value:
        return ""
    if value.startswith("["):
        close = value.find("]")
        if close < 0:
            raise _Refused(
                400, f"Host {value[:60]!r} opens an IPv6 address with [ but never closes it"
            )
        literal, rest = value[1:close], value[close + 1 :]
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            raise _Refused(
                400, f"Host {value[:60]!r} holds no valid IPv6 address in brackets"
            ) from None
        if rest and not (rest.startswith(":") and _valid_port(rest[1:])):
            raise _Refused(
                400, f"Host {value[:60]!r} has something after the address that is no :port"
            )
        return value.lower()
    name, colon, port = value.partition(":")
    if not name or not _REG_NAME.fullmatch(name) or (colon and not _valid_port(port)):
        raise _Refused(400, f"Host {value[:60]!r} is not a host name with an optional :port")
    return value.lower()


def _valid_port(text: str) -> bool:
    return bool(_PORT.fullmatch(text)) and (not text or int(text) <= 65535)


# -- answers ---------------------------------------------------------------------------------

_REASONS = {status.value: status.phrase for status in HTTPStatus}
_UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f]")


class DateHeader:
    """The `Date` header value, formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def at(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second, self._text = second, formatdate(second, usegmt=True)
        return self._text


def status_line(status: int) -> str:
    return f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"


def header_lines(headers: list[tuple[str, str]]) -> str:
    """Field lines for an answer; a name or value that would break the head is made safe."""
    out = []
    for name, value in headers:
        if not _TOKEN.fullmatch(name.encode("latin-1", "replace")):
            continue
        if _UNSAFE_IN_HEADER.search(value):
            value = _UNSAFE_IN_HEADER.sub(" ", value)
        out.append(f"{name}: {value}\r\n")
    return "".join(out)


__all__ = [
    "DateHeader",
    "Limits",
    "ParsedRequest",
    "Refusal",
    "RequestParser",
    "header_lines",
    "status_line",
]
