"""What one operation of a service spec needs, in each permission model of the service.

An operation's `requires:` (every model) or `requires_in: {MODEL: ...}` is read by
harness.workspace.condition_specs into an expression. An expression without conditions
becomes the plain `Requirement` the sandbox has always judged (the common path,
unchanged); one with conditions keeps the expression and its breadth cases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.conditions import (
    ConditionalRequirement,
    CreatesRule,
    Expression,
    RevealsRule,
    enumerate_cases,
    has_conditions,
    plain_requirement,
    specialise,
    summary,
)
from harness.permission_models import ModelSpec
from harness.scopes import Requirement
from harness.workspace.condition_specs import (
    OperationContext,
    parse_arguments,
    parse_creates,
    parse_requirement,
    parse_reveals,
)

PathKey = tuple[str | int, ...]
Fail = Callable[[PathKey, str, str], None]


@dataclass(frozen=True, slots=True)
class ModelRequirement:
    requires: Requirement  # the plain requirement, or every alternative of a conditional one
    conditional: ConditionalRequirement | None
    least: tuple[frozenset[str], ...] = ()  # the alternatives the vendor calls least privileged


@dataclass(frozen=True, slots=True)
class OperationRequirements:
    by_model: tuple[tuple[str, ModelRequirement], ...]  # in the service's model order
    creates: CreatesRule | None
    reveals: RevealsRule | None = None

    @property
    def default(self) -> ModelRequirement:
        return self.by_model[0][1]


def read_operation_requirements(
    operation: str,
    data: Mapping[str, Any],
    path_params: tuple[str, ...],
    models: tuple[ModelSpec, ...],
    value_maps: Mapping[str, Any],
    fail: Fail,
) -> OperationRequirements | None:
    """The operation's requirement in every model; None (after `fail`) when it is invalid."""
    failed = False

    def failing(path: PathKey, problem: str, hint: str) -> None:
        nonlocal failed
        failed = True
        fail(path, problem, hint)

    arguments = parse_arguments(data.get("arguments", {}), path_params, failing)
    broken = frozenset(data.get("arguments", {})) - frozenset(arguments)
    names = [model.name for model in models]
    per_model_data: dict[str, Any] = dict(data.get("requires_in") or {})
    for written in per_model_data:
        if written not in names:
            failing(
                ("requires_in", written),
                f"`{written}` is not a permission model of this service",
                f"models: {', '.join(n for n in names if n) or 'none (use `requires:`)'}",
            )
    if "requires" not in data and not per_model_data:
        failing(
            (),
            f"operation `{operation}` says nothing about what it requires",
            "add `requires:` (every model) or `requires_in: {MODEL: ...}`",
        )
    shared: Expression | None = None
    if "requires" in data:
        context = OperationContext(
            operation,
            path_params,
            arguments,
            value_maps,
            lambda scope: any(model.declared(scope) for model in models),
            tuple(sorted({s for model in models for s in model.universe.names})),
            broken,
        )
        shared = parse_requirement(data["requires"], ("requires",), context, failing)
    own: dict[str, Expression | None] = {}
    for model in models:
        if model.name not in per_model_data:
            continue
        context = OperationContext(
            operation,
            path_params,
            arguments,
            value_maps,
            model.declared,
            model.universe.names,
            broken,
        )
        own[model.name] = parse_requirement(
            per_model_data[model.name], ("requires_in", model.name), context, failing
        )
    creates = parse_creates(data["creates"], arguments, failing) if "creates" in data else None
    reveals = parse_reveals(data["reveals"], arguments, failing) if "reveals" in data else None
    if failed:
        return None
    least_data: dict[str, Any] = dict(data.get("least_in") or {})
    if "least" in data:
        least_data = {model.name: data["least"] for model in models}
    by_model = []
    for model in models:
        if model.name in own:
            expression = own[model.name]
        elif shared is not None:
            expression = specialise(shared, model.declared) if model.name else shared
        else:
            expression = None
        compiled = _compile(expression, arguments)
        if model.name in least_data:
            where = ("least_in", model.name) if "least_in" in data else ("least",)
            least = _least(least_data[model.name], compiled, where, failing)
            compiled = ModelRequirement(compiled.requires, compiled.conditional, least)
        by_model.append((model.name, compiled))
    if failed:
        return None
    return OperationRequirements(tuple(by_model), creates, reveals)


def _least(
    written: list[Any], compiled: ModelRequirement, where: PathKey, fail: Fail
) -> tuple[frozenset[str], ...]:
    """The least privileged alternatives, each one of the requirement's own."""
    found = []
    for index, item in enumerate(written):
        alternative = frozenset([item] if isinstance(item, str) else item)
        if compiled.conditional is not None or alternative not in compiled.requires.any_of:
            fail(
                (*where, index),
                f"`{' and '.join(sorted(alternative))}` is not an alternative of the "
                "operation's requirement",
                f"alternatives: {compiled.requires}",
            )
            continue
        found.append(alternative)
    return tuple(found)


def _compile(expression: Expression | None, arguments: Mapping[str, Any]) -> ModelRequirement:
    if expression is None:
        return ModelRequirement(Requirement.unavailable(), None)
    if not has_conditions(expression):
        plain = plain_requirement(expression)
        return ModelRequirement(plain if plain is not None else Requirement.unavailable(), None)
    cases = enumerate_cases(expression, arguments)
    conditional = ConditionalRequirement(expression, tuple(arguments.values()), cases)
    if all(case is None for case in cases):
        return ModelRequirement(Requirement.unavailable(), None)
    return ModelRequirement(summary(cases), conditional)


def requirement_of(data: Any) -> Requirement:
    """A plain requirement from its YAML form, without conditions (for callers that build
    operations themselves, e.g. SQL statements)."""
    if data == "none":
        return Requirement.public()
    if data == "authenticated":
        return Requirement.authenticated()
    if isinstance(data, str):
        return Requirement.single(data)
    if "all_of" in data:
        return Requirement((frozenset(data["all_of"]),))
    alternatives = tuple(
        frozenset([item]) if isinstance(item, str) else frozenset(item) for item in data["any_of"]
    )
    return Requirement(tuple(dict.fromkeys(alternatives)))
