"""Black-box exploration: minimal grant sets found by experiment.

The services are treated as opaque: a replay only says whether each call was
allowed (2xx/3xx/404...) or refused (401, 403, blocked). Assuming more grants
never refuse more calls, `minimise` finds a 1-minimal subset of a binding's
grants with binary search (each needed grant costs about log2(n) replays), and
`explore` then looks for alternative minimal sets that avoid each kept grant.
Every replay is memoised by grant set; the count of replays is the cost.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.cover import BreadthMeter
from harness.decisions import BLOCKED, DENIED, Decision
from harness.engine import replay_binding
from harness.model import Binding, Workspace
from harness.permission_models import service_for
from harness.sandbox import Sandbox
from harness.scopes import Grant

Element = tuple[str, str]  # (service, grant)
MAX_SETS = 8


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one replay under a grant set showed: the steps refused beyond the tolerated ones."""

    failures: tuple[tuple[tuple[str, int], str], ...]  # ((flow, step), description)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def failing_step(self) -> str:
        return self.failures[0][1] if self.failures else ""


class Oracle:
    """Replays a binding's flows under grant sets, memoised; counts the real replays.

    Steps that fail even with every grant (a blocked host, an expired token) say
    nothing about scopes: they are tolerated, and reported apart.
    """

    def __init__(self, workspace: Workspace, binding: Binding) -> None:
        self.workspace = workspace
        self.binding = binding
        self.sandbox = Sandbox(workspace)
        self.expected_denied = {
            (flow.name, step.index)
            for flow in workspace.flows_of(binding.connector)
            for step in flow.steps
            if step.expect == DENIED
        }
        self.replays = 0
        self.tolerated: frozenset[tuple[str, int]] = frozenset()
        self._memo: dict[frozenset[Element], Outcome] = {}

    def tolerate(self, outcome: Outcome) -> None:
        self.tolerated = frozenset(step for step, _ in outcome.failures)
        self._memo = {grants: self._filter(o) for grants, o in self._memo.items()}

    def __call__(self, grants: frozenset[Element]) -> Outcome:
        cached = self._memo.get(grants)
        if cached is None:
            cached = self._filter(self._replay(grants))
            self._memo[grants] = cached
        return cached

    def _filter(self, outcome: Outcome) -> Outcome:
        return Outcome(tuple(f for f in outcome.failures if f[0] not in self.tolerated))

    def _replay(self, grants: frozenset[Element]) -> Outcome:
        self.replays += 1
        by_service: dict[str, list[str]] = {}
        for service, grant in grants:
            by_service.setdefault(service, []).append(grant)
        self.sandbox.decisions.clear()
        decisions = replay_binding(self.sandbox, self.binding, grants=by_service)
        failures = []
        for decision in decisions:
            refused = self._refused(decision)
            if refused != ((decision.flow, decision.step) in self.expected_denied):
                failures.append(
                    (
                        (decision.flow, decision.step),
                        f"{decision.flow} step {decision.step + 1} ({decision.step_name}): "
                        f"{decision.method} {decision.host}{decision.path} is "
                        f"{'refused' if refused else 'allowed'}",
                    )
                )
        return Outcome(tuple(failures))

    @staticmethod
    def _refused(decision: Decision) -> bool:
        """What an opaque service shows: a 401/403 answer, or a call that never left."""
        return decision.status in (401, 403) or decision.outcome == BLOCKED


@dataclass(frozen=True, slots=True)
class MinimalSet:
    grants: tuple[Element, ...]
    breadth: int
    proof: tuple[tuple[Element, str], ...]  # each kept grant -> the step that fails without it


@dataclass(frozen=True, slots=True)
class Exploration:
    binding: str
    granted: tuple[Element, ...]
    granted_breadth: int
    failing_regardless: tuple[str, ...]  # steps refused even with every grant (not a scope matter)
    sets: tuple[MinimalSet, ...]
    replays: int
    seconds: float
    exhaustive: bool  # every minimal set reachable by dropping kept grants was explored

    @property
    def least_broad(self) -> MinimalSet | None:
        return min(self.sets, key=lambda s: (s.breadth, len(s.grants), s.grants), default=None)


def minimise(
    test: Callable[[frozenset[Element]], Outcome], elements: list[Element]
) -> tuple[list[Element], dict[Element, str]]:
    """A 1-minimal subset of `elements` that still passes `test` (which must pass on all).

    Hwang's generalised binary splitting, read as group testing on what is left out:
    leaving out the last `g` candidates passes exactly when none of them is needed.
    A group that passes is dropped at one replay's cost; one that fails is split by
    binary search down to its last needed element, which is kept (the replay that
    fails without it is its proof). The group size follows the number of needed
    elements still expected, estimated from how many the candidates already dropped
    held: large groups while needed elements are rare (about log2(n) replays each),
    single elements once most are needed (leave-one-out's cost), so neither a sparse
    nor a dense binding pays the other strategy's price.
    """
    kept: list[Element] = []
    candidates = list(elements)
    proof: dict[Element, str] = {}
    while candidates:
        count = len(candidates)
        left_out = _group_size(count, needed_so_far=len(kept), dropped=len(elements) - count)
        outcomes = {count - left_out: test(frozenset(kept + candidates[: count - left_out]))}
        if outcomes[count - left_out].passed:
            candidates = candidates[: count - left_out]
            continue
        low, high = count - left_out + 1, count  # the shortest passing prefix is in [low, high]
        while low < high:
            middle = (low + high) // 2
            outcomes[middle] = test(frozenset(kept + candidates[:middle]))
            if outcomes[middle].passed:
                high = middle
            else:
                low = middle + 1
        needed = candidates[low - 1]
        proof[needed] = outcomes[low - 1].failing_step
        kept.append(needed)
        candidates = candidates[: low - 1]
    return kept, proof


def _group_size(count: int, *, needed_so_far: int, dropped: int) -> int:
    """How many trailing candidates to leave out at once (Hwang's rule for `expected` needed
    elements among `count`), with `expected` estimated from the density seen so far."""
    expected = max(1.0, (needed_so_far + _PRIOR[0]) * count / (dropped + _PRIOR[1]))
    if count <= 2 * expected - 2:
        return 1
    exponent = max(0, math.floor(math.log2((count - expected + 1) / expected)))
    return min(count, 1 << exponent)


# Before anything is dropped, one needed element in eight is assumed (0.25 of 2 seen);
# chosen on bench/explore.py's worst cases over sparse and dense bindings.
_PRIOR = (0.25, 2)


class Breadth:
    """The breadth of (service, grant) elements, in the permission model the binding's
    connector holds; one meter per service, each grant parsed once."""

    def __init__(self, workspace: Workspace, binding: Binding) -> None:
        self.workspace = workspace
        self.binding = binding
        self._meters: dict[str, BreadthMeter] = {}
        self._grants: dict[str, Grant] = {}

    def __call__(self, elements: Iterable[Element]) -> int:
        by_service: dict[str, list[Grant]] = {}
        for service, text in elements:
            grant = self._grants.get(text)
            if grant is None:
                grant = self._grants[text] = Grant.parse(text)
            by_service.setdefault(service, []).append(grant)
        return sum(self._meter(service).breadth(grants) for service, grants in by_service.items())

    def ranked(self, elements: Iterable[Element]) -> list[Element]:
        """Broad grants first (then by name), so the search settles on narrow ones when both
        would do. One breadth per element, each costing its own closure and the cases it
        reaches, so ranking n grants is the sort's n log n."""
        return sorted(elements, key=lambda element: (-self((element,)), element))

    def _meter(self, service: str) -> BreadthMeter:
        meter = self._meters.get(service)
        if meter is None:
            view = service_for(self.workspace, self.binding.connector, service)
            meter = self._meters[service] = BreadthMeter(view)
        return meter


def explore(workspace: Workspace, binding: Binding, *, max_sets: int = MAX_SETS) -> Exploration:
    """Minimal grant sets of `binding` found by replaying under subsets of its grants."""
    started = time.perf_counter()
    oracle = Oracle(workspace, binding)
    granted = sorted({(s.service, str(s.grant)) for s in workspace.binding_grants(binding)})
    breadth = Breadth(workspace, binding)
    ordered = breadth.ranked(granted)
    everything = oracle(frozenset(granted))
    oracle.tolerate(everything)
    sets: list[MinimalSet] = []
    exhaustive = True
    queue: list[frozenset[Element]] = [frozenset()]  # grants to leave out
    tried: set[frozenset[Element]] = set()
    while queue:
        excluded = queue.pop(0)
        if excluded in tried:
            continue
        tried.add(excluded)
        pool = [e for e in ordered if e not in excluded]
        if not oracle(frozenset(pool)).passed:
            continue
        kept, proof = minimise(oracle, pool)
        found = tuple(sorted(kept))
        if any(existing.grants == found for existing in sets):
            continue
        if len(sets) >= max_sets:
            exhaustive = False
            break
        sets.append(MinimalSet(found, breadth(found), tuple((e, proof[e]) for e in found)))
        queue.extend(excluded | {element} for element in found)
    return Exploration(
        binding=binding.name,
        granted=tuple(granted),
        granted_breadth=breadth(granted),
        failing_regardless=tuple(description for _, description in everything.failures),
        sets=tuple(sorted(sets, key=lambda s: (s.breadth, len(s.grants), s.grants))),
        replays=oracle.replays,
        seconds=time.perf_counter() - started,
        exhaustive=exhaustive,
    )
