"""Routing a method + URL to the operation of a service spec.

Hand-written rather than a web framework's router: a literal path is one dict look-up,
templates are tried per host and method in the order of specificity services need, and
no request object is built, on the path of every replayed call (bench/run.py).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from harness.model import Operation, Service

# `{name}` matches one path segment; `{+name}` (RFC 6570's reserved expansion, as Google's
# discovery documents write it) matches one or more, e.g. a file path in GitHub's
# `/repos/{owner}/{repo}/contents/{+path}`.
_PARAM = re.compile(r"\{(\+?)([A-Za-z_][A-Za-z0-9_]*)\}")


def template_params(path: str) -> tuple[str, ...]:
    return tuple(name for _, name in _PARAM.findall(path))


def malformed_params(path: str) -> tuple[str, ...]:
    """Braces in `path` that are no parameter, e.g. `{path+}` or `{issue-number}`."""
    return tuple(
        written for written in re.findall(r"\{[^{}]*\}", path) if not _PARAM.fullmatch(written)
    )


def spanning_params(path: str) -> tuple[str, ...]:
    """The parameters of `path` that may span several segments (`{+name}`)."""
    return tuple(name for plus, name in _PARAM.findall(path) if plus)


def compile_template(path: str) -> re.Pattern[str]:
    """`/v1/contacts/{id}` -> a regex where each `{name}` matches one path segment and each
    `{+name}` one or more."""
    pattern, position = "", 0
    for match in _PARAM.finditer(path):
        value = ".+" if match[1] else "[^/]+"
        pattern += re.escape(path[position : match.start()]) + f"(?P<{match[2]}>{value})"
        position = match.end()
    return re.compile(pattern + re.escape(path[position:]) + "/?")


@dataclass(frozen=True, slots=True)
class Route:
    service: Service
    operation: Operation
    params: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Candidate:
    service: Service
    operation: Operation
    regex: re.Pattern[str] | None  # None: the template is a literal path


# RFC 3986 pchar, less "%": what a path may hold unencoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


MEMO_URL_LENGTH = 2048  # longer URLs are split every time, so the memo stays small


def split_url(url: str) -> tuple[str, str, str]:
    """`https://Host:443/p?q` -> (host, path, query); the default port is dropped and the path
    put in one canonical encoding, so `<x>` sent raw and `%3Cx%3E` sent by a client route
    and log alike."""
    if len(url) <= MEMO_URL_LENGTH:
        return _split_memo(url)
    return _split(url)


@functools.lru_cache(maxsize=4096)
def _split_memo(url: str) -> tuple[str, str, str]:
    """Memoised: a replay sends the same URLs again and again (a flow polling, a binding per
    environment), and parsing one costs as much as authorizing the call."""
    return _split(url)


def _split(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    if "%" in path or not path.isascii() or any(c in path for c in ' <>"{}|^`[]'):
        # An encoded slash stays encoded: it is part of a segment, not a separator.
        pieces = re.split("%2[fF]", path)
        path = "%2F".join(quote(unquote(piece), safe=_PATH_SAFE) for piece in pieces)
    return host, path, parts.query


class Router:
    """Finds the operation for a call; more literal templates win over parameterised ones."""

    def __init__(self, services: tuple[Service, ...]) -> None:
        self._literal: dict[tuple[str, str, str], _Candidate] = {}
        self._templates: dict[tuple[str, str], list[_Candidate]] = {}
        self._services_by_host: dict[str, list[Service]] = {}
        for service in services:
            for host in service.hosts:
                self._services_by_host.setdefault(host.lower(), []).append(service)
                for operation in service.operations:
                    self._add(host.lower(), service, operation)
        for candidates in self._templates.values():
            candidates.sort(  # a parameter spanning segments matches last
                key=lambda c: (
                    len(spanning_params(c.operation.path)),
                    len(template_params(c.operation.path)),
                    -len(c.operation.path),
                    c.operation.id,
                )
            )

    def _add(self, host: str, service: Service, operation: Operation) -> None:
        if not template_params(operation.path):
            key = (host, operation.method, operation.path.rstrip("/") or "/")
            self._literal.setdefault(key, _Candidate(service, operation, None))
        else:
            candidate = _Candidate(service, operation, compile_template(operation.path))
            self._templates.setdefault((host, operation.method), []).append(candidate)

    def knows_host(self, host: str) -> bool:
        return host in self._services_by_host

    def services_at(self, host: str) -> list[Service]:
        return self._services_by_host.get(host, [])

    def route(self, method: str, host: str, path: str) -> Route | None:
        literal = self._literal.get((host, method, path.rstrip("/") or "/"))
        if literal is not None:
            return Route(literal.service, literal.operation, {})
        for candidate in self._templates.get((host, method), ()):
            assert candidate.regex is not None
            match = candidate.regex.fullmatch(path)
            if match:
                params = {key: unquote(value) for key, value in match.groupdict().items()}
                return Route(candidate.service, candidate.operation, params)
        return None

    def candidates(self, host: str) -> list[Operation]:
        """Every operation served on `host`, for "no operation matches" messages."""
        return [op for service in self.services_at(host) for op in service.operations]
