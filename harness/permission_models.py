"""Permission models: one vendor, several kinds of grant (GitHub App permissions and classic
OAuth scopes; Slack bot and user tokens; Graph delegated and application permissions).

A service spec may declare `models:`, each with its own scopes; an operation says what
it needs in each (`requires_in:`), or once for all (`requires:`, where an alternative
naming a scope a model lacks does not exist in that model). A connector holds grants
in one model per service (`credential.models: {github: oauth}`); without it, the
service's first model. The loader builds one view of the service per model (a
`Service` whose universe, scopes and requirements are the model's); breadth, covers
and suggestions are computed on the view of the connector's model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from harness.errors import InputError, Location
from harness.model import Binding, Operation, Service, Workspace
from harness.scopes import Grant, Requirement, ScopeUniverse, is_pattern

PathKey = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ScopeEntry:
    """One declared scope of a model, with what the vendor says about it."""

    name: str
    description: str
    implies: tuple[str, ...]
    location: Location
    implies_location: Callable[[int], Location]
    sensitivity: int = 1
    legacy: str = ""
    automatic: bool = False  # the vendor adds it to any grant that implies it


# The closures of a model's scopes (each scope with every scope it implies, transitively)
# hold at most this many scopes in all. The bundled packs hold a few hundred; a chain of
# n implications holds n^2/2, which would make every check quadratic in n.
MAX_IMPLIED_SCOPES = 100_000


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """The scopes of one permission model of a service, as written."""

    name: str  # "" for the implicit single model
    scopes: tuple[ScopeEntry, ...]
    universe: ScopeUniverse

    def declared(self, scope: str) -> bool:
        return scope in self.universe


def read_models(
    data: Mapping[str, Any],
    location: Callable[[PathKey, bool], Location],
) -> tuple[tuple[ModelSpec, ...], list[tuple[Location, str, str]]]:
    """The service's models (one implicit model without `models:`), and what is wrong."""
    problems: list[tuple[Location, str, str]] = []
    shared = data.get("scopes") or {}
    declared_models = data.get("models") or {}
    names = list(declared_models) or [""]
    models: list[ModelSpec] = []
    for name in names:
        entries: dict[str, tuple[Any, PathKey]] = {
            scope: (spec, ("scopes", scope)) for scope, spec in shared.items()
        }
        own = (declared_models.get(name) or {}).get("scopes") or {} if name else {}
        for scope, spec in own.items():
            entries[scope] = (spec, ("models", name, "scopes", scope))
        scopes = []
        for scope, (spec, path) in entries.items():
            spec = spec or {}

            def implies_at(index: int, path: PathKey = path) -> Location:
                return location((*path, "implies", index), False)

            scopes.append(
                ScopeEntry(
                    name=scope,
                    description=str(spec.get("description", "")),
                    implies=tuple(spec.get("implies", ())),
                    location=location(path, True),
                    implies_location=implies_at,
                    sensitivity=int(spec.get("sensitivity", 1)),
                    legacy=str(spec.get("legacy", "")),
                    automatic=spec.get("automatic") is True,
                )
            )
        universe = ScopeUniverse({entry.name: entry.implies for entry in scopes})
        where = f" in model `{name}`" if name else ""
        for entry in scopes:
            for index, target in enumerate(entry.implies):
                if universe.undeclared(target):
                    problems.append(
                        (
                            entry.implies_location(index),
                            f"scope `{entry.name}` implies `{target}`, which is not declared"
                            f"{where} in `scopes`",
                            _suggest(target, universe.names),
                        )
                    )
            if entry.legacy and entry.legacy not in universe:
                problems.append(
                    (
                        location((*_scope_path(name, entry.name, own), "legacy"), False),
                        f"legacy scope `{entry.name}` is replaced by `{entry.legacy}`, which is "
                        f"not declared{where}",
                        _suggest(entry.legacy, universe.names),
                    )
                )
        over = universe.first_over(MAX_IMPLIED_SCOPES)
        if over is not None:
            scope, size = over
            entry = next(e for e in scopes if e.name == scope)
            problems.append(
                (
                    entry.location,
                    f"the scopes{where} imply more than {MAX_IMPLIED_SCOPES:,} scopes in all, "
                    f"counting each scope's implications transitively (`{scope}` alone reaches "
                    f"{size:,}): the checks walk them for every grant, so a long chain makes "
                    "them quadratic in its length",
                    "shorten the chains of `implies`: let a broad scope imply the narrower ones "
                    "directly, or split the service",
                )
            )
            universe = ScopeUniverse({entry.name: () for entry in scopes})
        if name and not scopes:
            problems.append(
                (
                    location(("models", name), True),
                    f"model `{name}` has no scopes",
                    "give it `scopes:`, or declare scopes shared by every model under `scopes:`",
                )
            )
        models.append(ModelSpec(name, tuple(sorted(scopes, key=lambda e: e.name)), universe))
    return tuple(models), problems


def _scope_path(model: str, scope: str, own: Mapping[str, Any]) -> PathKey:
    return ("models", model, "scopes", scope) if scope in own else ("scopes", scope)


def _suggest(name: str, known: Iterable[str]) -> str:
    import difflib

    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean `{close[0]}`?"
    return "known: " + ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")


def service_views(
    base: Service,
    models: tuple[ModelSpec, ...],
    requirements: list[tuple[Operation, dict[str, Operation]]],
) -> tuple[Service, ...]:
    """One Service per model; `requirements` gives each operation as it is in each model."""
    names = tuple(model.name for model in models if model.name)
    views = []
    for model in models:
        operations = tuple(
            per_model.get(model.name, operation) for operation, per_model in requirements
        )
        views.append(
            replace(
                base,
                operations=operations,
                universe=model.universe,
                scopes=tuple((entry.name, entry.description) for entry in model.scopes),
                scope_locations=tuple((entry.name, entry.location) for entry in model.scopes),
                sensitivity=tuple(
                    (entry.name, entry.sensitivity)
                    for entry in model.scopes
                    if entry.sensitivity > 1
                ),
                legacy=tuple((entry.name, entry.legacy) for entry in model.scopes if entry.legacy),
                automatic=tuple(entry.name for entry in model.scopes if entry.automatic),
                model=model.name,
                models=names,
            )
        )
    return tuple(views)


# -- which model a connector holds -----------------------------------------------------------


def model_of(workspace: Workspace, connector: str, service: str) -> str:
    """The permission model `connector` holds grants of `service` in ("" when it has one)."""
    found = workspace.index.connectors.get(connector)
    if found is not None:
        chosen = dict(found.credential.models).get(service)
        if chosen:
            return chosen
    try:
        return workspace.service(service).model
    except StopIteration:
        return ""


def service_for(workspace: Workspace, connector: str, service: str) -> Service:
    """`service` as `connector` sees it: the view of the model it holds grants in."""
    return workspace.service(service, model_of(workspace, connector, service))


def check_credential_models(
    models: Mapping[str, str],
    services: Mapping[str, Service],
    where: Callable[[str], Location],
) -> list[InputError]:
    """`credential.models` names services that have those models."""
    errors = []
    for service_name, model in models.items():
        service = services.get(service_name)
        if service is None:
            errors.append(
                InputError(
                    where(service_name),
                    f"`credential.models` names `{service_name}`, which is not a service",
                    _suggest(service_name, services),
                )
            )
        elif not service.models:
            errors.append(
                InputError(
                    where(service_name),
                    f"service `{service_name}` has one permission model; `{model}` is not one",
                    f"remove `{service_name}` from `credential.models`",
                )
            )
        elif model not in service.models:
            errors.append(
                InputError(
                    where(service_name),
                    f"`{model}` is not a permission model of `{service_name}`",
                    f"models of {service_name}: {', '.join(service.models)} "
                    f"({_suggest(model, service.models)})",
                )
            )
    return errors


def check_binding_models(workspace: Workspace) -> list[InputError]:
    """Every grant a binding holds exists in the model its connector holds for that service."""
    errors: dict[tuple[str, str], InputError] = {}
    for binding in workspace.bindings:
        errors.update(_binding_errors(workspace, binding))
    return list(errors.values())


def _binding_errors(workspace: Workspace, binding: Binding) -> dict[tuple[str, str], InputError]:
    found: dict[tuple[str, str], InputError] = {}
    for source in workspace.binding_grants(binding):
        service = workspace.service(source.service)
        if not service.models:
            continue
        model = model_of(workspace, binding.connector, source.service)
        if model not in service.models:
            continue  # the connector's `credential.models` names no model of it: reported there
        view = workspace.service(source.service, model)
        if not view.universe.undeclared(source.grant.scope):
            continue
        holders = [
            other.model
            for other in (service, *workspace.model_views)
            if other.name == service.name and not other.universe.undeclared(source.grant.scope)
        ]
        kind = "pattern" if is_pattern(source.grant.scope) else "scope"
        key = (str(source.location), binding.name)
        found[key] = InputError(
            source.location,
            f"binding {binding.name}: role `{source.role}` grants the {service.name} {kind} "
            f"`{source.grant.scope}`, but connector `{binding.connector}` holds {service.name}'s "
            f"`{model}` permission model, where it does not exist",
            f"grant a `{model}` scope instead ({_suggest(source.grant.scope, view.universe.names)}),"
            f" or set `credential: {{models: {{{service.name}: {holders[0] if holders else '...'}}}}}`"
            f" on connector `{binding.connector}`",
        )
    return found


def grant_in_some_model(views: Iterable[Service], grant: Grant) -> bool:
    """The grant's scope is declared in at least one model of the service."""
    return any(not view.universe.undeclared(grant.scope) for view in views)


def unavailable_everywhere(requirements: Iterable[Requirement]) -> bool:
    return all(requirement == Requirement.unavailable() for requirement in requirements)


def resource_kinds(service: Service) -> frozenset[str]:
    """The kinds of resource the service's arguments name (for a flow's `given:`)."""
    kinds: set[str] = set()
    for operation in service.operations:
        if operation.conditional is not None:
            kinds.update(a.resource for a in operation.conditional.arguments if a.resource)
        if operation.creates is not None:
            kinds.add(operation.creates.resource)
    return frozenset(kinds)
