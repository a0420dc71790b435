"""Exploration cost: replays to reach a 1-minimal grant set, and the time of a real explore.

Run with `.venv/bin/python bench/explore.py` (also part of `make bench`).

1. For n granted scopes of which k are needed, the replays the adaptive search
   spends, beside binary search alone (about 2*k*ceil(log2 n) + 2), leave-one-out
   (n + 1) and a Hypothesis-only search (hypothesis.find shrinking a random subset).
   Target: never more than 6 replays above the cheaper of binary search and
   leave-one-out, whether few or most of the grants are needed.
2. `explore` of a 32-scope binding over a 100-call flow, alternatives included
   (target: under 2 s).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness.explore import Element, Outcome, explore, minimise
from harness.workspace.loader import workspace_from_data

SIZES = (8, 32, 128, 512)
NEEDED = (1, 3, 8, 0.5, 1.0)  # counts, or shares of n
SLACK = 6
EXPLORE_TARGET_SECONDS = 2.0


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


def main() -> int:
    rows = replay_table()
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(
        "Replays to reach a 1-minimal grant set (worst of 5 random needed sets; "
        f"target: at most the cheaper + {SLACK})"
    )
    for row in rows:
        print("  " + "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
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
    misses = sum(1 for row in rows[1:] if row[6] == "MISS") + (verdict == "MISS")
    return 1 if misses and "--strict" in sys.argv else 0


if __name__ == "__main__":
    sys.exit(main())
