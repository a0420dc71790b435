"""What a call is: the request a flow or a client sends, the response it gets, and where
it comes from. The values every transport passes to the sandbox and back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

# The HTTP methods the sandbox serves (the schemas' `method` enums list the same).
METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None  # a body that is not JSON


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    json: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    blocked: bool = False  # the sandbox refused to let the call leave (egress)
    content: bytes | None = None  # a body that is not JSON

    def body_bytes(self) -> bytes:
        """The body as sent on the wire: raw content, else the JSON text, else nothing."""
        if self.content is not None:
            return self.content
        if self.json is None:
            return b""
        return json.dumps(self.json).encode()

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


@dataclass(frozen=True, slots=True)
class CallContext:
    """Where a call comes from when a recorded flow is replayed."""

    flow: str = ""
    step: int = -1
    step_name: str = ""
    recorded: Response | None = None


def header(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    """The value of header `name` (any letter case), None when absent."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    lowered = name.lower()
    return next((value for key, value in pairs if key.lower() == lowered), None)


def to_request(method: str, url: str, headers: dict[str, str], body: bytes | None) -> Request:
    """A client's call as a harness Request: a JSON body is parsed, anything else kept raw."""
    if not body:
        return Request(method, url, headers)
    content_type = header(headers, "Content-Type") or ""
    if "json" in content_type or body[:1] in (b"{", b"["):
        try:
            return Request(method, url, headers, json.loads(body))
        except ValueError:
            pass
    return Request(method, url, headers, content=body)


def response_headers(response: Response) -> dict[str, str]:
    """The headers to send with `response`: a JSON body says so."""
    headers = dict(response.headers)
    if response.content is None and response.json is not None:
        headers.setdefault("Content-Type", "application/json")
    return headers


def body_fields(request: Request) -> Any:
    """The request's JSON body, or its fields when the body is a form (as Slack's clients
    send `channel=C123&text=...`)."""
    if request.json is not None or request.content is None:
        return request.json
    content_type = header(request.headers, "Content-Type") or ""
    if "application/x-www-form-urlencoded" not in content_type.lower():
        return None
    try:
        return dict(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return None


class QueryParameters(Mapping[str, str]):
    """A query string's parameters, parsed on first read: most calls never read them."""

    __slots__ = ("_fields", "_query")

    def __init__(self, query: str) -> None:
        self._query = query
        self._fields: dict[str, str] | None = None if query else {}

    def _parsed(self) -> dict[str, str]:
        if self._fields is None:
            self._fields = dict(parse_qsl(self._query))
        return self._fields

    def __getitem__(self, name: str) -> str:
        return self._parsed()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed())

    def __len__(self) -> int:
        return len(self._parsed())
