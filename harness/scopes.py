"""Scopes, grants, requirements and implication: where scopes are compared.

A *scope* is a permission string spelled as the vendor spells it. A *grant* is a
scope given to a connector, optionally narrowed to resources
(`chat:write:bot@channel=C123`). A *requirement* is any-of alternatives, each an
all-of set of scopes. Implication (`write` includes `read`, `admin` includes
everything, `crm.*` patterns) is resolved once per service into a closure: the
set of declared scopes that a scope satisfies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

# What an operation needs in a permission model that cannot call it: a "scope" no grant can
# hold (no scope name has a control character), so every judgement treats it as any other
# requirement; no output shows it (`Requirement.__str__`, `to_data`, `needs_text`).
UNAVAILABLE = "\x00unavailable"

_NARROWING = re.compile(
    r"^(?P<scope>.+?)@(?P<constraints>[A-Za-z_][\w.-]*=[^,]+(,[A-Za-z_][\w.-]*=[^,]+)*)$"
)


def is_pattern(scope: str) -> bool:
    """A scope with a `*` is a pattern over the service's scope names."""
    return "*" in scope


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """One scope given to a connector, optionally narrowed to resources (glob values)."""

    scope: str
    narrowing: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> Grant:
        match = _NARROWING.match(text)
        if not match:
            return cls(text)
        pairs = (item.split("=", 1) for item in match["constraints"].split(","))
        return cls(
            match["scope"], tuple(sorted((key.strip(), value.strip()) for key, value in pairs))
        )

    def matches_resources(self, resources: Mapping[str, str]) -> bool:
        """True when every narrowing key is present in the call and its value matches."""
        for key, pattern in self.narrowing:
            value = resources.get(key)
            if value is None or not fnmatchcase(value, pattern):
                return False
        return True

    def __str__(self) -> str:
        if not self.narrowing:
            return self.scope
        return self.scope + "@" + ",".join(f"{key}={value}" for key, value in self.narrowing)


@dataclass(frozen=True, slots=True)
class Requirement:
    """What an operation needs: any one of `any_of`, each alternative needing all its scopes.

    An empty `any_of` means the operation is public; an empty alternative, that any valid
    token is enough (`requires: authenticated`).
    """

    any_of: tuple[frozenset[str], ...]

    @classmethod
    def single(cls, scope: str) -> Requirement:
        return cls((frozenset([scope]),))

    @classmethod
    def public(cls) -> Requirement:
        return cls(())

    @classmethod
    def authenticated(cls) -> Requirement:
        """Any valid token for the service, whatever its scopes: one empty alternative."""
        return cls((frozenset(),))

    @classmethod
    def unavailable(cls) -> Requirement:
        """Nothing in the permission model allows the operation."""
        return cls((frozenset([UNAVAILABLE]),))

    @property
    def is_public(self) -> bool:
        return not self.any_of

    @property
    def is_unavailable(self) -> bool:
        """Nothing in the permission model allows the operation (see `unavailable`)."""
        return len(self.any_of) == 1 and UNAVAILABLE in self.any_of[0]

    @property
    def needs_no_scope(self) -> bool:
        """Public, or open to any valid token (an API whose tokens carry no scopes)."""
        return not self.any_of or frozenset() in self.any_of

    def scopes(self) -> frozenset[str]:
        return frozenset().union(*self.any_of)

    def __str__(self) -> str:
        if self.is_public:
            return "none (public)"
        if self.is_unavailable:
            return "no scope of this permission model"
        if frozenset() in self.any_of:
            return "a valid token (any scopes)"
        parts = []
        for alternative in self.any_of:
            names = sorted(alternative)
            text = " and ".join(names)
            parts.append(f"({text})" if len(names) > 1 and len(self.any_of) > 1 else text)
        return " or ".join(parts)

    def to_data(self) -> list[list[str]]:
        """The JSON form: a list of alternatives, each a sorted list of scopes (none, for an
        operation not available in the permission model: see `needs_text`)."""
        if self.is_unavailable:
            return []
        return [sorted(alternative) for alternative in self.any_of]


def needs_text(requirement: Requirement, model: str) -> str:
    """`requires X or Y`, or for an operation no grant of the model can allow, `is not
    available to a `bot` token` (`an `app` token`; "this token" for a service with one)."""
    if requirement.is_unavailable:
        article = "an" if model[:1].lower() in "aeio" else "a"  # a `user` token, an `app` token
        holder = f"{article} `{model}` token" if model else "this token"
        return f"is not available to {holder}"
    return f"requires {requirement}"


class ScopeUniverse:
    """The declared scopes of one service and what each one satisfies."""

    def __init__(self, implies: Mapping[str, Iterable[str]]) -> None:
        self.names: tuple[str, ...] = tuple(sorted(implies))
        self._implies = {name: tuple(implies[name]) for name in self.names}
        self._closures: dict[str, frozenset[str]] = {}

    def __contains__(self, scope: str) -> bool:
        return scope in self._implies

    def expand(self, scope: str) -> frozenset[str]:
        """Declared scopes named by `scope`: itself, or all matches of a pattern."""
        if scope in self._implies:
            return frozenset([scope])
        if is_pattern(scope):
            return frozenset(name for name in self.names if fnmatchcase(name, scope))
        return frozenset()

    def closure(self, scope: str) -> frozenset[str]:
        """Every declared scope that `scope` satisfies, following implications transitively."""
        cached = self._closures.get(scope)
        if cached is not None:
            return cached
        seen: set[str] = set()
        pending = list(self.expand(scope))
        if scope in self._implies or is_pattern(scope):
            seen.add(scope)  # a scope, or a pattern, always satisfies itself
        while pending:
            name = pending.pop()
            if name in seen and name != scope:
                continue
            seen.add(name)
            for implied in self._implies.get(name, ()):
                pending.extend(self.expand(implied) - seen)
        result = frozenset(seen)
        self._closures[scope] = result
        return result

    def first_over(self, budget: int) -> tuple[str, int] | None:
        """The scope (and its closure's size) at which the closures of every declared scope,
        taken in order, add up to more than `budget` scopes; None when they do not. Stops
        there, so a chain of `implies` thousands long costs about `budget` steps to refuse
        rather than the square of its length."""
        total = 0
        for name in self.names:
            size = len(self.closure(name))
            total += size
            if total > budget:
                return name, size
        return None

    def undeclared(self, scope: str) -> bool:
        """True when `scope` names nothing in this service (a typo or a foreign scope)."""
        return not self.expand(scope)

    def implied_by(self, scope: str) -> tuple[str, ...]:
        """The declared scopes whose closure contains `scope`, i.e. that would satisfy it."""
        return tuple(name for name in self.names if scope in self.closure(name))


@dataclass(frozen=True, slots=True)
class GrantSet:
    """The grants of one binding on one service, prepared for fast authorization."""

    grants: tuple[Grant, ...]
    closures: tuple[frozenset[str], ...]
    unrestricted: frozenset[str]  # scopes satisfied without any resource condition
    has_narrowing: bool

    @classmethod
    def build(cls, grants: Iterable[Grant], universe: ScopeUniverse) -> GrantSet:
        ordered = tuple(sorted(set(grants)))
        closures = tuple(universe.closure(grant.scope) for grant in ordered)
        unrestricted = frozenset().union(
            *(
                closure
                for grant, closure in zip(ordered, closures, strict=True)
                if not grant.narrowing
            )
        )
        return cls(ordered, closures, unrestricted, any(grant.narrowing for grant in ordered))

    def satisfied(self, resources: Mapping[str, str]) -> frozenset[str]:
        """Scopes satisfied for a call touching `resources`."""
        if not self.has_narrowing:
            return self.unrestricted
        result = set(self.unrestricted)
        for grant, closure in zip(self.grants, self.closures, strict=True):
            if grant.narrowing and grant.matches_resources(resources):
                result |= closure
        return frozenset(result)

    def allows(self, requirement: Requirement, resources: Mapping[str, str]) -> int | None:
        """Index of the first satisfied alternative, -1 for a public operation, None if denied."""
        if requirement.is_public:
            return -1
        unrestricted = self.unrestricted
        for index, alternative in enumerate(requirement.any_of):
            if alternative <= unrestricted:
                return index
        if self.has_narrowing:
            satisfied = self.satisfied(resources)
            for index, alternative in enumerate(requirement.any_of):
                if alternative <= satisfied:
                    return index
        return None

    def grants_for(
        self, alternative: frozenset[str], resources: Mapping[str, str]
    ) -> tuple[Grant, ...]:
        """The grants that take part in satisfying `alternative` for this call."""
        return tuple(
            grant
            for grant, closure in zip(self.grants, self.closures, strict=True)
            if closure & alternative and grant.matches_resources(resources)
        )
