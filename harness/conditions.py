"""Conditional requirements: a requirement that is a small expression over the call.

Vendors often make what a call needs depend on the call itself: Gmail's
`gmail.metadata` allows `messages.get` only with `format=metadata` or `minimal`
(the default is `full`); Slack's `conversations.list` needs the read scope of
every channel type listed in `types` (default `public_channel`); Drive's
`drive.file` reaches only files the app created or was given. Such a requirement
is an expression (this module) evaluated against the call and the replay's
state into the plain any-of/all-of `Requirement` that every other part of the
harness judges. Operations without conditions never come here.

Every evaluation is bounded: list arguments by `arguments.MAX_LIST_VALUES`, the
alternatives of a product by `MAX_ALTERNATIVES` (checked when the spec loads).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.arguments import MAX_LIST_VALUES, Argument, ArgumentProblem, CallArguments
from harness.scopes import Requirement

MAX_ALTERNATIVES = 256  # alternatives one evaluation may produce
MAX_CASES = 64  # cases an operation splits into for breadth
CREATED, GIVEN = "created", "given"  # built-in resource classes
OTHER_VALUE = "\x00other"  # a value no condition names (breadth cases only)
UNCLASSIFIED = "\x00unclassified"
CLASS_MARK = "\x00class:"  # a breadth case: a resource of this class

Alternatives = tuple[frozenset[str], ...]  # in the order the spec gives them


# -- the expression ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Test:
    """One test of a condition on one argument.

    kind: `in` (the value, or every listed value, is one of `values`), `not_in`,
    `prefix` (every value starts with one of `values`: a file under `.github/workflows/`),
    `absent`, `present`, `class` (the resource the value names has one of the
    classes in `values`: `created`, `given`, or one its creation assigned), or `count`
    (the list argument holds between `at_least` and `at_most` distinct values, as sent,
    else its default; absent with no default: 0): Slack's `conversations.open` opens a
    multi-person DM when `users` lists more than one ID.
    """

    argument: str
    kind: str
    values: frozenset[str] = frozenset()
    at_least: int = 0  # `count` only
    at_most: int | None = None  # `count` only; None: no upper bound

    def describe(self) -> str:
        if self.kind == "count":
            return f"{self.argument} holds {_count_text(self.at_least, self.at_most)} values"
        listed = ", ".join(sorted(self.values))
        return {
            "in": f"{self.argument} in [{listed}]",
            "not_in": f"{self.argument} not in [{listed}]",
            "prefix": f"{self.argument} starts with [{listed}]",
            "absent": f"{self.argument} absent",
            "present": f"{self.argument} present",
            "class": f"{self.argument} is a resource of class [{listed}]",
        }[self.kind]


def _count_text(at_least: int, at_most: int | None) -> str:
    if at_most is None:
        return f"at least {at_least}"
    if at_least == at_most:
        return f"exactly {at_least}"
    if at_least == 0:
        return f"at most {at_most}"
    return f"{at_least} to {at_most}"


@dataclass(frozen=True, slots=True)
class Scope:
    name: str


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class When:
    """`then` when every test holds; otherwise `otherwise` (None: this branch does not apply)."""

    tests: tuple[Test, ...]
    then: Expression
    otherwise: Expression | None = None


@dataclass(frozen=True, slots=True)
class Each:
    """Every value listed in a list argument needs its own requirement (all of them)."""

    argument: str
    cases: tuple[tuple[str, Expression], ...]
    otherwise: Expression | None = None  # for values not in `cases` (None: the vendor refuses them)


@dataclass(frozen=True, slots=True)
class Impossible:
    """Nothing in this permission model allows it."""


@dataclass(frozen=True, slots=True)
class AnyToken:
    """Any valid token, whatever its scopes (`authenticated`)."""


@dataclass(frozen=True, slots=True)
class Public:
    """No token needed (`none`); only ever a whole requirement."""


Expression = Scope | AllOf | AnyOf | When | Each | Impossible | AnyToken | Public


@dataclass(frozen=True, slots=True)
class CreatesRule:
    """An operation that creates a resource: its id, read from the answer, joins the replay's
    state with class `created` and any class whose argument test holds (`appdata` when
    `parents` lists `appDataFolder`)."""

    resource: str
    id_path: tuple[str, ...]  # response.json.PATH, split
    classes: tuple[tuple[str, tuple[Test, ...]], ...] = ()
    arguments: tuple[Argument, ...] = ()  # those the class tests read


@dataclass(frozen=True, slots=True)
class RevealsRule:
    """An operation whose answer tells a class of the resource it addresses: GitHub's
    repository (`private: false` in the answer of GET /repos/{owner}/{repo}) is `public`.
    The class joins the replay's state for that call and every later one."""

    argument: Argument  # the argument naming the resource (it has `resource:`)
    # class -> (JSON path in the answer, values that make it hold), every one of them
    classes: tuple[tuple[str, tuple[tuple[tuple[str, ...], frozenset[str]], ...]], ...]


@dataclass(frozen=True, slots=True)
class ConditionalRequirement:
    """The requirement of an operation in one permission model, as an expression."""

    expression: Expression
    arguments: tuple[Argument, ...]
    cases: tuple[Requirement | None, ...]  # one per case of the argument space (for breadth)
    # the evaluations of earlier calls, by what they read (`evaluate`); not part of the value
    memo: EvaluationMemo = field(
        default_factory=lambda: EvaluationMemo(), init=False, compare=False, hash=False, repr=False
    )

    def argument(self, name: str) -> Argument:
        return next(argument for argument in self.arguments if argument.name == name)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What a call needs: the concrete requirement (None: nothing in this model allows it),
    the argument values and conditions that decided it, or why the vendor refuses the call."""

    requirement: Requirement | None
    condition: str
    invalid: str = ""  # an argument value the vendor does not accept
    # a number no other Evaluation of this process has: what a cache keys it by (not
    # `id()`, an audit event every audit hook hears: harness.egress_guard); not its value
    serial: int = field(default_factory=lambda: next(_SERIALS), compare=False, repr=False)


_SERIALS: Iterator[int] = itertools.count(1)


# -- remembered evaluations ----------------------------------------------------------------
#
# An evaluation reads the call through two pure functions only: an argument's values
# (`CallArguments.values`) and the classes of a resource an argument names (the replay's
# state). Its result (requirement, condition text, refusal) is a function of what it read,
# and what it reads next is a function of what it has read so far. So the evaluations of
# one conditional requirement form a tree: each branch asks one question (the values of an
# argument, or the classes of one value), each answer leads on, and each leaf is the
# Evaluation every call giving those answers gets. A call walks the tree asking the same
# questions of its own arguments and state; where no branch matches its answer, it is
# evaluated in full and its path added. Nothing is remembered that the call does not
# decide: a call answering differently anywhere takes another path.

MAX_REMEMBERED = 1024  # evaluations remembered per conditional requirement; later ones are not


class _Branch:
    """One question of the evaluation tree: the values of `argument` (`value` None), or the
    classes of the resource `value` of `argument` names; `answers` leads on by the answer."""

    __slots__ = ("answers", "argument", "value")

    def __init__(self, argument: Argument, value: str | None) -> None:
        self.argument = argument
        self.value = value
        self.answers: dict[Any, _Branch | Evaluation] = {}


class EvaluationMemo:
    """The evaluation tree of one conditional requirement (see above); empty when pickled."""

    __slots__ = ("root", "size")

    def __init__(self) -> None:
        self.root: _Branch | Evaluation | None = None
        self.size = 0

    def __reduce__(self) -> tuple[type[EvaluationMemo], tuple[()]]:
        return (EvaluationMemo, ())

    def find(
        self,
        arguments: CallArguments,
        classes: Callable[[Argument, str], frozenset[str]],
    ) -> Evaluation | None:
        """The remembered evaluation of a call that answers every question as an earlier
        call did, or None."""
        node = self.root
        while node is not None:
            if isinstance(node, Evaluation):
                return node
            if node.value is None:
                try:
                    answer: Any = arguments.values(node.argument)
                except ArgumentProblem as problem:
                    answer = str(problem)
            else:
                answer = classes(node.argument, node.value)
            node = node.answers.get(answer)
        return None

    def remember(self, path: list[tuple[Argument, str | None, Any]], found: Evaluation) -> None:
        """Add the evaluation reached by the questions and answers of `path`."""
        if self.size >= MAX_REMEMBERED:
            return
        parent: _Branch | None = None
        answered: Any = None
        node = self.root
        for argument, value, answer in path:
            if node is None:
                node = _Branch(argument, value)
                if parent is None:
                    self.root = node
                else:
                    parent.answers[answered] = node
            elif not (
                isinstance(node, _Branch) and node.argument is argument and node.value == value
            ):
                return  # evaluation is deterministic: never reached; nothing is overwritten
            parent, answered = node, answer
            node = node.answers.get(answer)
        if node is not None:
            return
        if parent is None:
            self.root = found
        else:
            parent.answers[answered] = found
        self.size += 1


# -- evaluation ----------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Context:
    """Argument values of one call (or of one breadth case), read once each."""

    def __init__(
        self,
        conditional: ConditionalRequirement,
        read: Callable[[Argument], tuple[str, ...] | None],
        classes: Callable[[Argument, str], frozenset[str]],
    ) -> None:
        self.conditional = conditional
        self._read = read
        self._classes = classes
        self.values: dict[str, tuple[str, ...] | None] = {}
        self.sent: dict[str, bool] = {}

    def value(self, name: str) -> tuple[str, ...] | None:
        """The values of `name` as sent, else its default (None: absent, no default)."""
        if name not in self.values:
            argument = self.conditional.argument(name)
            sent = self._read(argument)
            self.sent[name] = sent is not None
            if sent is None:
                sent = argument.default
            elif argument.values:
                unknown = [value for value in sent if value not in argument.values]
                if unknown:
                    raise _Refused(
                        f"`{name}={unknown[0]}` is not a value the vendor accepts "
                        f"({', '.join(argument.values)})"
                    )
            self.values[name] = sent
        return self.values[name]

    def holds(self, test: Test) -> bool:
        values = self.value(test.argument)
        if test.kind == "absent":
            return not self.sent[test.argument]
        if test.kind == "present":
            return self.sent[test.argument]
        if test.kind == "count":
            count = 0 if values is None else len(values)
            return test.at_least <= count and (test.at_most is None or count <= test.at_most)
        if values is None:  # rejected when the spec loads; kept safe here
            return False
        if test.kind == "in":
            return all(value in test.values for value in values)
        if test.kind == "not_in":
            return not any(value in test.values for value in values)
        if test.kind == "prefix":
            return all(value.startswith(tuple(test.values)) for value in values)
        argument = self.conditional.argument(test.argument)
        return all(bool(self._classes(argument, value) & test.values) for value in values)

    def describe(self) -> str:
        parts = []
        for name in sorted(self.values):
            values = self.values[name]
            if values is None:
                parts.append(f"{name} absent")
                continue
            text = f"{name}={','.join(values)}"
            if not self.sent[name]:
                text += " (default)"
            argument = self.conditional.argument(name)
            if argument.resource:
                found = sorted(set().union(*(self._classes(argument, v) for v in values)))
                text += f" [{', '.join(found) or 'pre-existing, not given'}]"
            parts.append(text)
        return "; ".join(parts)


def _product(left: Alternatives, right: Alternatives) -> Alternatives:
    combined = tuple(dict.fromkeys(a | b for a in left for b in right))
    if len(combined) > MAX_ALTERNATIVES:
        raise _Refused(f"the requirement expands to more than {MAX_ALTERNATIVES} alternatives")
    return combined


def _absorb(alternatives: Iterable[frozenset[str]]) -> Alternatives:
    """Alternatives without repeats, and without one that includes another: any-of (A) or
    (A and B) is just A. The order given is kept."""
    unique = tuple(dict.fromkeys(alternatives))
    return tuple(a for a in unique if not any(other < a for other in unique))


def _evaluate(expression: Expression, context: _Context) -> Alternatives | None:
    if isinstance(expression, Scope):
        return (frozenset([expression.name]),)
    if isinstance(expression, (AnyToken, Public)):
        return (frozenset(),)
    if isinstance(expression, Impossible):
        return None
    if isinstance(expression, AllOf):
        result: Alternatives = (frozenset(),)
        for item in expression.items:
            found = _evaluate(item, context)
            if found is None:
                return None
            result = _product(result, found)
        return result
    if isinstance(expression, AnyOf):
        union: list[frozenset[str]] = []
        for item in expression.items:
            found = _evaluate(item, context)
            if found is not None:
                union.extend(found)
        return tuple(dict.fromkeys(union)) if union else None
    if isinstance(expression, When):
        if all(context.holds(test) for test in expression.tests):
            return _evaluate(expression.then, context)
        return None if expression.otherwise is None else _evaluate(expression.otherwise, context)
    values = context.value(expression.argument) or ()
    cases = dict(expression.cases)
    result = (frozenset(),)
    for value in values:
        chosen = cases.get(value, expression.otherwise)
        if chosen is None:
            raise _Refused(
                f"`{expression.argument}={value}` is not a value the vendor accepts "
                f"({', '.join(cases)})"
            )
        found = _evaluate(chosen, context)
        if found is None:
            return None
        result = _product(result, found)
    return _absorb(result)


def _requirement(alternatives: Alternatives | None) -> Requirement | None:
    if alternatives is None:
        return None
    return Requirement(alternatives)


def evaluate(
    conditional: ConditionalRequirement,
    arguments: CallArguments,
    classes: Callable[[Argument, str], frozenset[str]] = lambda argument, value: frozenset(),
) -> Evaluation:
    """The concrete requirement of one call (None when nothing in the model allows it);
    remembered by what the evaluation read (`EvaluationMemo`)."""
    memo = conditional.memo
    remembered = memo.find(arguments, classes)
    if remembered is not None:
        return remembered
    # every question the evaluation asks, once, in order, with the call's answer
    path: list[tuple[Argument, str | None, Any]] = []
    asked: set[tuple[str, str | None]] = set()

    def read(argument: Argument) -> tuple[str, ...] | None:
        question = (argument.name, None)
        try:
            found = arguments.values(argument)
        except ArgumentProblem as problem:
            if question not in asked:
                asked.add(question)
                path.append((argument, None, str(problem)))
            raise
        if question not in asked:
            asked.add(question)
            path.append((argument, None, found))
        return found

    def classes_of(argument: Argument, value: str) -> frozenset[str]:
        found = classes(argument, value)
        question = (argument.name, value)
        if question not in asked:
            asked.add(question)
            path.append((argument, value, found))
        return found

    context = _Context(conditional, read, classes_of)
    try:
        found = _evaluate(conditional.expression, context)
    except (_Refused, ArgumentProblem) as refused:
        message = refused.message if isinstance(refused, _Refused) else str(refused)
        evaluation = Evaluation(None, context.describe(), message)
    else:
        requirement = _requirement(None if found is None else _absorb(found))
        evaluation = Evaluation(requirement, context.describe())
    memo.remember(path, evaluation)
    return evaluation


def assigned_classes(rule: CreatesRule, arguments: CallArguments) -> frozenset[str]:
    """The classes a created resource gets from the call that created it."""
    if not rule.classes:
        return frozenset()
    context = _Context(
        ConditionalRequirement(Impossible(), rule.arguments, ()),
        arguments.values,
        _case_class,
    )
    found = set()
    for name, tests in rule.classes:
        try:
            if all(context.holds(test) for test in tests):
                found.add(name)
        except (_Refused, ArgumentProblem):
            continue
    return frozenset(found)


# -- the cases of an operation, for breadth ------------------------------------------------


def _referenced(expression: Expression) -> Iterable[tuple[str, Test | None]]:
    """(argument, test) pairs of the expression; `Each` arguments come with None."""
    if isinstance(expression, (AllOf, AnyOf)):
        for item in expression.items:
            yield from _referenced(item)
    elif isinstance(expression, When):
        for test in expression.tests:
            yield test.argument, test
        yield from _referenced(expression.then)
        if expression.otherwise is not None:
            yield from _referenced(expression.otherwise)
    elif isinstance(expression, Each):
        yield expression.argument, None
        for _, item in expression.cases:
            yield from _referenced(item)
        if expression.otherwise is not None:
            yield from _referenced(expression.otherwise)


def _case_values(
    argument: Argument, tests: list[Test | None], each_keys: list[str], each_other: bool
) -> list[tuple[str, ...] | None]:
    """Representative values of one argument: one per value any test or map names, one for
    every other value (unless the vendor's values are listed), and absence where it matters."""
    if each_keys or any(test is None for test in tests):
        keys = list(dict.fromkeys(each_keys))
        points: list[tuple[str, ...] | None] = [(key,) for key in keys]
        if each_other:
            points.append((OTHER_VALUE,))
        return points + _count_points(argument, tests, keys, others=each_other)
    named: set[str] = set()
    classes: set[str] = set()
    for test in tests:
        if test is None:
            continue
        if test.kind == "class":
            classes |= test.values
        elif test.kind in ("in", "not_in"):
            named |= test.values
        elif test.kind == "prefix":  # a value under each prefix stands for all of them
            named |= {prefix + OTHER_VALUE for prefix in test.values}
    if argument.resource:
        values: list[tuple[str, ...] | None] = [
            (f"{CLASS_MARK}{name}",) for name in sorted(classes)
        ]
        values += [(value,) for value in sorted(named)] + [(UNCLASSIFIED,)]
    elif argument.values:
        values = [(value,) for value in argument.values]
    else:
        values = [*((value,) for value in sorted(named)), (OTHER_VALUE,)]
    if argument.default is None and argument.source != "path":
        values.append(None)
    pool = list(argument.values) if argument.values else []
    return values + _count_points(argument, tests, pool, others=not argument.values)


def _count_points(
    argument: Argument, tests: list[Test | None], pool: list[str], *, others: bool
) -> list[tuple[str, ...] | None]:
    """Values of a list argument holding each number of values a `count` test tells apart
    (every bound and its neighbours, two or more: one value and absence are cases already),
    drawn from `pool` and then made-up values when the vendor accepts others."""
    counts: set[int] = set()
    for test in tests:
        if test is not None and test.kind == "count":
            counts |= {test.at_least - 1, test.at_least}
            if test.at_most is not None:
                counts |= {test.at_most, test.at_most + 1}
    made_up = UNCLASSIFIED if argument.resource else OTHER_VALUE
    points: list[tuple[str, ...] | None] = []
    for count in sorted(n for n in counts if 2 <= n <= MAX_LIST_VALUES):
        chosen = pool[:count]
        if len(chosen) < count and others:
            chosen += [f"{made_up}{index}" for index in range(count - len(chosen))]
        if len(chosen) == count:
            points.append(tuple(chosen))
    return points


def enumerate_cases(
    expression: Expression, arguments: Mapping[str, Argument]
) -> tuple[Requirement | None, ...]:
    """The concrete requirement of every case of the argument space (ValueError past
    MAX_CASES); an operation counts once per case in breadth."""
    tests: dict[str, list[Test | None]] = {}
    each: dict[str, tuple[list[str], bool]] = {}
    for name, test in _referenced(expression):
        tests.setdefault(name, []).append(test)
    _each_keys(expression, each)
    names = sorted(tests)
    axes = []
    for name in names:
        keys, other = each.get(name, ([], False))
        axes.append(_case_values(arguments[name], tests[name], keys, other))
    total = 1
    for axis in axes:
        total *= len(axis)
    if total > MAX_CASES:
        raise ValueError(f"its conditions split it into {total} cases, more than {MAX_CASES}")
    conditional = ConditionalRequirement(expression, tuple(arguments.values()), ())
    results: list[Requirement | None] = []
    for point in itertools.product(*axes) if axes else [()]:
        chosen = dict(zip(names, point, strict=True))

        def read(
            argument: Argument, chosen: dict[str, tuple[str, ...] | None] = chosen
        ) -> tuple[str, ...] | None:
            return chosen.get(argument.name)

        context = _Context(conditional, read, _case_class)
        try:
            found = _evaluate(expression, context)
            results.append(_requirement(None if found is None else _absorb(found)))
        except _Refused:
            results.append(None)
    return tuple(results)


def _each_keys(expression: Expression, found: dict[str, tuple[list[str], bool]]) -> None:
    if isinstance(expression, (AllOf, AnyOf)):
        for item in expression.items:
            _each_keys(item, found)
    elif isinstance(expression, When):
        _each_keys(expression.then, found)
        if expression.otherwise is not None:
            _each_keys(expression.otherwise, found)
    elif isinstance(expression, Each):
        keys, other = found.get(expression.argument, ([], False))
        keys.extend(value for value, _ in expression.cases)
        found[expression.argument] = (keys, other or expression.otherwise is not None)
        for _, item in expression.cases:
            _each_keys(item, found)


def summary(cases: Iterable[Requirement | None]) -> Requirement:
    """Every alternative any case may need: the static view of a conditional requirement
    (used only where no call is at hand, e.g. a hint naming what the operation can take)."""
    alternatives: set[frozenset[str]] = set()
    for case in cases:
        if case is not None:
            alternatives.update(case.any_of)
    if not alternatives:
        return Requirement.authenticated()
    return Requirement(tuple(sorted(_absorb(alternatives), key=lambda a: (len(a), sorted(a)))))


def specialise(expression: Expression, declared: Callable[[str], bool]) -> Expression:
    """The expression in one permission model: scopes the model lacks cannot be held."""
    if isinstance(expression, Scope):
        return expression if declared(expression.name) else Impossible()
    if isinstance(expression, AllOf):
        return AllOf(tuple(specialise(item, declared) for item in expression.items))
    if isinstance(expression, AnyOf):
        return AnyOf(tuple(specialise(item, declared) for item in expression.items))
    if isinstance(expression, When):
        otherwise = expression.otherwise
        return When(
            expression.tests,
            specialise(expression.then, declared),
            None if otherwise is None else specialise(otherwise, declared),
        )
    if isinstance(expression, Each):
        return Each(
            expression.argument,
            tuple((value, specialise(item, declared)) for value, item in expression.cases),
            None if expression.otherwise is None else specialise(expression.otherwise, declared),
        )
    return expression


def _case_class(argument: Argument, value: str) -> frozenset[str]:
    """The class a breadth case stands for."""
    return frozenset([value[len(CLASS_MARK) :]]) if value.startswith(CLASS_MARK) else frozenset()


def has_conditions(expression: Expression) -> bool:
    if isinstance(expression, (When, Each)):
        return True
    if isinstance(expression, (AllOf, AnyOf)):
        return any(has_conditions(item) for item in expression.items)
    return False


def plain_requirement(expression: Expression) -> Requirement | None:
    """The requirement of an expression without conditions (None: impossible), its
    alternatives in the order written."""
    if isinstance(expression, Public):
        return Requirement.public()
    context = _Context(ConditionalRequirement(expression, (), ()), lambda a: None, _case_class)
    return _requirement(_evaluate(expression, context))
