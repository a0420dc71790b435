"""Properties of the least-privilege analysis over generated services, roles and flows."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from workspaces import build, policy

from harness.analysis import BindingResult
from harness.engine import run_check
from harness.strategies import flows, service_specs


@st.composite
def instances(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """A generated service, a flow calling some of its operations, and a random grant."""
    spec = draw(service_specs())
    flow = draw(flows(spec))
    granted = draw(st.lists(st.sampled_from(sorted(spec["scopes"])), unique=True, max_size=4))
    return spec, flow["steps"], granted


def _run(spec: dict[str, Any], calls: list[Any], grants: list[str]) -> BindingResult:
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
