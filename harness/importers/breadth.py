"""Which vendor scope is broader, inferred from the operations each one authorizes.

Vendors publish, per operation, the scopes that allow it; they rarely say that
`drive` includes `drive.readonly`. We infer it: scope A is broader than scope B
when every operation B authorizes on its own is also authorized by A, and A
authorizes at least one more. Operations of *context* documents (other APIs of
the same vendor) count too: across Google APIs `drive.readonly` reaches Drive
files as well as spreadsheets, so it is broader than `spreadsheets.readonly`
although inside the Sheets API the two allow the same calls.

The strict-superset order is written as `implies` edges, transitively reduced
(A implies B only when no C lies between them). An edge is only inferred where
it cannot change what a grant allows: B never takes part in an all-of
alternative (alone it proves nothing about combinations), and nor does any
scope B already implies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

Alternatives = tuple[tuple[str, ...], ...]  # any-of, each alternative all-of; () is public
ANY_CREDENTIAL: Alternatives = ((),)  # one empty alternative: any credential, no scope


class ScopeReach:
    """The operations each declared scope authorizes alone, following declared implications."""

    def __init__(
        self,
        scopes: Iterable[str],
        declared: Mapping[str, Iterable[str]],
        requirements: Sequence[Alternatives],
        context: Sequence[Alternatives] = (),
    ) -> None:
        self.scopes: tuple[str, ...] = tuple(sorted(set(scopes)))
        self.declared = {scope: frozenset(declared.get(scope, ())) for scope in self.scopes}
        self.closure = {scope: self._close(scope) for scope in self.scopes}
        self.own_count = len(requirements)
        self.in_combination: set[str] = set()
        reach: dict[str, set[int]] = {scope: set() for scope in self.scopes}
        implied_by: dict[str, list[str]] = {}
        for scope in self.scopes:
            for implied in self.closure[scope]:
                implied_by.setdefault(implied, []).append(scope)
        for index, alternatives in enumerate((*requirements, *context)):
            for alternative in alternatives:
                if len(alternative) == 1:
                    for scope in implied_by.get(alternative[0], ()):
                        reach[scope].add(index)
                    continue
                self.in_combination.update(alternative)
                needed = frozenset(alternative)
                for scope in self.scopes:
                    if needed <= self.closure[scope]:
                        reach[scope].add(index)
        self.reach = {scope: frozenset(indexes) for scope, indexes in reach.items()}

    def _close(self, scope: str) -> frozenset[str]:
        seen, pending = {scope}, [scope]
        while pending:
            for implied in self.declared.get(pending.pop(), ()):
                if implied not in seen:
                    seen.add(implied)
                    pending.append(implied)
        return frozenset(seen)

    def own_reach(self, scope: str) -> frozenset[int]:
        """Indexes of the document's own operations (not the context's) that `scope` allows."""
        return frozenset(index for index in self.reach[scope] if index < self.own_count)

    def _inferable(self, narrower: str) -> bool:
        return bool(self.reach[narrower]) and not (self.closure[narrower] & self.in_combination)

    def broader(self) -> dict[str, frozenset[str]]:
        """Scope -> every scope it is strictly broader than (declared or inferred), transitively."""
        direct: dict[str, set[str]] = {scope: set() for scope in self.scopes}
        for wide in self.scopes:
            for narrow in self.scopes:
                if wide == narrow:
                    continue
                declared = narrow in self.closure[wide] and wide not in self.closure[narrow]
                inferred = self._inferable(narrow) and self.reach[wide] > self.reach[narrow]
                if declared or inferred:
                    direct[wide].add(narrow)
        result: dict[str, frozenset[str]] = {}
        for scope in self.scopes:
            seen: set[str] = set()
            pending = list(direct[scope])
            while pending:
                name = pending.pop()
                if name not in seen:
                    seen.add(name)
                    pending.extend(direct[name])
            result[scope] = frozenset(seen)
        return result

    def implications(self) -> dict[str, tuple[str, ...]]:
        """The `implies` list of each scope: the transitive reduction of the broader order,
        plus any declared implication between equivalent scopes (which has no order)."""
        broader = self.broader()
        result: dict[str, tuple[str, ...]] = {}
        for scope in self.scopes:
            below = broader[scope]
            kept = {name for name in below if not any(name in broader[mid] for mid in below)}
            kept |= {name for name in self.declared[scope] if scope in self.closure.get(name, ())}
            kept.discard(scope)
            if kept:
                result[scope] = tuple(sorted(kept))
        return result
