"""Routing a method + URL to the operation of a service spec.

Hand-written rather than a web framework's router: a literal path is one dict look-up,
templates are found through a per-service index (harness.route_index), and no request
object is built, on the path of every replayed call (bench/run.py).
"""

from __future__ import annotations

import difflib
import functools
import itertools
import re
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

from harness.model import Operation, Service
from harness.route_index import RouteIndex, SortKey

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


def ambiguity_problem(path: str) -> str:
    """Why `path` could not be matched in linear time, or "".

    Two parameters with no literal text between them (`{+a}{+b}`, `{a}{b}`) can split a
    value in many ways, and two spanning parameters (`{+a}/x/{+b}`) can each take any
    number of segments: a regular expression tries every split, which takes time
    polynomial (or worse) in the path's length. Such templates are refused at load.
    """
    params = list(_PARAM.finditer(path))
    for before, after in itertools.pairwise(params):
        if before.end() == after.start():
            return (
                f"`{before[0]}{after[0]}` in `{path}`: two path parameters with nothing "
                "between them cannot be told apart"
            )
    spanning = [found[0] for found in params if found[1]]
    if len(spanning) > 1:
        return (
            f"`{path}` has {len(spanning)} spanning parameters ({', '.join(spanning)}); "
            "a template may have one"
        )
    return ""


_NOT_IN_A_PATH = re.compile(r"[?#\s\\^|\[\]<>\"`]")


def path_problem(path: str) -> str:
    """Why `path` is not a path template (a regular expression, a query), or ""."""
    found = _NOT_IN_A_PATH.search(path)
    if found is None:
        return ""
    character = found[0]
    what = {"?": "it starts the query", "#": "it starts the fragment"}.get(
        character, "a URL path cannot hold it unencoded"
    )
    looks = (
        " (this looks like a regular expression)" if re.search(r"\(\?|\.\*|\\[dws]", path) else ""
    )
    shown = repr(character) if character.isspace() else f"`{character}`"
    return f"`{path}` is not a path template: {shown} at column {found.start() + 1}, {what}{looks}"


def spanning_params(path: str) -> tuple[str, ...]:
    """The parameters of `path` that may span several segments (`{+name}`)."""
    return tuple(name for plus, name in _PARAM.findall(path) if plus)


class Route(NamedTuple):
    service: Service
    operation: Operation
    params: dict[str, str]


# RFC 3986 pchar, less "%": what a path may hold unencoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


_NEEDS_CANONICAL = re.compile(r'[% <>"{}|^`\[\]]|[^\x00-\x7f]')


MEMO_URL_LENGTH = 2048  # longer URLs are split every time, so the memo stays small
MEMO_ROUTES = 8192  # routes a Router remembers; it starts again when full


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
    netloc = parts.netloc
    name, colon, port = netloc.partition(":")
    if "@" not in netloc and "[" not in netloc and (not colon or port.isdigit()):
        # the common netloc, read once (`hostname` and `port` would each parse it again)
        number = int(port) if colon else 0
        if number > 65535:
            raise ValueError("Port out of range 0-65535")
        host = name.lower()
        if number and number not in (80, 443):
            host = f"{host}:{number}"
    else:
        host = (parts.hostname or "").lower()
        if parts.port and parts.port not in (80, 443):
            host = f"{host}:{parts.port}"
    path = parts.path or "/"
    if _NEEDS_CANONICAL.search(path):
        # An encoded slash stays encoded: it is part of a segment, not a separator.
        pieces = re.split("%2[fF]", path)
        path = "%2F".join(quote(unquote(piece), safe=_PATH_SAFE) for piece in pieces)
    return host, path, parts.query


def route_index(service: Service) -> RouteIndex:
    """The service's route index, built on first use and kept with the service."""
    index = service.routes.value
    if not isinstance(index, RouteIndex):
        index = RouteIndex(service)
        service.routes.value = index
    return index


class Router:
    """Finds the operation for a call; more literal templates win over parameterised ones."""

    def __init__(self, services: tuple[Service, ...]) -> None:
        self._services_by_host: dict[str, list[Service]] = {}
        for service in services:
            for host in service.hosts:
                self._services_by_host.setdefault(host.lower(), []).append(service)
        # (method, host, path) -> its route: a replay sends the same few calls again and
        # again, and the services never change under a router. A route's `params` are
        # shared between the calls that hit it: read them, never change them.
        self._memo: dict[tuple[str, str, str], Route | None] = {}

    def knows_host(self, host: str) -> bool:
        return host in self._services_by_host

    def services_at(self, host: str) -> list[Service]:
        return self._services_by_host.get(host, [])

    def route(self, method: str, host: str, path: str) -> Route | None:
        key = (method, host, path)
        memo = self._memo
        if key in memo:
            return memo[key]
        found = self._route(method, host, path)
        if len(path) <= MEMO_URL_LENGTH:  # a long path is routed every time
            if len(memo) >= MEMO_ROUTES:
                memo.clear()
            memo[key] = found
        return found

    def _route(self, method: str, host: str, path: str) -> Route | None:
        services = self._services_by_host.get(host, ())
        if len(services) == 1:  # the common case: one service per host
            service = services[0]
            index = service.routes.value
            if not isinstance(index, RouteIndex):
                index = route_index(service)
            if index.rewrites:
                normalised = index.normalise(path)
                if normalised is None:
                    return None
                path = normalised
            literal = index.literal(method, path)
            if literal is not None:  # most calls: no parameter to read
                return Route(service, literal, {})
            found = index.match(method, path)
            return None if found is None else Route(service, found[0], found[1])
        best: Route | None = None
        best_key: SortKey | None = None
        for service in services:
            index = route_index(service)
            normalised = index.normalise(path)
            if normalised is None:
                continue
            found = index.match(method, normalised)
            if found is None:
                continue
            key = index.key_of(found.operation)
            if best_key is None or key < best_key:
                best, best_key = Route(service, found.operation, found.params), key
        return best

    def candidates(self, host: str) -> list[Operation]:
        """Every operation served on `host`, for "no operation matches" messages."""
        return [op for service in self.services_at(host) for op in service.operations]

    def nearest(self, method: str, host: str, path: str, count: int = 3) -> list[Operation]:
        """The operations on `host` whose method and template look most like the call."""
        return nearest_operations(self.candidates(host), method, path, count)


def nearest_operations(
    operations: list[Operation], method: str, path: str, count: int = 3
) -> list[Operation]:
    """The `count` operations closest to `method path`: templates compared segment by
    segment (a parameter fits any one segment, a literal fits itself best and a similar
    word partly), the call's method first."""
    if not operations:
        return []
    wanted = [segment.lower() for segment in path.strip("/").split("/")]

    def score(operation: Operation) -> float:
        template = operation.path.strip("/").split("/")
        total = 0.0
        for given, written in zip(wanted, template, strict=False):
            if _PARAM.fullmatch(written):
                total += 0.8
            elif given == written.lower():
                total += 1.0
            else:
                total += 0.9 * difflib.SequenceMatcher(None, given, written.lower()).ratio()
        fit = total / max(len(wanted), len(template))
        return fit + (0.25 if method in (operation.method, *operation.methods) else 0.0)

    return sorted(operations, key=lambda op: (-score(op), op.id))[:count]
