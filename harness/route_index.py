"""The route index of one service: from a request path to its operation, fast at any size.

A service of eleven thousand templates (Microsoft Graph) cannot be matched by
trying each template's regular expression in turn. Templates whose parameters
each fill a whole segment, or part of one (`{range}:append`, `range(address={value})`),
go into a tree of path segments; the few with a parameter spanning several
segments (`{+path}`) keep a regular expression each. A lookup collects every
template that matches and keeps the best by the router's order: a literal path
first, then fewer spanning parameters, fewer parameters, the longer template, the id.

The service's `routing:` options apply here: case-insensitive paths, base paths
(`/v1.0`, `/beta`) stripped before matching, OData key segments (`/users('x')` is
`/users/x`) and equivalent prefixes (`/me` and `/users/{id}`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import unquote

from harness.model import Operation, Service

_PARAM = re.compile(r"\{(\+?)([A-Za-z_][A-Za-z0-9_]*)\}")
_KEY_SEGMENT = re.compile(r"^([^()/]+)\(('?)([^()=,']*)\2\)$")

SortKey = tuple[int, int, int, int, str]  # see order_key
FEW_TEMPLATES = 48  # per method: up to this many, a list of regexes beats the segment tree


def order_key(operation: Operation) -> SortKey:
    """Literal templates first; then fewer spanning parameters, more literal text (so that
    `root:/{+path}:/content` wins over `root:/{+path}`), fewer parameters, the id."""
    path = operation.path
    params = _PARAM.findall(path)
    spanning = sum(1 for plus, _ in params if plus)
    literal = len(_PARAM.sub("", path))
    return (1 if params else 0, spanning, -literal, len(params), operation.id)


@dataclass(slots=True)
class _Segment:
    """A template segment with a parameter in it: `{range}:append`."""

    regex: re.Pattern[str]
    child: _Node


@dataclass(slots=True)
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    any_segment: _Node | None = None  # a segment that is one whole `{param}`
    patterns: list[_Segment] = field(default_factory=list)
    # operations ending here: method -> [(operation, names of whole-segment params in order)]
    ends: dict[str, list[tuple[Operation, tuple[str | None, ...]]]] = field(default_factory=dict)


class Match(NamedTuple):
    operation: Operation
    params: dict[str, str]
    key: SortKey = (0, 0, 0, 0, "")  # see order_key; a literal match needs none


def _segment_regex(segment: str, insensitive: bool) -> re.Pattern[str]:
    pattern, position = "", 0
    for found in _PARAM.finditer(segment):
        pattern += re.escape(segment[position : found.start()]) + f"(?P<{found[2]}>[^/]+)"
        position = found.end()
    flags = re.IGNORECASE if insensitive else 0
    return re.compile(pattern + re.escape(segment[position:]), flags)


def _spanning_regex(path: str, insensitive: bool) -> re.Pattern[str]:
    pattern, position = "", 0
    for found in _PARAM.finditer(path):
        value = ".+" if found[1] else "[^/]+"
        pattern += re.escape(path[position : found.start()]) + f"(?P<{found[2]}>{value})"
        position = found.end()
    return re.compile(
        pattern + re.escape(path[position:]) + "/?", re.IGNORECASE if insensitive else 0
    )


class RouteIndex:
    """Every operation of one service, indexed for `match`."""

    def __init__(self, service: Service) -> None:
        self.service = service
        options = service.routing
        self.insensitive = options.case_insensitive
        self.base_paths = tuple(
            (p.rstrip("/").lower() if self.insensitive else p.rstrip("/"))
            for p in options.base_paths
        )
        self.key_segments = options.key_segments
        self.aliases = options.aliases
        self.rewrites = bool(self.base_paths)
        self._literal: dict[tuple[str, str], Operation] = {}
        self._roots: dict[str, _Node] = {}  # a segment tree per method
        # templates with a `{+name}`, by method and last segment ("": a parameter), then by
        # their literal text before the first parameter
        self._spanning: dict[
            tuple[str, str], dict[str, list[tuple[re.Pattern[str], Operation]]]
        ] = {}
        self._chunks: dict[str, str] = {}  # a spanning template's longest literal after its prefix
        self._segment_patterns: dict[str, re.Pattern[str]] = {}
        self._keys: dict[str, SortKey] = {}
        # A few templates per method are matched faster one regular expression at a time.
        self._few: dict[str, list[tuple[re.Pattern[str], Operation]]] = {}
        counts: dict[str, int] = {}
        for operation in service.operations:
            for method in (operation.method, *operation.methods):
                counts[method] = counts.get(method, 0) + ("{" in operation.path)
        for operation in service.operations:
            for method in (operation.method, *operation.methods):
                if counts[method] <= FEW_TEMPLATES and "{" in operation.path:
                    found = self._few.setdefault(method, [])
                    found.append((_spanning_regex(operation.path, self.insensitive), operation))
                else:
                    self._add(method, operation)
        groups = [*self._few.values()]
        groups += [
            entries for by_prefix in self._spanning.values() for entries in by_prefix.values()
        ]
        for group in groups:
            group.sort(key=lambda item: self.key_of(item[1]))

    def _fold(self, text: str) -> str:
        return text.lower() if self.insensitive else text

    def _add(self, method: str, operation: Operation) -> None:
        path = operation.path
        params = _PARAM.findall(path)
        if not params:
            key = (method, self._fold(path.rstrip("/") or "/"))
            self._literal.setdefault(key, operation)
            return
        if any(plus for plus, _ in params):
            last = path.strip("/").split("/")[-1]
            bucket = self._spanning.setdefault(
                (method, "" if "{" in last else self._fold(last)), {}
            )
            prefix = self._fold(path[: path.index("{")])
            rest = [self._fold(chunk) for chunk in _PARAM.split(path[len(prefix) :])[::3]]
            self._chunks[operation.id] = max(rest, key=len, default="")
            bucket.setdefault(prefix, []).append(
                (_spanning_regex(path, self.insensitive), operation)
            )
            return
        node = self._roots.setdefault(method, _Node())
        names: list[str | None] = []
        for segment in path.strip("/").split("/"):
            whole = _PARAM.fullmatch(segment)
            if whole:
                if node.any_segment is None:
                    node.any_segment = _Node()
                node = node.any_segment
                names.append(whole[2])
            elif "{" in segment:
                regex = self._segment_patterns.get(segment)
                if regex is None:
                    regex = _segment_regex(segment, self.insensitive)
                    self._segment_patterns[segment] = regex
                existing = next((p for p in node.patterns if p.regex is regex), None)
                if existing is None:
                    existing = _Segment(regex, _Node())
                    node.patterns.append(existing)
                node = existing.child
                names.append(None)
            else:
                node = node.literal.setdefault(self._fold(segment), _Node())
                names.append(None)
        node.ends.setdefault(method, []).append((operation, tuple(names)))

    def key_of(self, operation: Operation) -> SortKey:
        """The operation's order_key, computed once."""
        key = self._keys.get(operation.id)
        if key is None:
            key = self._keys[operation.id] = order_key(operation)
        return key

    def normalise(self, path: str) -> str | None:
        """The path to match: base path stripped, key segments split; None if it cannot match."""
        if self.base_paths:
            folded = self._fold(path)
            for base in self.base_paths:
                if folded == base or folded.startswith(base + "/"):
                    # `/v1.0//users`: the vendor's own SDK (msgraph-sdk, whose base URL ends
                    # in a slash) sends an empty segment after the base path, and the
                    # service answers it as `/v1.0/users`.
                    path = "/" + path[len(base) :].lstrip("/")
                    break
            else:
                return None
        return path

    def _split_keys(self, path: str) -> str:
        """`/users('x')/messages` -> `/users/x/messages` (OData key segments)."""
        parts = []
        for segment in path.split("/"):
            key = _KEY_SEGMENT.match(segment)
            if key and "=" not in segment:
                parts.extend([key[1], key[3]])
            else:
                parts.append(segment)
        return "/".join(parts)

    def literal(self, method: str, path: str) -> Operation | None:
        """The operation whose template is exactly this path, if any."""
        key = path.rstrip("/") or "/"
        return self._literal.get((method, key.lower() if self.insensitive else key))

    def match(self, method: str, path: str) -> Match | None:
        """The best operation for `method` and the (normalised) path, or None."""
        key = path.rstrip("/") or "/"
        literal = self._literal.get((method, key.lower() if self.insensitive else key))
        if literal is not None:
            return Match(literal, {})
        few = self._few.get(method)
        if few is not None:
            for regex, operation in few:
                matched = regex.fullmatch(path)
                if matched:
                    params = {name: unquote(value) for name, value in matched.groupdict().items()}
                    return Match(operation, params)
            found = None
        else:
            found = self._match(method, path)
        if found is None and self.key_segments and "(" in path:
            split = self._split_keys(path)
            if split != path:
                found = self._match(method, split)
                path = split
        if found is None and self.aliases:
            return self._match_alias(method, path)
        return found

    def _match_alias(self, method: str, path: str) -> Match | None:
        found = None
        if self.aliases:
            for first, second in self.aliases:
                for source, target in ((first, second), (second, first)):
                    rewritten = _rewrite_prefix(path, source, target, self.insensitive)
                    if rewritten is not None:
                        found = self._match(method, rewritten)
                        if found is not None:
                            return found
        return found

    def _match(self, method: str, path: str) -> Match | None:
        literal = self._literal.get((method, self._fold(path.rstrip("/") or "/")))
        if literal is not None:
            return Match(literal, {})
        few = self._few.get(method)
        if few is not None:
            for regex, operation in few:
                matched = regex.fullmatch(path)
                if matched:
                    params = {key: unquote(value) for key, value in matched.groupdict().items()}
                    return Match(operation, params)
            return None
        stripped = path[:-1] if path.endswith("/") and path != "/" else path
        segments = (stripped[1:] if stripped.startswith("/") else stripped).split("/")
        folded = [self._fold(segment) for segment in segments]
        best: Match | None = None
        root = self._roots.get(method)
        found = self._walk(root, method, segments, folded, 0, {}) if root is not None else ()
        for operation, names, captured in found:
            params = dict(captured)
            for name, value in zip(names, segments, strict=True):
                if name is not None:
                    params[name] = unquote(value)
            candidate = Match(operation, params, self.key_of(operation))
            if best is None or candidate.key < best.key:
                best = candidate
        if best is not None or not self._spanning:
            return best  # a spanning template never wins over one without
        folded_path = self._fold(path)
        for last in (self._fold(segments[-1]), ""):
            for prefix, entries in self._spanning.get((method, last), {}).items():
                if not folded_path.startswith(prefix):
                    continue
                for regex, operation in entries:  # sorted: the first match is the group's best
                    key = self.key_of(operation)
                    if best is not None and key > best.key:
                        break
                    if self._chunks[operation.id] not in folded_path:
                        continue  # a literal part of the template is not in the path
                    matched = regex.fullmatch(path)
                    if matched:
                        params = {k: unquote(v) for k, v in matched.groupdict().items()}
                        best = Match(operation, params, key)
                        break
        return best

    def _walk(
        self,
        node: _Node,
        method: str,
        segments: list[str],
        folded: list[str],
        depth: int,
        captured: dict[str, str],
    ) -> list[tuple[Operation, tuple[str | None, ...], dict[str, str]]]:
        if depth == len(segments):
            return [(op, names, captured) for op, names in node.ends.get(method, ())]
        results = []
        child = node.literal.get(folded[depth])
        if child is not None:
            results.extend(self._walk(child, method, segments, folded, depth + 1, captured))
        segment = segments[depth]
        if node.any_segment is not None and segment:
            results.extend(
                self._walk(node.any_segment, method, segments, folded, depth + 1, captured)
            )
        for pattern in node.patterns:
            matched = pattern.regex.fullmatch(segment)
            if matched:
                more = {k: unquote(v) for k, v in matched.groupdict().items()}
                results.extend(
                    self._walk(
                        pattern.child, method, segments, folded, depth + 1, {**captured, **more}
                    )
                )
        return results

    def operations(self) -> tuple[Operation, ...]:
        return self.service.operations


def _rewrite_prefix(path: str, source: str, target: str, insensitive: bool) -> str | None:
    """`path` with the prefix template `source` replaced by `target` (`{name}` segments carry
    over in order; a target parameter with no source value gets a placeholder)."""
    source_parts = source.strip("/").split("/")
    parts = path.strip("/").split("/")
    if len(parts) < len(source_parts):
        return None
    values = []
    for written, actual in zip(source_parts, parts, strict=False):
        if _PARAM.fullmatch(written):
            values.append(actual)
        elif (written.lower() if insensitive else written) != (
            actual.lower() if insensitive else actual
        ):
            return None
    rest = parts[len(source_parts) :]
    filled = []
    for written in target.strip("/").split("/"):
        if _PARAM.fullmatch(written):
            filled.append(values.pop(0) if values else "alias")
        else:
            filled.append(written)
    return "/" + "/".join([*filled, *rest])
