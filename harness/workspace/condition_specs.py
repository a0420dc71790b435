"""Reading conditional requirements from a service spec, with located errors.

The YAML forms (docs/workspace.md, "Conditional requirements"):

    requires: SCOPE | none | authenticated | unavailable
            | {all_of: [REQ, ...]} | {any_of: [REQ | [SCOPE, ...], ...]}
            | {when: CONDITION, then: REQ, else: REQ}
            | {each: ARGUMENT, of: {VALUE: REQ, ...} | VALUE_MAP, otherwise: REQ}
    CONDITION: {ARGUMENT: [VALUE, ...] | {not: [VALUE, ...]} | {prefix: [TEXT, ...]}
                          | {class: [CLASS, ...]} | {count: {min: N, max: N}}
                          | absent | present, ...}     (every test must hold)
    arguments: {NAME: {in: query|body|path|header|any, default: VALUE | [VALUE, ...],
                       list: true, values: [VALUE, ...], resource: KIND}}

`parse_requirement` turns one of these into an expression (harness.conditions),
checks it against the operation's arguments and path, and bounds it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.arguments import MAX_LIST_VALUES, Argument, template_names
from harness.conditions import (
    MAX_ALTERNATIVES,
    AllOf,
    AnyOf,
    AnyToken,
    CreatesRule,
    Each,
    Expression,
    Impossible,
    Public,
    RevealsRule,
    Scope,
    Test,
    When,
    enumerate_cases,
)
from harness.errors import Location

PathKey = tuple[str | int, ...]
Fail = Callable[[PathKey, str, str], None]  # (path in the document, problem, hint)

_EXAMPLE_ARGUMENT = "e.g. `arguments: {format: {in: query, default: full}}`"


@dataclass(frozen=True, slots=True)
class OperationContext:
    """What a requirement of one operation may refer to."""

    operation: str
    path_params: tuple[str, ...]
    arguments: Mapping[str, Argument]
    value_maps: Mapping[str, Mapping[str, Any]]  # service-level maps, unparsed
    declared: Callable[[str], bool]  # is the scope declared (in some model)?
    known_scopes: tuple[str, ...]
    broken: frozenset[str] = frozenset()  # arguments whose declaration was refused already


def parse_arguments(
    data: Mapping[str, Any], path_params: tuple[str, ...], fail: Fail
) -> dict[str, Argument]:
    """`arguments:` of an operation."""
    result: dict[str, Argument] = {}
    for name, spec in data.items():
        source = spec.get("in", "query")
        template = str(spec.get("template", ""))
        if template:
            missing = [part for part in template_names(template) if part not in path_params]
            if source != "path" or missing or not template_names(template):
                fail(
                    ("arguments", name, "template"),
                    f"argument `{name}` is made of path parameters the path does not have"
                    if missing
                    else f"argument `{name}`: a template needs `in: path` and `{{parameters}}`",
                    f"path parameters here: {', '.join(path_params) or 'none'}; e.g. "
                    '`{in: path, template: "{owner}/{repo}"}`',
                )
                continue
        elif source == "path" and name not in path_params:
            fail(
                ("arguments", name, "in"),
                f"argument `{name}` is read from the path, but the path has no `{{{name}}}`",
                f"path parameters here: {', '.join(path_params) or 'none'}; "
                "read it from `query`, `body`, `header` or `any` instead",
            )
            continue
        default = spec.get("default")
        is_list = bool(spec.get("list", False))
        if isinstance(default, list) and not is_list:
            fail(
                ("arguments", name, "default"),
                f"argument `{name}` has a list as its default but is not a list argument",
                "add `list: true`, or give one value as the default",
            )
            continue
        values = tuple(str(v) for v in spec.get("values", ()))
        defaults = None
        if default is not None:
            defaults = tuple(str(v) for v in (default if isinstance(default, list) else [default]))
            unknown = [value for value in defaults if values and value not in values]
            if unknown:
                fail(
                    ("arguments", name, "default"),
                    f"the default `{unknown[0]}` of `{name}` is not one of its `values`",
                    f"values: {', '.join(values)}",
                )
                continue
        result[name] = Argument(
            name=name,
            source=source,
            default=defaults,
            is_list=is_list,
            values=values,
            resource=str(spec.get("resource", "")),
            template=template,
        )
    return result


class _Parser:
    def __init__(self, context: OperationContext, fail: Fail) -> None:
        self.context = context
        self.fail = fail
        self.ok = True

    def error(self, path: PathKey, problem: str, hint: str) -> None:
        self.ok = False
        self.fail(path, problem, hint)

    def expression(self, data: Any, path: PathKey, *, top: bool = False) -> Expression:
        if isinstance(data, str):
            if data == "authenticated":
                return AnyToken()
            if data == "none":
                if not top:
                    self.error(
                        path,
                        "`none` (a public operation) can only be the whole requirement",
                        "write `authenticated` for a branch any valid token passes",
                    )
                return Public()
            if data == "unavailable":
                if not top:
                    self.error(
                        path,
                        "`unavailable` (no grant of the permission model allows the operation) "
                        "can only be the whole requirement",
                        "write it as the whole requirement (`requires: unavailable`, or one "
                        "model's `requires_in: {MODEL: unavailable}`); leave a branch that allows "
                        "nothing out of its `any_of`",
                    )
                return Impossible()
            if not self.context.declared(data):
                self.error(
                    path,
                    f"operation `{self.context.operation}` requires `{data}`, which is not "
                    "declared in `scopes`",
                    _suggest(
                        data, (*self.context.known_scopes, "none", "authenticated", "unavailable")
                    ),
                )
            return Scope(data)
        if isinstance(data, list):  # an all-of alternative inside any_of
            return AllOf(tuple(self.expression(item, (*path, i)) for i, item in enumerate(data)))
        if "all_of" in data:
            items = data["all_of"]
            return AllOf(
                tuple(self.expression(item, (*path, "all_of", i)) for i, item in enumerate(items))
            )
        if "any_of" in data:
            items = data["any_of"]
            return AnyOf(
                tuple(self.expression(item, (*path, "any_of", i)) for i, item in enumerate(items))
            )
        if "when" in data:
            tests = self.condition(data["when"], (*path, "when"))
            then = self.expression(data["then"], (*path, "then"))
            otherwise = self.expression(data["else"], (*path, "else")) if "else" in data else None
            return When(tests, then, otherwise)
        return self.each(data, path)

    def each(self, data: Mapping[str, Any], path: PathKey) -> Expression:
        name = data["each"]
        argument = self.argument(name, (*path, "each"))
        if argument is None:
            return Impossible()
        if not argument.is_list:
            self.error(
                (*path, "each"),
                f"`each: {name}` needs a list argument, but `arguments.{name}` is not one",
                f"add `list: true` to `arguments.{name}` (values sent comma-separated, "
                "repeated or as a JSON list)",
            )
        if argument.default is None:
            self.error(
                (*path, "each"),
                f"`each: {name}` has no default: what a call without `{name}` needs is unknown",
                f"add the vendor's default to `arguments.{name}`, e.g. `default: [public_channel]`",
            )
        mapping = data["of"]
        where: PathKey = (*path, "of")
        if isinstance(mapping, str):
            maps = self.context.value_maps
            if mapping not in maps:
                self.error(
                    where,
                    f"`of: {mapping}` names no value map of this service",
                    _suggest(mapping, maps)
                    + " Value maps are declared under the service's `value_maps:`.",
                )
                return Impossible()
            where = ("value_maps", mapping)
            mapping = maps[mapping]
        cases = []
        for value, item in mapping.items():
            if argument.values and str(value) not in argument.values:
                self.error(
                    (*where, value),
                    f"`{value}` is not one of the values of `{name}`",
                    f"values: {', '.join(argument.values)}",
                )
            cases.append((str(value), self.expression(item, (*where, value))))
        otherwise = (
            self.expression(data["otherwise"], (*path, "otherwise"))
            if "otherwise" in data
            else None
        )
        return Each(name, tuple(cases), otherwise)

    def argument(self, name: str, path: PathKey) -> Argument | None:
        found = self.context.arguments.get(name)
        if found is None and name in self.context.broken:
            self.ok = False  # its declaration is reported already
        elif found is None:
            self.error(
                path,
                f"the requirement of `{self.context.operation}` depends on `{name}`, which is "
                "not an argument of the operation",
                f"declare it under the operation's `arguments:`, {_EXAMPLE_ARGUMENT}"
                + (
                    f" ({_suggest(name, self.context.arguments)})" if self.context.arguments else ""
                ),
            )
        return found

    def condition(self, data: Mapping[str, Any], path: PathKey) -> tuple[Test, ...]:
        tests = []
        for name, spec in data.items():
            where: PathKey = (*path, name)
            argument = self.argument(name, where)
            if argument is None:
                continue
            test = self.test(argument, spec, where)
            if test is not None:
                tests.append(test)
        return tuple(tests)

    def test(self, argument: Argument, spec: Any, where: PathKey) -> Test | None:
        name = argument.name
        if spec in ("absent", "present"):
            if argument.source == "path":
                self.error(
                    where,
                    f"`{name}` is a path parameter: it is always present",
                    "test its value instead, e.g. `[appDataFolder]`",
                )
            return Test(name, spec)
        if isinstance(spec, dict) and "class" in spec:
            if not argument.resource:
                self.error(
                    where,
                    f"`{name}` is tested for a resource class, but `arguments.{name}` names no "
                    "resource",
                    f"add `resource: KIND` to `arguments.{name}` (e.g. `resource: file`)",
                )
            return Test(name, "class", frozenset(str(v) for v in spec["class"]))
        if isinstance(spec, dict) and "count" in spec:
            return self.count(argument, spec["count"], (*where, "count"))
        if isinstance(spec, dict) and "prefix" in spec:
            if argument.default is None and argument.source != "path":
                self.error(
                    where,
                    f"the condition tests the value of `{name}`, but `arguments.{name}` has no "
                    "`default:`, so what a call without it needs is unknown",
                    f"add the vendor's default (`default: VALUE`), or test `{name}: present`",
                )
            return Test(name, "prefix", frozenset(str(v) for v in spec["prefix"]))
        kind, values = ("not_in", spec["not"]) if isinstance(spec, dict) else ("in", spec)
        return self.value_test(argument, kind, values, where)

    def count(self, argument: Argument, spec: Any, where: PathKey) -> Test | None:
        """`{count: {min: N, max: N}}`: how many distinct values a list argument holds."""
        name = argument.name
        if not argument.is_list:
            self.error(
                where,
                f"`{name}` is tested for how many values it holds, but `arguments.{name}` is "
                "not a list argument",
                f"add `list: true` to `arguments.{name}` (values sent comma-separated, "
                "repeated or as a JSON list)",
            )
        at_least = spec.get("min", 0) if isinstance(spec, Mapping) else None
        at_most = spec.get("max") if isinstance(spec, Mapping) else None
        if (
            not isinstance(spec, Mapping)
            or not ("min" in spec or "max" in spec)
            or not _is_count(at_least)
            or not (at_most is None or _is_count(at_most))
        ):
            self.error(
                where,
                f"the count test on `{name}` needs `min:` and/or `max:`, whole numbers from 0 "
                f"to {MAX_LIST_VALUES}",
                "e.g. `{count: {min: 2}}` (two or more values) or `{count: {max: 1}}`",
            )
            return None
        assert isinstance(at_least, int)
        if at_most is not None and at_least > at_most:
            self.error(
                where,
                f"the count test on `{name}` holds for no call: `min: {at_least}` is above "
                f"`max: {at_most}`",
                "swap them, or drop one bound",
            )
            return None
        return Test(name, "count", at_least=at_least, at_most=at_most)

    def value_test(self, argument: Argument, kind: str, values: Any, where: PathKey) -> Test:
        name = argument.name
        listed = frozenset(str(v) for v in values)
        if argument.default is None and argument.source != "path":
            self.error(
                where,
                f"the condition tests the value of `{name}`, but `arguments.{name}` has no "
                "`default:`, so what a call without it needs is unknown",
                f"add the vendor's default (`default: VALUE`, from its reference page), or "
                f"test `{name}: absent` / `{name}: present`",
            )
        unknown = sorted(
            value for value in listed if argument.values and value not in argument.values
        )
        if unknown:
            self.error(
                where,
                f"`{unknown[0]}` is not one of the values of `{name}`",
                f"values: {', '.join(argument.values)}",
            )
        return Test(name, kind, listed)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_LIST_VALUES


def parse_requirement(
    data: Any, path: PathKey, context: OperationContext, fail: Fail
) -> Expression | None:
    """The expression of `requires:` (or of one model's entry); None when it has errors."""
    parser = _Parser(context, fail)
    expression = parser.expression(data, path, top=True)
    if not parser.ok:
        return None
    size = _bound(expression)
    if size > MAX_ALTERNATIVES:
        fail(
            path,
            f"the requirement of `{context.operation}` can expand to {size} alternatives "
            f"(at most {MAX_ALTERNATIVES})",
            "split the operation, or give fewer alternatives per value",
        )
        return None
    try:
        enumerate_cases(expression, context.arguments)
    except ValueError as err:
        fail(path, f"the requirement of `{context.operation}` is too large: {err}", _CASES_HINT)
        return None
    return expression


_CASES_HINT = "test fewer arguments or values in one operation"


def _bound(expression: Expression) -> int:
    """How many alternatives the expression can produce at most (a static bound)."""
    if isinstance(expression, AnyOf):
        return sum(_bound(item) for item in expression.items)
    if isinstance(expression, AllOf):
        total = 1
        for item in expression.items:
            total *= _bound(item)
        return total
    if isinstance(expression, When):
        otherwise = 0 if expression.otherwise is None else _bound(expression.otherwise)
        return max(_bound(expression.then), otherwise)
    if isinstance(expression, Each):
        total = 1
        for _, item in expression.cases:
            total *= _bound(item)
        if expression.otherwise is not None:
            total *= _bound(expression.otherwise)
        return total
    return 0 if isinstance(expression, Impossible) else 1


def parse_creates(
    data: Mapping[str, Any], arguments: Mapping[str, Argument], fail: Fail
) -> CreatesRule | None:
    """`creates: {resource: KIND, id: response.json.PATH, classes: {CLASS: CONDITION}}`."""
    id_path = str(data.get("id", "response.json.id"))
    if not id_path.startswith("response.json."):
        fail(
            ("creates", "id"),
            f"`{id_path}` does not say where the new resource's id is in the answer",
            "write `id: response.json.id` (a path into the JSON answer)",
        )
        return None
    classes = []
    context = OperationContext("", (), arguments, {}, lambda scope: True, ())
    parser = _Parser(context, fail)
    for name, condition in data.get("classes", {}).items():
        if name in ("created", "given"):
            parser.error(
                ("creates", "classes", name),
                f"`{name}` is a built-in class",
                "name the class after the vendor's word for it, e.g. `appdata`",
            )
            continue
        classes.append((str(name), parser.condition(condition, ("creates", "classes", name))))
    if not parser.ok:
        return None
    used = {test.argument for _, tests in classes for test in tests}
    return CreatesRule(
        str(data["resource"]),
        tuple(id_path.split(".")[2:]),
        tuple(classes),
        tuple(arguments[name] for name in sorted(used)),
    )


def parse_reveals(
    data: Mapping[str, Any], arguments: Mapping[str, Argument], fail: Fail
) -> RevealsRule | None:
    """`reveals: {argument: NAME, classes: {CLASS: {response.json.PATH: [VALUE, ...]}}}`."""
    name = str(data.get("argument", ""))
    argument = arguments.get(name)
    if argument is None or not argument.resource:
        fail(
            ("reveals", "argument"),
            f"`{name}` is not a declared argument that names a resource",
            "name one of `arguments:` with `resource: KIND` (e.g. `repository`)",
        )
        return None
    classes = []
    ok = True
    for class_name, tests in (data.get("classes") or {}).items():
        if class_name in ("created", "given"):
            fail(
                ("reveals", "classes", class_name),
                f"`{class_name}` is a built-in class",
                "name the class after the vendor's word for it, e.g. `public`",
            )
            ok = False
            continue
        parsed = []
        for where, values in (tests or {}).items():
            if not str(where).startswith("response.json."):
                fail(
                    ("reveals", "classes", class_name, where),
                    f"`{where}` is not a place in the answer",
                    "write `response.json.PATH: [VALUE, ...]`, e.g. `response.json.private: [false]`",
                )
                ok = False
                continue
            listed = values if isinstance(values, list) else [values]
            texts = frozenset(_value_text(value) for value in listed)
            parsed.append((tuple(str(where).split(".")[2:]), texts))
        classes.append((str(class_name), tuple(parsed)))
    if not ok:
        return None
    return RevealsRule(argument, tuple(classes))


def _value_text(value: Any) -> str:
    """A JSON value as the argument readers write it: `false`, `true`, text."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def _suggest(name: str, known: Any) -> str:
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"did you mean `{close[0]}`?"
    if not names:
        return "none are declared"
    return "known: " + ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")


def location_of(
    where: Callable[[PathKey], Location], base: PathKey
) -> Callable[[PathKey], Location]:
    """A location function for paths relative to `base` (the operation in its document)."""
    return lambda path: where((*base, *path))
