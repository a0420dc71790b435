"""Recorded traffic (HAR entries, VCR interactions) to a flow: match, scrub, report.

Each recorded call is routed to an operation of the workspace's services.
Calls to hosts no service covers are reported (and left out unless asked);
calls to a covered host that match no operation are skipped with the reason.
Secrets become `<secret-N>` handles through the same helpers as live
recording, and bodies that are not JSON go to sidecar files.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from harness.calls import METHODS, Response, header, to_request
from harness.errors import Location
from harness.importers.spec import Skipped
from harness.model import Service
from harness.recording import recorded_step
from harness.routing import Router, split_url
from harness.secrets import SecretScrubber
from harness.yaml_text import comment

# Transport headers that say nothing about the call (and would differ between recordings).
_NOISE = frozenset(
    {
        "date",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "alt-svc",
        "server",
        "via",
        "vary",
        "expires",
        "age",
        "cache-control",
        "pragma",
        "x-request-id",
        "report-to",
        "nel",
        "strict-transport-security",
    }
)


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    """A response as a recording holds it."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes | None  # None: not recorded


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One call as a recording holds it (bodies as bytes, None when not recorded)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    status: int | None  # None: no response recorded
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes | None
    location: Location
    notes: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        method: object,
        url: object,
        headers: tuple[tuple[str, str], ...],
        body: bytes | None,
        response: RecordedResponse | None,
        location: Location,
        notes: list[str],
    ) -> RecordedCall:
        """A call from a recording's fields (method and URL as the recording wrote them)."""
        return cls(
            method=str(method).upper(),
            url=str(url),
            headers=headers,
            body=body,
            status=response.status if response else None,
            response_headers=response.headers if response else (),
            response_body=response.body if response else None,
            location=location,
            notes=tuple(notes),
        )


@dataclass(slots=True)
class FlowImport:
    """The imported flow, its sidecar bodies, and what the import left out or noticed."""

    flow: dict[str, Any]
    sidecars: dict[str, bytes]
    hosts: dict[str, tuple[str, ...]]  # covered host -> services called on it
    unknown_hosts: dict[str, int]  # host no service covers -> number of calls
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    secrets: int = 0


# A recorded body is decompressed to at most this many bytes, and to at most this many
# times its compressed size (past a small floor): a few kilobytes of gzip can claim a gibibyte.
MAX_DECODED_BYTES = 16 * 1024 * 1024
MAX_DECODE_RATIO = 100
_SMALL = 64 * 1024
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


# libyaml's emitter writes the same text twice as fast (a 10,000-step import).
_DUMPER: type[yaml.SafeDumper] | type[yaml.CSafeDumper] = getattr(
    yaml, "CSafeDumper", yaml.SafeDumper
)


class BodyTooLarge(ValueError):
    """A compressed body expands past the byte or ratio bound (a decompression bomb)."""


def decode_body(body: bytes, headers: Sequence[tuple[str, str]]) -> bytes:
    """`body` without its gzip/deflate content coding (a recording may keep it compressed).

    Decompression stops at MAX_DECODED_BYTES and at MAX_DECODE_RATIO times the compressed
    size (BodyTooLarge); a body that does not decode is kept as it is. Other codings (br,
    zstd) are kept compressed: they are never expanded."""
    coding = (header(headers, "Content-Encoding") or "").lower().strip()
    wbits = _WBITS.get(coding)
    if wbits is None:
        return body
    limit = min(MAX_DECODED_BYTES, max(_SMALL, MAX_DECODE_RATIO * len(body)))
    try:
        decoded = _inflate(body, wbits, limit)
        if decoded is None and coding == "deflate":  # raw deflate, as some servers send it
            decoded = _inflate(body, -zlib.MAX_WBITS, limit)
    except BodyTooLarge as err:
        raise BodyTooLarge(
            f"the {coding} body of {len(body):,} bytes expands past {limit:,} bytes "
            f"(at most {MAX_DECODE_RATIO} times its size, and {MAX_DECODED_BYTES:,} bytes)"
        ) from err
    return body if decoded is None else decoded


def _inflate(body: bytes, wbits: int, limit: int) -> bytes | None:
    """Every member of a zlib/gzip stream, at most `limit` bytes; None when it is not one."""
    out: list[bytes] = []
    size, data = 0, body
    try:
        while data:
            engine = zlib.decompressobj(wbits)
            chunk = engine.decompress(data, limit - size + 1)
            size += len(chunk)
            out.append(chunk)
            if size > limit or engine.unconsumed_tail:
                raise BodyTooLarge
            if not engine.eof:
                return None  # cut short
            data = engine.unused_data
            if wbits < 16 or not data.strip(b"\0"):
                break
    except zlib.error:
        return None
    return b"".join(out)


def _shown(url: str) -> str:
    """A URL fit for a message: no query, no user information (either may hold a secret)."""
    address = url.split("?", 1)[0].split("#", 1)[0]
    scheme, separator, rest = address.partition("://")
    if separator:
        authority, slash, path = rest.partition("/")
        address = f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"
    return address


def _response(call: RecordedCall) -> Response | None:
    if call.status is None:
        return None
    headers = tuple((k, v) for k, v in call.response_headers if k.lower() not in _NOISE)
    body = call.response_body
    if not body:
        return Response(call.status, headers=headers)
    content_type = header(call.response_headers, "Content-Type") or ""
    if "json" in content_type or body[:1] in (b"{", b"["):
        try:
            return Response(call.status, json.loads(body), headers)
        except ValueError:
            pass
    return Response(call.status, headers=headers, content=body)


def import_calls(
    calls: Sequence[RecordedCall],
    services: Sequence[Service],
    *,
    name: str,
    connector: str,
    description: str,
    sidecar_dir: str,
    keep_unknown_hosts: bool = False,
) -> FlowImport:
    """The flow of `calls` routed against `services`, with every secret scrubbed."""
    router = Router(tuple(services))
    scrubber = SecretScrubber()
    result = FlowImport({}, {}, {}, {})
    steps: list[dict[str, Any]] = []
    for call in calls:
        method = call.method.upper()
        what = f"{method} {_shown(call.url)}"
        if method not in METHODS:
            result.skipped.append(Skipped(call.location, what, f"{method} is not served"))
            continue
        try:
            host, path, _ = split_url(call.url)
        except ValueError as err:
            result.skipped.append(Skipped(call.location, what, f"the URL is not valid: {err}"))
            continue
        if urlsplit(call.url).scheme not in ("http", "https") or not host:
            result.skipped.append(Skipped(call.location, what, "not an http(s) URL"))
            continue
        route = router.route(method, host, path)
        if route is None:
            if not router.knows_host(host):
                result.unknown_hosts[host] = result.unknown_hosts.get(host, 0) + 1
                if not keep_unknown_hosts:
                    continue
            else:
                served = ", ".join(s.name for s in router.services_at(host))
                result.skipped.append(
                    Skipped(
                        call.location, what, f"no operation of {served} matches {method} {path}"
                    )
                )
                continue
        else:
            services_here = result.hosts.setdefault(host, ())
            if route.service.name not in services_here:
                result.hosts[host] = (*services_here, route.service.name)
        for note in call.notes:
            result.notes.append(f"{call.location}: {what}: {note}")
        request = to_request(method, call.url, dict(call.headers), call.body)
        step = recorded_step(
            len(steps) + 1,
            request,
            _response(call),
            scrubber=scrubber,
            sidecar_dir=sidecar_dir,
            sidecars=result.sidecars,
        )
        steps.append(step)
    result.flow = {"name": name, "connector": connector}
    if description:
        result.flow["description"] = description
    result.flow["steps"] = steps
    result.secrets = scrubber.count
    return result


def render_flow(
    imported: FlowImport, *, source: str, connector: dict[str, Any] | None = None
) -> str:
    """The policy document (`flows:`, and `connectors:` when given) with a header comment."""
    lines = [
        comment(f"Imported by connector-harness import-flow from {source}."),
        comment(
            f"{len(imported.flow['steps'])} step(s); {imported.secrets} secret value(s) "
            "replaced by <secret-N> handles; the sandbox mints its own token on replay."
        ),
    ]
    for host, count in sorted(imported.unknown_hosts.items()):
        lines.append(comment(f"host no service covers: {host} ({count} call(s))"))
    for item in imported.skipped:
        lines.append(comment(item.render()))
    for note in imported.notes:
        lines.append(comment(f"note: {note}"))
    data: dict[str, Any] = {}
    if connector is not None:
        data["connectors"] = [connector]
    data["flows"] = [imported.flow]
    body = yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(lines) + "\n" + body
