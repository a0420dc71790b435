"""Building a service spec from imported operations, and rendering it as deterministic YAML.

Every importer produces `ImportedOperation`s and scope descriptions; `assemble`
does the rest the same way for all formats: requirements are normalised, the
operations sorted, duplicates skipped (and reported), risks and scope breadth
inferred, and `render_service` writes the `mocks/` format with its provenance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import yaml

from harness.calls import METHODS
from harness.errors import InputError, Location
from harness.importers.breadth import ANY_CREDENTIAL, Alternatives, ScopeReach
from harness.importers.overlay import apply_overlay
from harness.model import METHOD_RISK
from harness.yaml_text import comment

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHANGE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/-]+")
_PARAM = re.compile(r"\{([^{}]*)\}")
_SERVICE_UNSAFE = re.compile(r"[^a-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class ImportedOperation:
    """One operation read from vendor data, before normalisation."""

    id: str
    method: str
    path: str
    requires: Alternatives  # any-of alternatives, each all-of; () is public
    location: Location
    risk: str | None = None  # None: inferred from the method and the scopes
    requires_in: tuple[tuple[str, Alternatives], ...] = ()  # per permission model, when set
    least_in: tuple[tuple[str, Alternatives], ...] = ()  # the vendor's least privileged ones
    extra: tuple[tuple[str, Any], ...] = ()  # further keys of the operation, written as given


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something of the input that the import left out, where it is and why."""

    location: Location
    what: str
    reason: str

    def render(self) -> str:
        return f"{self.location}: skipped {self.what}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportedService:
    """A complete service spec, ready to render."""

    name: str
    title: str
    hosts: tuple[str, ...]
    scopes: tuple[tuple[str, str], ...]  # name -> description, sorted
    implies: tuple[tuple[str, tuple[str, ...]], ...]
    operations: tuple[ImportedOperation, ...]
    provenance: tuple[tuple[str, str], ...]
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()
    token_params: tuple[str, ...] | None = None  # None: the default (access_token)
    # permission models: (name, description, ((scope, entry), ...)); then `scopes` is unused
    models: tuple[tuple[str, str, tuple[tuple[str, dict[str, Any]], ...]], ...] = ()
    routing: tuple[tuple[str, Any], ...] = ()
    extra_methods: tuple[str, ...] = ()  # every operation also answers these methods

    def to_data(self) -> dict[str, Any]:
        """The spec as plain data, in the order it is written."""
        if self.models:
            return {
                "service": self.name,
                "title": self.title,
                "provenance": dict(self.provenance),
                "hosts": list(self.hosts),
                **({"routing": dict(self.routing)} if self.routing else {}),
                "models": {
                    name: {"description": description, "scopes": dict(scopes)}
                    for name, description, scopes in self.models
                },
                "operations": [_operation_data(op, self.extra_methods) for op in self.operations],
            }
        implies = dict(self.implies)
        scopes: dict[str, Any] = {}
        for name, description in self.scopes:
            entry: dict[str, Any] = {}
            if description:
                entry["description"] = description
            if name in implies:
                entry["implies"] = list(implies[name])
            scopes[name] = entry or None
        token = {} if self.token_params is None else {"token_params": list(self.token_params)}
        return {
            "service": self.name,
            "title": self.title,
            "provenance": dict(self.provenance),
            "hosts": list(self.hosts),
            **token,
            "scopes": scopes,
            "operations": [_operation_data(op, self.extra_methods) for op in self.operations],
        }


def requirement_data(requires: Alternatives) -> Any:
    """Alternatives in the spec's YAML form."""
    if not requires:
        return "none"
    if requires == ANY_CREDENTIAL:
        return "authenticated"
    if len(requires) == 1 and len(requires[0]) == 1:
        return requires[0][0]
    if len(requires) == 1:
        return {"all_of": list(requires[0])}
    return {"any_of": [alt[0] if len(alt) == 1 else list(alt) for alt in requires]}


def _operation_data(
    operation: ImportedOperation, extra_methods: tuple[str, ...] = ()
) -> dict[str, Any]:
    methods = [operation.method, *(m for m in extra_methods if m != operation.method)]
    data: dict[str, Any] = {
        "id": operation.id,
        "method": methods[0] if len(methods) == 1 else methods,
        "path": operation.path,
    }
    if operation.requires_in:
        data["requires_in"] = {
            model: requirement_data(requires) for model, requires in operation.requires_in
        }
    else:
        data["requires"] = requirement_data(operation.requires)
    data.update(operation.extra)
    if operation.least_in:
        data["least_in"] = {
            model: [alt[0] if len(alt) == 1 else list(alt) for alt in alternatives]
            for model, alternatives in operation.least_in
        }
    if operation.risk is not None and operation.risk != METHOD_RISK.get(operation.method, "write"):
        data["risk"] = operation.risk
    return data


def service_name(text: str) -> str:
    """A service identifier from a title: lower case, `-` between words."""
    name = _SERVICE_UNSAFE.sub("-", text.lower()).strip("-._")
    return name or "service"


def operation_id(text: str) -> str:
    """`text` with the characters an operation id cannot hold replaced by `-`."""
    return _ID_UNSAFE.sub("-", text).strip("-") or "operation"


def path_id(method: str, path: str) -> str:
    """An id for an operation that has none: `GET /repos/{owner}` -> `get:/repos/:owner`."""
    return operation_id(f"{method.lower()}:{_PARAM.sub(lambda m: ':' + m[1], path)}")


def route_path(path: str, spanning: Iterable[str] = ()) -> tuple[str, tuple[str, ...]]:
    """`path` with every `{param}` renamed to a routable identifier; and what was renamed.

    The router matches `{name}` with `name` an identifier, one path segment each,
    and `{+name}` over one or more segments. `{issue-number}` becomes
    `{issue_number}`, a repeated name gets a suffix; a reserved expansion `{+name}`
    keeps its `+`, and so does a parameter named in `spanning` (a file path or a
    Git ref that the document cannot mark as holding slashes).
    """
    seen: set[str] = set()
    renamed: list[str] = []
    spans = frozenset(spanning)

    def rename(match: re.Match[str]) -> str:
        original = match[1]
        name = re.sub(r"[^A-Za-z0-9_]", "_", original.lstrip("+")) or "param"
        if name[0].isdigit():
            name = "p" + name
        base, number = name, 2
        while name in seen:
            name, number = f"{base}_{number}", number + 1
        seen.add(name)
        plus = "+" if original.startswith("+") or original in spans else ""
        if plus + name != original:
            renamed.append(f"{{{original}}} -> {{{plus}{name}}}")
        return "{" + plus + name + "}"

    path = "/" + path.lstrip("/")
    return _PARAM.sub(rename, path), tuple(renamed)


def route_shape(method: str, path: str) -> tuple[str, str]:
    return method, _PARAM.sub("{}", path).rstrip("/") or "/"


def normalise(requires: Iterable[Iterable[str]]) -> Alternatives:
    """Alternatives sorted and deduplicated; one that includes another is dropped (absorbed),
    so an empty alternative (any credential will do) absorbs every other."""
    unique = sorted({tuple(sorted(set(alt))) for alt in requires}, key=lambda a: (len(a), a))
    kept: list[tuple[str, ...]] = []
    for alternative in unique:
        if not any(set(smaller) <= set(alternative) for smaller in kept):
            kept.append(alternative)
    return tuple(sorted(kept))


@dataclass(slots=True)
class ServiceDraft:
    """What an importer collects before `assemble` finishes the spec."""

    name: str
    title: str
    hosts: list[str]
    scopes: dict[str, str] = field(default_factory=dict)  # name -> description
    declared_implies: dict[str, list[str]] = field(default_factory=dict)
    operations: list[ImportedOperation] = field(default_factory=list)
    provenance: dict[str, str] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    context: list[Alternatives] = field(default_factory=list)  # other APIs' requirements
    exclude: tuple[str, ...] = ()  # glob patterns of scopes a connector cannot hold
    token_params: tuple[str, ...] | None = None  # None: the default (access_token)
    extra_methods: tuple[str, ...] = ()  # every operation also answers these methods

    def skip(self, location: Location, what: str, reason: str) -> None:
        self.skipped.append(Skipped(location, what, reason))


def assemble(draft: ServiceDraft, source: str) -> ImportedService:
    """Normalise, sort, deduplicate, infer risks and breadth; raise InputError if nothing is left."""
    excluded = {scope for scope in draft.scopes if _excluded(scope, draft.exclude)}
    for scope in excluded:
        del draft.scopes[scope]
    operations: list[ImportedOperation] = []
    for operation in draft.operations:
        kept = [
            alt for alt in operation.requires if not any(_excluded(s, draft.exclude) for s in alt)
        ]
        if operation.requires and not kept:
            draft.skip(
                operation.location,
                f"{operation.method} {operation.path}",
                "every scope that allows it is excluded (--exclude-scope)",
            )
            continue
        requires = normalise(kept)
        for alternative in requires:
            for scope in alternative:
                if scope not in draft.scopes:
                    draft.scopes[scope] = ""
                    draft.notes.append(
                        f"scope `{scope}` (required by {operation.method} {operation.path}) "
                        "is not declared by the document; added without a description"
                    )
        operations.append(
            ImportedOperation(
                operation.id,
                operation.method,
                operation.path,
                requires,
                operation.location,
                operation.risk,
            )
        )
    operations.sort(key=lambda op: (op.path, METHODS.index(op.method), op.id))
    unique: list[ImportedOperation] = []
    routes: dict[tuple[str, str], int] = {}
    ids: set[str] = set()
    for operation in operations:
        shape = route_shape(operation.method, operation.path)
        if shape in routes:
            # One endpoint spelled twice (`{name}` and `{secret_name}`): either requirement works.
            first = unique[routes[shape]]
            merged = normalise((*first.requires, *operation.requires))
            if not first.requires or not operation.requires:
                merged = ()
            unique[routes[shape]] = ImportedOperation(
                first.id, first.method, first.path, merged, first.location, first.risk
            )
            draft.notes.append(
                f"{operation.method} {operation.path} ({operation.location}) is the same route "
                f"as {first.path}: merged into `{first.id}`, either requirement allows it"
            )
            continue
        routes[shape] = len(unique)
        name, number = operation.id, 2
        while name in ids:
            name, number = f"{operation.id}-{number}", number + 1
        ids.add(name)
        unique.append(
            ImportedOperation(
                name,
                operation.method,
                operation.path,
                operation.requires,
                operation.location,
                operation.risk,
            )
        )
    if not unique:
        detail = "".join(f"\n{item.render()}" for item in draft.skipped[:20])
        raise InputError(
            Location(source),
            "no operation could be imported" + (" (every one was skipped)" if detail else ""),
            (detail.lstrip("\n") + "\n" if detail else "")
            + "check that the document describes paths and their security requirements",
        )
    if not draft.scopes:
        raise InputError(
            Location(source),
            "the document declares no scopes and no operation requires one",
            "import a document with OAuth2 scopes or permissions; a spec needs at least one scope",
        )
    scoped = [op.requires if op.requires != ANY_CREDENTIAL else () for op in unique]
    reach = ScopeReach(draft.scopes, draft.declared_implies, scoped, draft.context)
    unique = [_with_risk(op, reach, unique) for op in unique]
    return ImportedService(
        name=draft.name,
        title=draft.title,
        hosts=tuple(dict.fromkeys(host.lower() for host in draft.hosts)),
        scopes=tuple(sorted(draft.scopes.items())),
        implies=tuple(sorted(reach.implications().items())),
        operations=tuple(unique),
        provenance=tuple(draft.provenance.items()),
        skipped=tuple(draft.skipped),
        notes=tuple(sorted(set(draft.notes))),
        token_params=draft.token_params,
        extra_methods=draft.extra_methods,
    )


def _excluded(scope: str, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(scope, pattern) for pattern in patterns)


def _with_risk(
    operation: ImportedOperation, reach: ScopeReach, operations: Sequence[ImportedOperation]
) -> ImportedOperation:
    """Risk from the method, except that a POST accepting a read-only scope is a read.

    A scope is read-only when the operations it allows include a GET and no
    PUT, PATCH or DELETE (e.g. `spreadsheets.readonly` also allows
    `values:batchGetByDataFilter`, a POST that reads).
    """
    if operation.risk is not None:
        return operation
    risk = METHOD_RISK.get(operation.method, "write")
    if risk == "write" and operation.requires:
        for alternative in operation.requires:
            if alternative and all(_read_only(scope, reach, operations) for scope in alternative):
                risk = "read"
                break
    return ImportedOperation(
        operation.id,
        operation.method,
        operation.path,
        operation.requires,
        operation.location,
        risk,
    )


def _read_only(scope: str, reach: ScopeReach, operations: Sequence[ImportedOperation]) -> bool:
    methods = {operations[index].method for index in reach.own_reach(scope)}
    return bool(methods & READ_METHODS) and not methods & CHANGE_METHODS


class _SpecDumper(yaml.SafeDumper):
    """Operations and short lists in flow style, one per line; everything else in block style."""


class _Flow(dict[str, Any]):
    pass


class _FlowList(list[Any]):
    pass


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


def _represent_flow_list(dumper: yaml.SafeDumper, data: _FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


_SpecDumper.add_representer(_Flow, _represent_flow)
_SpecDumper.add_representer(_FlowList, _represent_flow_list)


def _flow_lists(value: Any) -> Any:
    if isinstance(value, list):
        return _FlowList(_flow_lists(item) for item in value)
    if isinstance(value, dict):
        return _Flow({key: _flow_lists(item) for key, item in value.items()})
    return value


def render_service(
    service: ImportedService,
    *,
    command: str = "",
    overlay: Mapping[str, Any] | None = None,
    overlay_name: str = "",
    version: str = "",
) -> str:
    """The service spec as YAML text: a header saying where it came from, then the data.

    `overlay` (a pack's hand-written rules, each citing its vendor page) is merged into
    the imported data before it is written (harness.workspace.spec_merge)."""
    data = service.to_data()
    if overlay:
        data = apply_overlay(data, overlay)
    if version:
        data = {"service": data["service"], "title": data["title"], "version": version, **data}
    lines = [
        comment(f"{service.title}: generated by connector-harness import-service; do not edit.")
    ]
    if command:
        lines.append(comment(f"Regenerate with: {command}"))
    lines.append(
        comment(
            f"{len(data['operations'])} operations, {_scope_count(data)} scopes"
            + (
                "; `implies` lists the scopes each one is strictly broader than (inferred from "
                "the data)."
                if service.implies
                else "."
            )
        )
    )
    if overlay_name:
        lines.append(
            comment(
                f"Hand-written rules from {overlay_name} are merged in: each carries `source:`, "
                "the vendor page it follows."
            )
        )
    for item in service.skipped:
        lines.append(comment(item.render()))
    for note in service.notes:
        lines.append(comment(f"note: {note}"))
    return "\n".join(lines) + "\n" + render_data(data)


_HEAD = ("service", "title", "version", "provenance")
_ORDER = (
    "hosts",
    "token_params",
    "routing",
    "upload_sessions",
    "models",
    "scopes",
    "value_maps",
)


def _scope_count(data: Mapping[str, Any]) -> int:
    names = set(data.get("scopes") or {})
    for model in (data.get("models") or {}).values():
        names |= set((model or {}).get("scopes") or {})
    return len(names)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_SpecDumper, sort_keys=False, allow_unicode=True, width=10_000)


def _scopes_block(scopes: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: ({key: _flow_lists(value) for key, value in entry.items()} if entry else None)
        for name, entry in scopes.items()
    }


def render_data(data: Mapping[str, Any]) -> str:
    """A service spec's data as YAML: the head and scopes in block style, each operation on
    one line."""
    head = {key: data[key] for key in _HEAD if key in data}
    body: dict[str, Any] = {}
    for key in _ORDER:
        if key not in data:
            continue
        value = data[key]
        if key == "hosts" or key == "token_params":
            body[key] = _FlowList(value)
        elif key == "scopes":
            body[key] = _scopes_block(value)
        elif key == "models":
            body[key] = {
                name: {
                    part: _scopes_block(part_value) if part == "scopes" else part_value
                    for part, part_value in (model or {}).items()
                }
                for name, model in value.items()
            }
        elif key == "value_maps":
            body[key] = {name: _flow_lists(entry) for name, entry in value.items()}
        else:
            body[key] = _flow_lists(value)
    rest = {
        key: value
        for key, value in data.items()
        if key not in _HEAD and key not in _ORDER and key != "operations"
    }
    operations = "operations:\n" + "".join(
        "  - " + _dump(_flow_lists(op)).rstrip("\n") + "\n" for op in data["operations"]
    )
    return _dump(head) + (_dump(body) if body else "") + (_dump(rest) if rest else "") + operations


def scope_descriptions(scopes: Mapping[str, Any]) -> dict[str, str]:
    """Scope -> description, dropping descriptions that only repeat the scope's name."""
    result: dict[str, str] = {}
    for name, value in scopes.items():
        text = value.get("description", "") if isinstance(value, dict) else value
        text = " ".join(str(text or "").split())
        result[str(name)] = "" if text == name else text
    return result


@dataclass(frozen=True, slots=True)
class ImportSettings:
    """What the user decides about an import (the command-line options of import-service)."""

    service: str | None = None  # default: from the document
    title: str | None = None
    hosts: tuple[str, ...] = ()  # replace the document's hosts
    base_path: str | None = None  # replace the document's base path (OpenAPI)
    scopes: str = "all-of"  # OpenAPI: a security requirement's scope list is all-of | any-of
    operation_ids: str = "operationId"  # OpenAPI: operationId | path
    source: str | None = None  # provenance: where the document came from
    version: str | None = None
    commit: str | None = None
    date: str | None = None
    exclude_scopes: tuple[str, ...] = ()  # globs: scopes a connector cannot hold (add-on only)
    spanning: tuple[str, ...] = ()  # path parameters that may hold slashes: `{name}` -> `{+name}`
    oauth_model: bool = False  # GitHub: also the classic OAuth App scopes, as model `oauth`
    token_params: tuple[str, ...] | None = None  # parameters carrying the token (None: default)
    extra_methods: tuple[str, ...] = ()  # every operation also answers these methods (Slack)


def provenance(
    settings: ImportSettings,
    *,
    source: str,
    format: str,
    sha256: str,
    version: str | None = None,
    date: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The provenance block: the user's values win over what the document says."""
    result = {"source": settings.source or source, "format": format}
    if settings.version or version:
        result["version"] = str(settings.version or version)
    if settings.commit:
        result["commit"] = settings.commit
    if settings.date or date:
        result["date"] = str(settings.date or date)
    result.update(extra or {})
    if settings.exclude_scopes:
        result["excluded_scopes"] = ", ".join(settings.exclude_scopes)
    result["sha256"] = sha256
    return result
