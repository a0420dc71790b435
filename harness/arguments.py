"""Reading a call's arguments: where a vendor looks for them, and list values.

A conditional requirement (harness.conditions) depends on argument values: a
query parameter (`format=full`), a field of a JSON, form or multipart body, a
path parameter, a header, or for RPC-style APIs such as Slack's "wherever the
argument is" (the query string or the body, form-encoded or JSON). A list-valued
argument may be sent comma-separated (`types=public_channel,im`), repeated
(`types=a&types=b`) or as a JSON list. Every read is bounded.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, get_args
from urllib.parse import parse_qsl

# Where an argument is read; `any`: the query string or the body (RPC-style APIs: Slack)
ArgumentSource = Literal["query", "body", "path", "header", "any"]
SOURCES: tuple[ArgumentSource, ...] = get_args(ArgumentSource)
MAX_LIST_VALUES = 64  # more distinct values than this in one argument: the call is refused
MAX_BODY_BYTES = (
    1024 * 1024
)  # a form or multipart body larger than this is not parsed for arguments
MAX_VALUE_LENGTH = 1024


class ArgumentProblem(ValueError):
    """An argument value the vendor would refuse (too many list values, not text)."""


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument an operation's requirement depends on."""

    name: str
    source: ArgumentSource
    default: tuple[str, ...] | None = None  # None: absent stays absent
    is_list: bool = False
    values: tuple[str, ...] = ()  # the values the vendor accepts (empty: any)
    resource: str = ""  # the kind of resource the value names (`file`), for class tests
    template: str = ""  # a path argument made of several parameters: `{owner}/{repo}`

    def describe(self) -> str:
        where = {"any": "the query or the body"}.get(self.source, self.source)
        return f"`{self.name}` ({where})"


class CallArguments:
    """The arguments of one call, parsed on first use (only conditional operations ask)."""

    __slots__ = ("_body", "_body_read", "_headers", "_path", "_query", "_query_text", "content")

    def __init__(
        self,
        query: str,
        path_params: Mapping[str, str],
        headers: Mapping[str, str],
        json_body: Any,
        content: bytes | None,
    ) -> None:
        self._query_text = query
        self._query: Mapping[str, tuple[str, ...]] | None = None
        self._path = path_params
        self._headers = headers
        self._body: Any = json_body
        self._body_read = json_body is not None
        self.content = content

    def _query_values(self) -> Mapping[str, tuple[str, ...]]:
        if self._query is None:
            self._query = query_parameters(self._query_text)
        return self._query

    def _body_fields(self) -> Any:
        if not self._body_read:
            self._body_read = True
            self._body = _parse_body(self._headers, self.content)
        return self._body

    def raw(self, argument: Argument) -> Sequence[Any] | None:
        """The values sent for `argument` (a list, one item per occurrence), or None if absent."""
        source, name = argument.source, argument.name
        if source == "path":
            if argument.template:
                filled = _fill(argument.template, self._path)
                return None if filled is None else [filled]
            value = self._path.get(name)
            return None if value is None else [value]
        if source == "header":
            lowered = name.lower()
            found = [v for k, v in self._headers.items() if k.lower() == lowered]
            return found or None
        if source in ("query", "any"):
            query = self._query_values().get(name)
            if query is not None or source == "query":
                return query
        body = self._body_fields()
        if isinstance(body, dict) and name in body:
            value = body[name]
            return value if isinstance(value, list) else [value]
        return None

    def values(self, argument: Argument) -> tuple[str, ...] | None:
        """The argument's values as text (a list argument split on commas), or None if absent.

        An empty value (`types=`) counts as absent, as the vendors treat it.
        """
        raw = self.raw(argument)
        if raw is None:
            return None
        texts: list[str] = []
        for item in raw:
            if isinstance(item, (dict, list)):
                raise ArgumentProblem(f"`{argument.name}` is not text")
            text = _text(item)
            if argument.is_list:
                texts.extend(part.strip() for part in text.split(",") if part.strip())
            elif text != "":
                texts.append(text)
        distinct = tuple(dict.fromkeys(texts))
        if len(distinct) > MAX_LIST_VALUES:
            raise ArgumentProblem(
                f"`{argument.name}` lists {len(distinct)} values, more than {MAX_LIST_VALUES}"
            )
        if any(len(text) > MAX_VALUE_LENGTH for text in distinct):
            raise ArgumentProblem(f"a value of `{argument.name}` is over {MAX_VALUE_LENGTH} chars")
        if not distinct:
            return None
        return distinct if argument.is_list else distinct[:1]


MEMO_QUERY_LENGTH = 2048  # longer query strings are parsed every time


def query_parameters(text: str) -> Mapping[str, tuple[str, ...]]:
    """Each parameter of a query string and its values in the order sent (read-only)."""
    return _parsed_query(text) if len(text) <= MEMO_QUERY_LENGTH else _parse(text)


@functools.lru_cache(maxsize=4096)
def _parsed_query(text: str) -> Mapping[str, tuple[str, ...]]:
    """Memoised (read-only): a replay sends the same query strings again and again."""
    return MappingProxyType(_parse(text))


def _parse(text: str) -> dict[str, tuple[str, ...]]:
    """Each parameter's values in the order sent (a list argument may repeat one)."""
    parsed: dict[str, list[str]] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        parsed.setdefault(key, []).append(value)
    return {key: tuple(values) for key, values in parsed.items()}


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _fill(template: str, params: Mapping[str, str]) -> str | None:
    """`{owner}/{repo}` with the call's path parameters (None when one is missing)."""
    pieces = _pieces(template)
    parts = [pieces[0]]
    for index in range(1, len(pieces), 2):
        found = params.get(pieces[index])
        if found is None:
            return None
        parts.append(found)
        parts.append(pieces[index + 1])
    return "".join(parts)


@functools.lru_cache(maxsize=1024)
def _pieces(template: str) -> list[str]:
    """The template split once: text, name, text, ..., text (read-only)."""
    return _PLACEHOLDER.split(template)


def template_names(template: str) -> tuple[str, ...]:
    return tuple(_PLACEHOLDER.findall(template))


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _content_type(headers: Mapping[str, str]) -> str:
    return next((v for k, v in headers.items() if k.lower() == "content-type"), "").lower()


def _parse_body(headers: Mapping[str, str], content: bytes | None) -> Any:
    """Fields of a form-encoded body, or of the JSON metadata part of a multipart/related one."""
    if content is None or len(content) > MAX_BODY_BYTES:
        return None
    kind = _content_type(headers)
    if "application/x-www-form-urlencoded" in kind:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            return None
        fields: dict[str, Any] = {}
        for key, value in parse_qsl(text, keep_blank_values=True):
            existing = fields.get(key)
            if existing is None:
                fields[key] = value
            else:
                fields[key] = (
                    [*existing, value] if isinstance(existing, list) else [existing, value]
                )
        return fields
    if "application/json" in kind:
        try:
            return json.loads(content)
        except ValueError:
            return None
    if "multipart/related" in kind:
        return _multipart_metadata(kind, content)
    return None


def _multipart_metadata(kind: str, content: bytes) -> Any:
    """The first part of a multipart/related body when it is JSON (Google's multipart upload:
    metadata first, then the media)."""
    boundary = ""
    for parameter in kind.split(";")[1:]:
        key, _, value = parameter.strip().partition("=")
        if key == "boundary":
            boundary = value.strip().strip('"')
    if not boundary:
        return None
    parts = content.split(b"--" + boundary.encode("latin-1"))
    if len(parts) < 2:
        return None
    head, _, body = parts[1].partition(b"\r\n\r\n")
    if not body:
        head, _, body = parts[1].partition(b"\n\n")
    if b"json" not in head.lower():
        return None
    try:
        return json.loads(body.strip())
    except ValueError:
        return None
