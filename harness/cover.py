"""Minimum-breadth covers: the least broad set of grants that still allows a set of calls.

This is a generalised weighted set cover (each call needs any one of several
all-of scope sets), which is NP-hard. The instances that occur are small (tens
of scopes per service), so we solve them exactly by branch and bound: branch on
the grants that could supply the first unsatisfied scope of the first
unsatisfied call, prune any partial set already broader than the best found.
Past `NODE_BUDGET` search nodes we stop and use a greedy cover made 1-minimal
(no grant can be dropped); the result says which method produced it.

Hand-written rather than an ILP or SAT solver: instances of tens of scopes are solved
exactly within the check's time targets (bench/run.py), with no native dependency, and
the budget makes the worst case bounded and visible.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from harness.breadth import BreadthIndex
from harness.model import Operation, Service
from harness.scopes import Grant, Requirement

NODE_BUDGET = 20_000
CoverMethod = Literal["exact", "greedy"]  # solved exactly, or by the greedy fallback
EXACT: Final = "exact"
GREEDY: Final = "greedy"
OrderKey = tuple[int, int, int, int, tuple[str, ...]]
MAX_TOTALS = 65536  # breadths of grant sets kept per service view (shared by its bindings)


@dataclass(frozen=True, slots=True)
class Demand:
    """One distinct call to authorize: an operation touching some resources, and what this
    call of it needs (its conditions evaluated; the operation's requirement by default)."""

    operation: Operation
    resources: tuple[tuple[str, str], ...] = ()
    requirement: Requirement | None = None  # None: the operation's; set in __post_init__

    def __post_init__(self) -> None:
        if self.requirement is None:
            object.__setattr__(self, "requirement", self.operation.requires)

    @property
    def needs(self) -> Requirement:
        """What this call needs."""
        return self.requirement or self.operation.requires

    def preferring(self) -> Demand:
        """The demand for what to suggest: only the alternatives the vendor calls least
        privileged, where it says (Graph's `least=`); the demand itself otherwise."""
        least = self.operation.least
        if not least or self.needs is not self.operation.requires:
            return self
        kept = tuple(alternative for alternative in self.needs.any_of if alternative in least)
        return Demand(self.operation, self.resources, Requirement(kept)) if kept else self

    @property
    def resource_map(self) -> dict[str, str]:
        return dict(self.resources)

    def sort_key(self) -> tuple[str, str, tuple[tuple[str, str], ...], list[list[str]]]:
        return (
            self.operation.service,
            self.operation.id,
            self.resources,
            self.needs.to_data(),
        )


def preferred(demands: Iterable[Demand]) -> list[Demand]:
    """The demands as the suggestion sees them (see `Demand.preferring`)."""
    return [demand.preferring() for demand in demands]


@dataclass(frozen=True, slots=True)
class Cover:
    grants: tuple[Grant, ...]
    breadth: int
    method: CoverMethod
    unsatisfiable: tuple[Demand, ...] = ()  # calls no candidate can allow


class BreadthMeter:
    """Breadth of grant sets on one service: the risk-weighted count of operations they allow."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.universe = service.universe
        self._cache: dict[frozenset[Grant], int] = {}
        self._index: BreadthIndex | None = None
        shared = service.breadth.value
        if isinstance(shared, BreadthIndex):  # built by an earlier binding of this view
            self._index = shared
            self._cache = shared.totals

    def closure(self, grant: Grant) -> frozenset[str]:
        return self.universe.closure(grant.scope)

    def breadth(self, grants: Iterable[Grant]) -> int:
        """The weighted count of operation cases the grants allow (see harness.breadth)."""
        key = frozenset(grants)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self._index is None:
            self._index = BreadthIndex(self.service)
            self.service.breadth.value = self._index
            self._cache = self._index.totals
        total = self._index.breadth(key)
        if len(self._cache) >= MAX_TOTALS:
            self._cache.clear()
        self._cache[key] = total
        return total

    def usable(self, grants: Iterable[Grant], demand: Demand) -> set[str]:
        resources = demand.resource_map
        result: set[str] = set()
        for grant in grants:
            if grant.matches_resources(resources):
                result |= self.closure(grant)
        return result

    def satisfied_alternative(
        self, grants: Iterable[Grant], demand: Demand
    ) -> frozenset[str] | None:
        usable = self.usable(grants, demand)
        for alternative in demand.needs.any_of:
            if alternative <= usable:
                return alternative
        return None

    def allows_all(self, grants: Sequence[Grant], demands: Iterable[Demand]) -> bool:
        return all(self.satisfied_alternative(grants, demand) is not None for demand in demands)

    def order_key(self, grants: Iterable[Grant]) -> OrderKey:
        """Least breadth first; then fewer implied scopes, fewer unrestricted grants, fewer
        grants, alphabetical.

        Implied scopes break ties between scopes that allow the same operations of this
        service: `drive.readonly` implies `spreadsheets.readonly` because it also reaches
        Drive, so for a spreadsheet-only flow the narrower one wins.
        """
        grants = tuple(grants)
        implied: set[str] = set()
        for grant in grants:
            implied |= self.closure(grant)
        return (
            self.breadth(grants),
            len(implied),
            sum(1 for g in grants if not g.narrowing),
            len(grants),
            tuple(sorted(str(g) for g in grants)),
        )


def minimum_breadth_cover(
    meter: BreadthMeter,
    demands: Iterable[Demand],
    candidates: Iterable[Grant],
    fixed: Iterable[Grant] = (),
) -> Cover:
    """The least broad subset of `candidates` that, added to `fixed`, allows every demand."""
    fixed_grants = tuple(sorted(set(fixed)))
    pool = tuple(sorted(set(candidates) - set(fixed_grants)))
    wanted: list[Demand] = []
    impossible: list[Demand] = []
    everything = (*fixed_grants, *pool)
    for demand in sorted(set(demands), key=Demand.sort_key):
        if demand.needs.needs_no_scope:
            continue
        (
            wanted if meter.satisfied_alternative(everything, demand) is not None else impossible
        ).append(demand)
    search = _Search(meter, wanted, pool, fixed_grants)
    chosen, method = search.run()
    return Cover(
        tuple(sorted(chosen)), meter.breadth((*fixed_grants, *chosen)), method, tuple(impossible)
    )


class _Search:
    def __init__(
        self,
        meter: BreadthMeter,
        demands: list[Demand],
        pool: tuple[Grant, ...],
        fixed: tuple[Grant, ...],
    ) -> None:
        self.meter = meter
        self.demands = demands
        self.fixed = fixed
        self.pool = sorted(pool, key=lambda g: (meter.breadth([g]), str(g)))
        self.best: tuple[Grant, ...] | None = None
        self.best_key: OrderKey | None = None
        self.nodes = 0
        self.seen: set[frozenset[Grant]] = set()

    def run(self) -> tuple[tuple[Grant, ...], CoverMethod]:
        try:
            self._branch(())
        except _BudgetSpent:
            return self._greedy(), GREEDY
        return self.best or (), EXACT

    def _key(self, chosen: tuple[Grant, ...]) -> OrderKey:
        key = self.meter.order_key((*self.fixed, *chosen))
        return key

    def _branch(self, chosen: tuple[Grant, ...]) -> None:
        self.nodes += 1
        if self.nodes > NODE_BUDGET:
            raise _BudgetSpent
        current = (*self.fixed, *chosen)
        unsatisfied = next(
            (d for d in self.demands if self.meter.satisfied_alternative(current, d) is None), None
        )
        if unsatisfied is None:
            key = self._key(chosen)
            if self.best_key is None or key < self.best_key:
                self.best, self.best_key = chosen, key
            return
        usable = self.meter.usable(current, unsatisfied)
        resources = unsatisfied.resource_map
        for alternative in unsatisfied.needs.any_of:
            lacking = sorted(alternative - usable)
            if not lacking:
                continue
            needed = lacking[0]
            for grant in self.pool:
                if grant in chosen or needed not in self.meter.closure(grant):
                    continue
                if not grant.matches_resources(resources):
                    continue
                extended = tuple(sorted((*chosen, grant)))
                marker = frozenset(extended)
                if marker in self.seen:
                    continue
                self.seen.add(marker)
                if self.best_key is not None and self._key(extended)[:4] > self.best_key[:4]:
                    continue
                self._branch(extended)

    def _greedy(self) -> tuple[Grant, ...]:
        chosen: list[Grant] = []
        for demand in self.demands:
            current = (*self.fixed, *chosen)
            if self.meter.satisfied_alternative(current, demand) is not None:
                continue
            options = []
            for alternative in demand.needs.any_of:
                added = self._complete(alternative, demand, [*chosen])
                if added is not None:
                    options.append((self._key(tuple(added)), added))
            chosen = min(options)[1]
        # Drop redundant grants, broadest first, so the result is at least 1-minimal.
        for grant in sorted(chosen, key=lambda g: self.meter.breadth([g]), reverse=True):
            rest = [g for g in chosen if g != grant]
            if self.meter.allows_all((*self.fixed, *rest), self.demands):
                chosen = rest
        return tuple(sorted(chosen))

    def _complete(
        self, alternative: frozenset[str], demand: Demand, chosen: list[Grant]
    ) -> list[Grant] | None:
        resources = demand.resource_map
        for scope in sorted(alternative):
            if scope in self.meter.usable((*self.fixed, *chosen), demand):
                continue
            providers = [
                g
                for g in self.pool
                if scope in self.meter.closure(g) and g.matches_resources(resources)
            ]
            if not providers:
                return None
            chosen.append(
                min(providers, key=lambda g: self.meter.order_key((*self.fixed, *chosen, g)))
            )
        return chosen


class _BudgetSpent(Exception):
    """The exact search ran out of nodes; fall back to the greedy cover."""
