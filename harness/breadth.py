"""Breadth: how much a set of grants allows on one service, measured from the spec itself.

The breadth of a set is the risk-weighted number of operations it authorizes
(read 1, write 3, delete 5, admin 8). Two refinements follow what vendors say:

- An operation whose requirement depends on the call (harness.conditions) counts
  once per *case*: one per value of each argument its conditions name, one per
  listed value of a list argument, one per resource class a condition names plus
  one for other resources. `gmail.metadata` reaches the `metadata` and `minimal`
  cases of `messages.get`; `gmail.readonly` all four.
- A scope the vendor classes as sensitive multiplies the weight of what it reaches
  by its `sensitivity` (Google: non-sensitive 1, sensitive 2, restricted 4; Graph:
  privilegeLevel, doubled with admin consent). An operation reached by several
  grants counts at the factor of the most sensitive one, so adding a grant never
  makes a set narrower.

Operations are indexed once per service as bitmasks (one bit per case), so the
breadth of a set over a service of eleven thousand operations costs a few integer
operations per scope rather than a pass over every operation. Cases that need several
scopes at once are found through the first scope of each alternative, so a breadth
never walks the cases its grants cannot reach (ranking n grants one by one is not
quadratic).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.model import Service
from harness.scopes import Grant, Requirement, ScopeUniverse


@dataclass(frozen=True, slots=True)
class _Unit:
    """One case of one operation."""

    weight: int
    requirement: Requirement
    keys: frozenset[str]  # the resource keys the operation declares


class BreadthIndex:
    """The cases of a service's operations, indexed by the scopes that allow them alone."""

    def __init__(self, service: Service) -> None:
        self.universe: ScopeUniverse = service.universe
        units: list[_Unit] = []
        for operation in service.operations:
            keys = operation.resource_keys
            if operation.conditional is not None:
                for case in operation.conditional.cases:
                    if case is not None and not case.needs_no_scope:
                        units.append(_Unit(operation.weight, case, keys))
            elif not operation.requires.needs_no_scope:
                units.append(_Unit(operation.weight, operation.requires, keys))
        self.units = tuple(units)
        self.single: dict[str, int] = {}  # scope -> units it allows on its own
        self.combined: list[int] = []  # units with an alternative of several scopes
        self.anchored: dict[str, list[int]] = {}  # first scope of an alternative -> such units
        self.by_weight: dict[int, int] = {}
        self._key_masks: dict[frozenset[str], int] = {}
        for position, unit in enumerate(units):
            bit = 1 << position
            self.by_weight[unit.weight] = self.by_weight.get(unit.weight, 0) | bit
            for alternative in unit.requirement.any_of:
                if len(alternative) == 1:
                    (scope,) = alternative
                    self.single[scope] = self.single.get(scope, 0) | bit
            if any(len(alternative) > 1 for alternative in unit.requirement.any_of):
                self.combined.append(position)
                for alternative in unit.requirement.any_of:
                    self.anchored.setdefault(min(alternative), []).append(position)
        self.sensitivity = dict(service.sensitivity)
        self._factors: dict[str, int] = {}
        self._reach: dict[str, int] = {}
        self.totals: dict[frozenset[Grant], int] = {}  # grant set -> breadth (BreadthMeter's)

    def key_mask(self, keys: frozenset[str]) -> int:
        """Units whose operation declares every resource key in `keys`."""
        mask = self._key_masks.get(keys)
        if mask is None:
            mask = 0
            for position, unit in enumerate(self.units):
                if keys <= unit.keys:
                    mask |= 1 << position
            self._key_masks[keys] = mask
        return mask

    def factor(self, scope: str) -> int:
        """The sensitivity of a grant: the highest of the scopes it satisfies."""
        found = self._factors.get(scope)
        if found is None:
            found = max(
                (self.sensitivity.get(name, 1) for name in self.universe.closure(scope)), default=1
            )
            self._factors[scope] = found
        return found

    def reach(self, scope: str) -> int:
        """Units the scope allows on its own (through its closure), single-scope alternatives."""
        found = self._reach.get(scope)
        if found is None:
            found = 0
            for name in self.universe.closure(scope):
                found |= self.single.get(name, 0)
            self._reach[scope] = found
        return found

    def weigh(self, mask: int) -> int:
        return sum(weight * (mask & bits).bit_count() for weight, bits in self.by_weight.items())

    def breadth(self, grants: Iterable[Grant]) -> int:
        """The breadth of `grants`, in time linear in the grants' closures and the cases they
        reach: no step walks every grant per case, or every case of several scopes per grant,
        so ranking n grants one by one costs n log n (the sort), not n squared."""
        # The grants by the resource keys they are narrowed to (none: usable everywhere);
        # per key set, the scopes its grants satisfy and the highest sensitivity among the
        # grants that satisfy each of them. A case uses the groups whose keys it declares.
        groups: dict[frozenset[str], tuple[set[str], dict[str, int]]] = {}
        levels: dict[int, int] = {}  # sensitivity -> units allowed alone by grants of it
        for grant in grants:
            keys = frozenset(name for name, _ in grant.narrowing)
            mask = self.reach(grant.scope)
            if keys:
                mask &= self.key_mask(keys)
            factor = self.factor(grant.scope)
            levels[factor] = levels.get(factor, 0) | mask
            scopes, best = groups.setdefault(keys, (set(), {}))
            for name in self.universe.closure(grant.scope):
                scopes.add(name)
                if best.get(name, 0) < factor:
                    best[name] = factor
        authorized = 0
        for mask in levels.values():
            authorized |= mask
        extra = 0
        for position in self._combined_reached(groups):
            bit = 1 << position
            unit = self.units[position]
            usable = [group for keys, group in groups.items() if keys <= unit.keys]
            satisfied = [
                alternative
                for alternative in unit.requirement.any_of
                if all(any(name in scopes for scopes, _ in usable) for name in alternative)
            ]
            if not satisfied:
                continue
            factor = max(
                (
                    best[name]
                    for alternative in satisfied
                    for name in alternative
                    for _, best in usable
                    if name in best
                ),
                default=1,
            )
            if not authorized & bit:
                extra += unit.weight * factor
            else:  # also reached through a single scope: count it once, at the higher factor
                single = max((f for f, mask in levels.items() if mask & bit), default=1)
                if factor > single:
                    extra += unit.weight * (factor - single)
        if not self.sensitivity:
            return self.weigh(authorized) + extra
        total, remaining = 0, authorized
        for factor in sorted(levels, reverse=True):
            level = levels[factor] & remaining
            total += factor * self.weigh(level)
            remaining &= ~level
        return total + extra

    def _combined_reached(
        self, groups: dict[frozenset[str], tuple[set[str], dict[str, int]]]
    ) -> set[int]:
        """The units with an alternative of several scopes that the grants could satisfy: an
        alternative is satisfied only if its first scope is, so the units anchored at the
        scopes the grants reach are enough (a superset; the caller checks each)."""
        found: set[int] = set()
        if not self.anchored:
            return found
        for scopes, _ in groups.values():
            for name in scopes:
                positions = self.anchored.get(name)
                if positions is not None:
                    found.update(positions)
        return found


def operations_allowed(service: Service, grants: Iterable[Grant]) -> dict[str, int]:
    """The operations (`METHOD /path`) the grants allow in at least one case, with their
    weights: what a finding names when it says how much a narrower grant takes away."""
    grants = tuple(grants)
    universe = service.universe
    found: dict[str, int] = {}
    for operation in service.operations:
        usable: set[str] = set()
        for grant in grants:
            if {name for name, _ in grant.narrowing} <= operation.resource_keys:
                usable |= universe.closure(grant.scope)
        cases = (
            operation.conditional.cases
            if operation.conditional is not None
            else (operation.requires,)
        )
        for case in cases:
            if case is None or case.needs_no_scope:
                continue
            if any(alternative <= usable for alternative in case.any_of):
                found[f"{operation.method} {operation.path}"] = operation.weight
                break
    return found
