"""Exploration cost: replays to reach a 1-minimal grant set, and the time of a real explore.

Run with `.venv/bin/python bench/explore.py` (also part of `make bench`).

1. For n granted scopes of which k are needed, the replays the adaptive search
   spends, beside binary search alone (about 2*k*ceil(log2 n) + 2), leave-one-out
   (n + 1) and a Hypothesis-only search (hypothesis.find shrinking a random subset).
   Target: never more than 6 replays above the cheaper of binary search and
   leave-one-out, whether few or most of the grants are needed.
2. `explore` of a 32-scope binding over a 100-call flow, alternatives included
   (target: under 2 s).
3. How ranking grants by breadth, and a whole explore, grow with the granted scopes:
   n = 16, 64, 256, 1024 scopes of a service with implications, sensitive scopes and
   operations needing two scopes at once, CPU time of each (best of 5, a fresh workspace
   each time) and the growth per doubling of n (n log n: a little over 2; n squared: 4).
   Target: ranking grows by at most 2.5 per doubling from 256 to 1024.
"""

from __future__ import annotations

import gc
import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness.explore import Breadth, Element, Outcome, explore, minimise
from harness.workspace.loader import workspace_from_data

SIZES = (8, 32, 128, 512)
NEEDED = (1, 3, 8, 0.5, 1.0)  # counts, or shares of n
SLACK = 6
EXPLORE_TARGET_SECONDS = 2.0
GROWTH_SIZES = (16, 64, 256, 1024)
GROWTH_TARGET = 2.5  # per doubling of n, ranking from 256 to 1024 scopes
GROWTH_ROUNDS = 5


def _needed(n: int, k: int, seed: int) -> set[Element]:
    rng = random.Random(seed)
    return {("svc", f"s{i:03d}") for i in rng.sample(range(n), k)}


def _counted(
    search: Callable[[Callable[[frozenset[Element]], Outcome], list[Element]], object],
    n: int,
    k: int,
    seed: int,
) -> int:
    elements = [("svc", f"s{i:03d}") for i in range(n)]
    needed = _needed(n, k, seed)
    calls = 0

    def test(grants: frozenset[Element]) -> Outcome:
        nonlocal calls
        calls += 1
        return Outcome(() if needed <= grants else ((("flow", 0), "refused"),))

    search(test, elements)
    return calls


def binary_search_alone(
    test: Callable[[frozenset[Element]], Outcome], elements: list[Element]
) -> list[Element]:
    """The search explore used before: the shortest passing prefix by binary search, its last
    element kept, repeated on the rest (about log2(n) replays per needed grant)."""
    kept: list[Element] = []
    candidates = list(elements)
    while candidates and not test(frozenset(kept)).passed:
        low, high = 1, len(candidates)
        while low < high:
            middle = (low + high) // 2
            if test(frozenset(kept + candidates[:middle])).passed:
                high = middle
            else:
                low = middle + 1
        test(frozenset(kept + candidates[: low - 1]))  # the proof's replay
        kept.append(candidates[low - 1])
        candidates = candidates[: low - 1]
    return kept


def hypothesis_replays(n: int, k: int, seed: int) -> str:
    needed_indexes = sorted(int(name[1:]) for _, name in _needed(n, k, seed))
    calls = 0

    def passes(mask: list[bool]) -> bool:
        nonlocal calls
        calls += 1
        return all(mask[i] for i in needed_indexes)

    try:
        found = find(
            st.lists(st.booleans(), min_size=n, max_size=n),
            passes,
            settings=settings(
                database=None,
                max_examples=5000,
                phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            ),
            random=random.Random(seed),
        )
    except NoSuchExample:
        return f"none in {calls}"
    assert sum(found) == k
    return str(calls)


def replay_table() -> list[list[str]]:
    rows = [
        ["n", "k", "adaptive", "binary alone", "leave-one-out", "cheaper", "", "hypothesis-only"]
    ]
    for n in SIZES:
        counts = {wanted if isinstance(wanted, int) else round(n * wanted) for wanted in NEEDED}
        for k in sorted(count for count in counts if count <= n):
            adaptive = max(_counted(minimise, n, k, seed) for seed in range(5))
            binary = max(_counted(binary_search_alone, n, k, seed) for seed in range(5))
            cheaper = min(binary, n + 1)
            rows.append(
                [
                    str(n),
                    str(k),
                    str(adaptive),
                    str(binary),
                    str(n + 1),
                    str(cheaper),
                    "PASS" if adaptive <= cheaper + SLACK else "MISS",
                    hypothesis_replays(n, k, seed=1) if k < n // 2 else "-",
                ]
            )
    return rows


def synthetic_binding(scopes: int = 32, calls: int = 100, needed: int = 8) -> Any:
    """One service with `scopes` scopes, a role granting all of them, a flow of `calls` calls
    using `needed` of them."""
    names = [f"svc.s{i:02d}" for i in range(scopes)]
    operations = [
        {"id": f"op{i:02d}", "method": "GET", "path": f"/op{i:02d}", "requires": name}
        for i, name in enumerate(names)
    ]
    spec = {
        "service": "svc",
        "hosts": ["api.svc.example"],
        "scopes": dict.fromkeys(names),
        "operations": operations,
    }
    used = [f"/op{i:02d}" for i in range(0, scopes, scopes // needed)][:needed]
    steps = [
        {"request": {"method": "GET", "url": f"https://api.svc.example{used[i % needed]}"}}
        for i in range(calls)
    ]
    return _one_binding(spec, names, steps)


def _one_binding(spec: dict[str, Any], names: list[str], steps: list[Any]) -> Any:
    """A workspace of `spec` whose one binding is granted every scope in `names` and
    replays `steps`; the workspace and that binding."""
    document = {
        "connectors": [
            {
                "name": "bot",
                "owner": "o@example.com",
                "allowed_hosts": ["api.svc.example"],
                "credential": {"type": "oauth2-client-credentials", "lifetime": "1h"},
            }
        ],
        "roles": [{"name": "everything", "grants": {"svc": names}}],
        "bindings": [{"connector": "bot", "env": "prod", "roles": ["everything"]}],
        "flows": [{"name": "flow", "connector": "bot", "steps": steps}],
    }
    workspace = workspace_from_data([spec], [document])
    return workspace, workspace.bindings[0]


def ranking_binding(scopes: int, calls: int = 96, needed: int = 8) -> Any:
    """One service of `scopes` scopes where breadth has work to do: each scope allows one
    read of its own and, with the next scope, one write needing both (a case of several
    scopes); every fourth scope implies the next, every eighth is sensitive (factor 2). A
    role grants every scope; the flow reads with `needed` of them."""
    names = [f"svc.s{i:04d}" for i in range(scopes)]
    operations = [
        {"id": f"read{i}", "method": "GET", "path": f"/read{i}", "requires": name}
        for i, name in enumerate(names)
    ] + [
        {
            "id": f"write{i}",
            "method": "POST",
            "path": f"/write{i}",
            "requires": {"any_of": [[name, names[(i + 1) % scopes]]]},
        }
        for i, name in enumerate(names)
    ]
    declared = {
        name: {
            **({"implies": [names[i + 1]]} if i % 4 == 0 and i + 1 < scopes else {}),
            **({"sensitivity": 2} if i % 8 == 7 else {}),
        }
        or None
        for i, name in enumerate(names)
    }
    spec = {
        "service": "svc",
        "hosts": ["api.svc.example"],
        "scopes": declared,
        "operations": operations,
    }
    steps = [
        {"request": {"method": "GET", "url": f"https://api.svc.example/read{i * scopes // needed}"}}
        for i in range(needed)
    ] * (calls // needed)
    return _one_binding(spec, names, steps)


def _granted(workspace: Any, binding: Any) -> list[Element]:
    return sorted({(s.service, str(s.grant)) for s in workspace.binding_grants(binding)})


@contextmanager
def _collector_paused() -> Iterator[None]:
    """As timeit does: no garbage collection inside the clock, whose cost follows the size
    of the heap (here the workspace, which grows with n) rather than the work timed."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def growth_table() -> tuple[list[list[str]], float]:
    """CPU seconds of ranking and of a whole explore per n, and the growth per doubling."""
    rows = [["n", "ranking s", "per doubling", "explore s", "per doubling", "ranking share"]]
    ranking: list[float] = []
    exploring: list[float] = []
    for n in GROWTH_SIZES:
        best_rank = best_explore = float("inf")
        for _ in range(GROWTH_ROUNDS):
            workspace, binding = ranking_binding(n)  # fresh: nothing measured is cached yet
            granted = _granted(workspace, binding)
            with _collector_paused():
                started = time.process_time()
                Breadth(workspace, binding).ranked(granted)
                best_rank = min(best_rank, time.process_time() - started)
            workspace, binding = ranking_binding(n)
            with _collector_paused():
                started = time.process_time()
                explore(workspace, binding)
                best_explore = min(best_explore, time.process_time() - started)
        ranking.append(best_rank)
        exploring.append(best_explore)
    for index, n in enumerate(GROWTH_SIZES):
        doubling = [""] * 2
        if index:
            steps = math.log2(n / GROWTH_SIZES[index - 1])
            doubling = [
                f"{(times[index] / times[index - 1]) ** (1 / steps):.2f}x"
                for times in (ranking, exploring)
            ]
        rows.append(
            [
                str(n),
                f"{ranking[index]:.4f}",
                doubling[0],
                f"{exploring[index]:.3f}",
                doubling[1],
                f"{ranking[index] / exploring[index]:.0%}",
            ]
        )
    last = math.log2(GROWTH_SIZES[-1] / GROWTH_SIZES[-2])
    return rows, (ranking[-1] / ranking[-2]) ** (1 / last)


def _print(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> int:
    rows = replay_table()
    print(
        "Replays to reach a 1-minimal grant set (worst of 5 random needed sets; "
        f"target: at most the cheaper + {SLACK})"
    )
    _print(rows)
    workspace, binding = synthetic_binding()
    started = time.perf_counter()
    result = explore(workspace, binding)
    seconds = time.perf_counter() - started
    verdict = "PASS" if seconds < EXPLORE_TARGET_SECONDS else "MISS"
    print(
        f"\nexplore: 32 granted scopes, 100-call flow, 8 needed: {seconds:.3f} s, "
        f"{result.replays} replays, {len(result.sets)} minimal set(s)  "
        f"[target < {EXPLORE_TARGET_SECONDS:.0f} s: {verdict}]"
    )
    growth_rows, growth = growth_table()
    growth_verdict = "PASS" if growth <= GROWTH_TARGET else "MISS"
    print(
        f"\nRanking grants by breadth and a whole explore, CPU s (best of {GROWTH_ROUNDS}); "
        f"ranking per doubling from {GROWTH_SIZES[-2]} to {GROWTH_SIZES[-1]}: {growth:.2f}x  "
        f"[target <= {GROWTH_TARGET}x: {growth_verdict}]"
    )
    _print(growth_rows)
    misses = (
        sum(1 for row in rows[1:] if row[6] == "MISS")
        + (verdict == "MISS")
        + (growth_verdict == "MISS")
    )
    return 1 if misses and "--strict" in sys.argv else 0


if __name__ == "__main__":
    sys.exit(main())
