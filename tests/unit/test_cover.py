from __future__ import annotations

import pytest
from workspaces import build, service

from harness import cover
from harness.cover import EXACT, GREEDY, BreadthMeter, Demand, minimum_breadth_cover
from harness.model import Service
from harness.scopes import Grant


def _service(scopes: dict[str, list[str]], operations: list[dict[str, object]]) -> Service:
    workspace = build([service(scopes=scopes, operations=operations)], [])
    return workspace.services[0]


def _ops(*items: tuple[str, object, str]) -> list[dict[str, object]]:
    return [
        {
            "id": op_id,
            "method": "GET" if risk == "read" else "POST",
            "path": f"/{op_id}",
            "requires": requires,
            "risk": risk,
        }
        for op_id, requires, risk in items
    ]


def _demands(service: Service, *ids: str) -> list[Demand]:
    return [Demand(service.operation(op_id)) for op_id in ids]


def _universe(service: Service) -> list[Grant]:
    return [Grant(name) for name in service.universe.names]


def test_breadth_weighs_operations_by_risk() -> None:
    svc = _service(
        {"r": [], "w": ["r"], "d": []},
        _ops(("read", "r", "read"), ("write", "w", "write"), ("del", "d", "delete")),
    )
    meter = BreadthMeter(svc)
    assert [meter.breadth([Grant(s)]) for s in ("r", "w", "d")] == [1, 4, 5]
    assert meter.breadth([Grant("w"), Grant("r")]) == 4  # union, not sum


def test_the_narrowest_implying_scope_is_chosen() -> None:
    svc = _service(
        {"r": [], "w": ["r"], "admin": ["*"]},
        _ops(("read", "r", "read"), ("write", "w", "write"), ("cfg", "admin", "admin")),
    )
    meter = BreadthMeter(svc)
    result = minimum_breadth_cover(meter, _demands(svc, "read"), _universe(svc))
    assert (result.grants, result.breadth, result.method) == ((Grant("r"),), 1, EXACT)
    result = minimum_breadth_cover(
        meter, _demands(svc, "read", "write"), [Grant("admin"), Grant("w")]
    )
    assert result.grants == (Grant("w"),)


def test_any_of_takes_the_cheaper_alternative_and_all_of_takes_both() -> None:
    svc = _service(
        {"a": [], "b": [], "c": [], "big": ["a"]},
        _ops(
            ("x", {"any_of": ["big", ["b", "c"]]}, "read"),
            ("y", "big", "write"),
            ("z", {"all_of": ["a", "b"]}, "read"),
            ("w", "c", "delete"),
            ("v", "b", "read"),
        ),
    )
    meter = BreadthMeter(svc)
    result = minimum_breadth_cover(meter, _demands(svc, "x"), _universe(svc))
    # {big} allows x, y, z? no (z needs b too): breadth 1 + 3 = 4; {b, c} allows x, w, v: 1 + 5 + 1 = 7
    assert result.grants == (Grant("big"),)
    result = minimum_breadth_cover(meter, _demands(svc, "z"), _universe(svc))
    assert result.grants == (Grant("a"), Grant("b"))


def test_fixed_grants_are_kept_and_impossible_calls_are_reported() -> None:
    svc = _service({"r": [], "w": ["r"]}, _ops(("read", "r", "read"), ("write", "w", "write")))
    meter = BreadthMeter(svc)
    result = minimum_breadth_cover(meter, _demands(svc, "read", "write"), [Grant("r")], fixed=[])
    assert result.grants == (Grant("r"),)
    assert [d.operation.id for d in result.unsatisfiable] == ["write"]
    result = minimum_breadth_cover(meter, _demands(svc, "read"), _universe(svc), fixed=[Grant("w")])
    assert result.grants == ()


def test_the_greedy_fallback_is_used_past_the_budget_and_stays_one_minimal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scopes = {f"s{i}": [] for i in range(12)}
    operations = _ops(
        *((f"op{i}", {"any_of": [f"s{i}", f"s{(i + 1) % 12}"]}, "read") for i in range(12))
    )
    svc = _service(scopes, operations)
    meter = BreadthMeter(svc)
    demands = _demands(svc, *(f"op{i}" for i in range(12)))
    exact = minimum_breadth_cover(meter, demands, _universe(svc))
    monkeypatch.setattr(cover, "NODE_BUDGET", 3)
    greedy = minimum_breadth_cover(meter, demands, _universe(svc))
    assert (exact.method, greedy.method) == (EXACT, GREEDY)
    assert greedy.breadth >= exact.breadth
    assert meter.allows_all(greedy.grants, demands)
    for grant in greedy.grants:
        rest = [g for g in greedy.grants if g != grant]
        assert not meter.allows_all(rest, demands)
