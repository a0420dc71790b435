"""Where the service's requirements are known, black-box exploration agrees with the analysis."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from test_least_privilege import instances
from workspaces import build, policy

from harness.cover import BreadthMeter
from harness.engine import run_check
from harness.explore import explore
from harness.scopes import Grant


@settings(max_examples=100, deadline=None)
@given(instances())
def test_explore_finds_the_least_broad_subset_the_analysis_keeps(instance: Any) -> None:
    spec, calls, granted = instance
    workspace = build([spec], [policy(granted, calls)])
    (result,) = run_check(workspace).results
    if result.denied:
        return  # the grant does not cover the flow: nothing to minimise
    exploration = explore(workspace, workspace.bindings[0], max_sets=64)
    assert exploration.sets, "a passing grant always has a minimal subset"
    for found in exploration.sets:
        grants = [grant for _, grant in found.grants]
        (check,) = run_check(build([spec], [policy(grants, calls)])).results
        assert check.denied == 0, f"{grants} was reported minimal but does not pass"
        for _, dropped in found.grants:
            (reduced,) = run_check(
                build([spec], [policy([g for g in grants if g != dropped], calls)])
            ).results
            assert reduced.denied > 0, f"{dropped} was reported needed in {grants}"
    if exploration.exhaustive:
        kept = result.services[0].kept if result.services else ()
        least = exploration.least_broad
        assert least is not None
        meter = BreadthMeter(workspace.services[0])
        assert least.breadth == meter.breadth(Grant.parse(grant) for grant in kept)
