"""Users' Hypothesis tests over scope subsets, with the sandbox fixtures."""

from __future__ import annotations

import pytest

TEST = """
from hypothesis import HealthCheck, given, settings
from harness.strategies import scope_subsets

# Timing checks off: on a busy machine a replay can pass Hypothesis's deadline or its
# too-slow check, which would fail the run for a reason this test is not about.
@settings(
    max_examples=30,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scopes=scope_subsets(binding="deal-alerts@prod"))
def test_every_subset_of_the_grant_runs_the_flow(sandbox, scopes):
    sandbox.assert_flow_passes("deal-alerts-new-deal", "deal-alerts@prod", grants=scopes)
"""


def test_a_failing_example_shrinks_to_the_smallest_set_and_names_the_step(
    pytester: pytest.Pytester,
) -> None:
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for name in ("mocks", "scenarios"):
        shutil.copytree(root / name, pytester.path / name)
    (pytester.path / "connector-harness.yaml").write_text(
        "packs: [slack, github, gmail, google-drive, google-sheets]\n", "utf-8"
    )
    pytester.makeini("[pytest]\nmarkers =\n    nightly\n    daily\n    weekly\n    realtime\n")
    pytester.makepyfile(test_subsets=TEST)
    result = pytester.runpytest_subprocess("test_subsets.py", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*flow deal-alerts-new-deal fails under deal-alerts@prod with no grants:*",
            "*step 1 (read the new deal): GET api.crm.example/v1/deals/d_1 denied: requires crm.deals.read*",
        ]
    )
    result.stdout.fnmatch_lines(["*test_every_subset_of_the_grant_runs_the_flow(*", "*scopes={},*"])
    assert "step 4" not in result.stdout.str()  # an expected denial is not a failure
