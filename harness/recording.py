"""Turning live calls into a flow file: secrets become handles, binary bodies sidecar files."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml

from harness.calls import METHODS, Request, Response
from harness.decisions import Exchange
from harness.errors import Location
from harness.paths import contained
from harness.secrets import SecretScrubber
from harness.yaml_text import comment

# Headers every client sends by itself, and the sandbox token (replay mints its own).
_CLIENT_HEADERS = frozenset(
    {
        "user-agent",
        "accept",
        "accept-encoding",
        "connection",
        "content-length",
        "host",
        "authorization",
        "content-type",
    }
)


_FORM = re.compile(r"[\w.~%+*\-\[\]]+=[^&\s]*(&[\w.~%+*\-\[\]]+=[^&\s]*)*")


def scrub_url(url: str, scrubber: SecretScrubber) -> str:
    """`url` without its secrets: query parameters by name and shape, the path by shape,
    and no user information (`https://user:SECRET@host`): a replay never needs it."""
    parts = urlsplit(url)
    query = [
        (key, scrubber.field(key, value))
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        scrubber.handle(userinfo)  # counted among the secrets replaced
    return urlunsplit(
        (parts.scheme, netloc, scrubber.text(parts.path), urlencode(query, safe="<>-"), "")
    )


def _headers(
    headers: dict[str, str] | tuple[tuple[str, str], ...],
    scrubber: SecretScrubber,
    skip: frozenset[str],
) -> dict[str, str]:
    pairs = headers.items() if isinstance(headers, dict) else headers
    return {key: scrubber.value(key, value) for key, value in pairs if key.lower() not in skip}


def scrub_content(content: bytes, scrubber: SecretScrubber) -> bytes:
    """A raw body with its secrets replaced: form fields by key, other text by shape.

    Binary bodies are scanned as latin-1 (one character per byte), so a token
    embedded in them is replaced as well and every other byte is kept.
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return scrubber.text(content.decode("latin-1")).encode("latin-1")
    if _FORM.fullmatch(text):
        pairs = parse_qsl(text, keep_blank_values=True)
        return urlencode([(k, scrubber.field(k, v)) for k, v in pairs], safe="<>-").encode()
    return scrubber.text(text).encode("utf-8")


def recorded_step(
    number: int,
    request: Request,
    response: Response | None,
    *,
    scrubber: SecretScrubber,
    sidecar_dir: str,
    sidecars: dict[str, bytes],
) -> dict[str, Any]:
    """One flow step from a call and its response (None: none recorded), secrets scrubbed.

    A body that is not JSON goes to the sidecar file `sidecar_dir/N-request.bin`
    (or `-response.bin`), added to `sidecars`.
    """
    recorded_request: dict[str, Any] = {
        "method": request.method,
        "url": scrub_url(request.url, scrubber),
    }
    # A body kept raw keeps its Content-Type: without it the replay cannot read the
    # arguments of a form-encoded or multipart body (Slack's `types`, Drive's `parents`).
    raw_body = request.json is None and bool(request.content)
    skip = _CLIENT_HEADERS - {"content-type"} if raw_body else _CLIENT_HEADERS
    headers = _headers(request.headers, scrubber, skip)
    if headers:
        recorded_request["headers"] = headers
    if request.json is not None:
        recorded_request["json"] = scrubber.value("", request.json)
    elif request.content:
        sidecars[f"{sidecar_dir}/{number}-request.bin"] = scrub_content(request.content, scrubber)
        recorded_request["body_file"] = f"{sidecar_dir}/{number}-request.bin"
    step: dict[str, Any] = {
        "name": f"{request.method} {urlsplit(recorded_request['url']).path}",
        "request": recorded_request,
    }
    if response is not None and not response.blocked:
        recorded_response: dict[str, Any] = {"status": response.status}
        response_headers = _headers(response.headers, scrubber, frozenset({"www-authenticate"}))
        if response_headers:
            recorded_response["headers"] = response_headers
        if response.json is not None:
            recorded_response["json"] = scrubber.value("", response.json)
        elif response.content:
            path = f"{sidecar_dir}/{number}-response.bin"
            sidecars[path] = scrub_content(response.content, scrubber)
            recorded_response["body_file"] = path
        step["response"] = recorded_response
    return step


def flow_from_exchanges(
    exchanges: list[Exchange],
    *,
    name: str,
    connector: str,
    description: str,
    scrubber: SecretScrubber,
    sidecar_dir: str,
    expected_refused: Collection[int] = (),
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A flow document and its sidecar bodies (relative path -> bytes) from live exchanges;
    the ways out the guard refused (a name lookup, a socket, a process) are no steps. A call
    whose decision (by sequence) is in `expected_refused`, one the test asserted was denied or
    blocked, becomes a step with `expect: denied`, so that its replay expects it too."""
    sidecars: dict[str, bytes] = {}
    calls = [exchange for exchange in exchanges if exchange.request.method in METHODS]
    steps = []
    for number, exchange in enumerate(calls, start=1):
        step = recorded_step(
            number,
            exchange.request,
            exchange.response,
            scrubber=scrubber,
            sidecar_dir=sidecar_dir,
            sidecars=sidecars,
        )
        if exchange.decision.sequence in expected_refused:
            step["expect"] = "denied"
        steps.append(step)
    flow = {"name": name, "connector": connector, "description": description, "steps": steps}
    return flow, sidecars


def write_flow_file(
    path: Path,
    flow: dict[str, Any],
    sidecars: dict[str, bytes],
    *,
    source: str,
    secrets: int,
    root: Path | None = None,
) -> None:
    """Write `{flows: [flow]}` and its sidecar files next to it. The flow file must stay
    inside `root` (the workspace) and each sidecar inside the flow file's directory, checked
    before anything is written: an InputError names the path that would leave them."""
    where = Location(str(path))
    if root is not None:
        contained(
            root,
            path.relative_to(root) if path.is_relative_to(root) else path,
            what="the recorded flow file",
            where=where,
        )
    targets = {
        relative: contained(path.parent, relative, what="the body file", where=where)
        for relative in sidecars
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        comment(f"Recorded by connector-harness from {source}.")
        + "\n"
        + comment(
            f"{secrets} secret value(s) replaced by <secret-N> handles; "
            "the sandbox token is minted anew on replay."
        )
        + "\n"
    )
    body = yaml.safe_dump({"flows": [flow]}, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(header + body, "utf-8")
    for relative, content in sidecars.items():
        target = targets[relative]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
