"""Properties of the least-privilege analysis over generated services, roles and flows."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from workspaces import build, policy, service

from harness.analysis import BindingResult
from harness.engine import run_check

RISKS = ("read", "write", "delete", "admin")


@st.composite
def instances(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[str, str]], list[str]]:
    """A service (scopes with implications, operations with any-of/all-of requirements),
    a flow calling some of its operations, and a random grant."""
    count = draw(st.integers(2, 7))
    names = [f"s{i}" for i in range(count)]
    scopes: dict[str, list[str]] = {}
    for index, name in enumerate(names):
        lower = names[:index]
        scopes[name] = (
            draw(st.lists(st.sampled_from(lower), unique=True, max_size=2)) if lower else []
        )
    if draw(st.booleans()):
        scopes["all"] = ["s*"]  # an admin-style wildcard scope
    requirement_scope = st.sampled_from(names)
    alternative = st.lists(requirement_scope, min_size=1, max_size=2, unique=True)
    operations = []
    for index in range(draw(st.integers(1, 6))):
        alternatives = draw(st.lists(alternative, min_size=1, max_size=3))
        requires: Any = {"any_of": alternatives}
        risk = draw(st.sampled_from(RISKS))
        method = "GET" if risk == "read" else "POST"
        operations.append(
            {
                "id": f"op{index}",
                "method": method,
                "path": f"/op{index}",
                "requires": requires,
                "risk": risk,
            }
        )
    calls = draw(
        st.lists(
            st.sampled_from([(o["method"], o["path"]) for o in operations]), min_size=1, max_size=6
        )
    )
    granted = draw(st.lists(st.sampled_from(sorted(scopes)), unique=True, max_size=4))
    return service(scopes=scopes, operations=operations), calls, granted


def _run(spec: dict[str, Any], calls: list[tuple[str, str]], grants: list[str]) -> BindingResult:
    (result,) = run_check(build([spec], [policy(grants, calls)])).results
    return result


def _suggested(result: BindingResult) -> list[str]:
    return [grant for analysis in result.services for grant in analysis.suggested]


def _kinds(result: BindingResult) -> set[str]:
    return {finding.kind for finding in result.findings}


@settings(max_examples=150, deadline=None)
@given(instances())
def test_granting_the_suggested_role_passes_with_nothing_missing_or_excessive(
    instance: Any,
) -> None:
    spec, calls, granted = instance
    suggested = _suggested(_run(spec, calls, granted))
    result = _run(spec, calls, suggested)
    assert result.denied == 0
    assert not _kinds(result) & {"missing", "excessive", "over-broad"}, result.findings
    assert result.passed


@settings(max_examples=150, deadline=None)
@given(instances())
def test_removing_any_scope_from_the_suggested_role_breaks_a_call(instance: Any) -> None:
    spec, calls, granted = instance
    suggested = _suggested(_run(spec, calls, granted))
    for scope in suggested:
        reduced = [grant for grant in suggested if grant != scope]
        result = _run(spec, calls, reduced)
        assert result.denied > 0, f"{scope} removed from {suggested} and nothing failed"
        assert "missing" in _kinds(result)


@settings(max_examples=150, deadline=None)
@given(instances(), st.data())
def test_adding_an_unused_scope_always_yields_an_excessive_finding(
    instance: Any, data: st.DataObject
) -> None:
    spec, calls, granted = instance
    suggested = _suggested(_run(spec, calls, granted))
    unused = sorted(set(spec["scopes"]) - set(suggested))
    assume(unused)
    extra = data.draw(st.sampled_from(unused))
    result = _run(spec, calls, [*suggested, extra])
    assert "excessive" in _kinds(result)


@settings(max_examples=150, deadline=None)
@given(instances())
def test_without_missing_findings_the_suggested_role_is_never_broader(instance: Any) -> None:
    spec, calls, granted = instance
    result = _run(spec, calls, granted)
    assume("missing" not in _kinds(result))
    for analysis in result.services:
        assert analysis.suggested_breadth <= analysis.granted_breadth
