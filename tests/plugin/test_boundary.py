"""The `boundary_sandbox` fixture: programs run behind the network boundary from a test.
A way out they try fails the test unless it says it expects it; calls to the mocks are
judged. Needs root (the `network_boundary` fixture skips, saying why, elsewhere)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import PluginWorkspace

BOUNDARY_TESTS = """
import sys

CALL = '''
import os, sys, urllib.request
request = urllib.request.Request(
    os.environ["SVC_BASE_URL"] + "/items",
    headers={"Authorization": "Bearer " + os.environ["HARNESS_TOKEN"]},
)
urllib.request.urlopen(request, timeout=5)
for url in sys.argv[1:]:
    try:
        urllib.request.urlopen(url, timeout=5)
    except OSError:
        pass  # careless flow code: the failure is swallowed
'''


def test_program_holds_least_privilege(boundary_sandbox):
    bot = boundary_sandbox.binding("bot@prod")
    assert boundary_sandbox.run([sys.executable, "-c", CALL], binding=bot).returncode == 0
    boundary_sandbox.assert_least_privilege()


def test_expected_way_out(boundary_sandbox):
    bot = boundary_sandbox.binding("bot@prod")
    boundary_sandbox.run([sys.executable, "-c", CALL, "http://203.0.113.9:8080/"], binding=bot)
    boundary_sandbox.assert_blocked("203.0.113.9", channel="tcp")


def test_swallowed_way_out(boundary_sandbox):
    bot = boundary_sandbox.binding("bot@prod")
    finished = boundary_sandbox.run([sys.executable, "-c", CALL, "https://leak.attacker.example/"], binding=bot)
    assert finished.returncode == 0
"""


def test_boundary_sandbox_runs_programs_and_judges_what_they_try(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    ws.write()
    pytester.makepyfile(test_programs=BOUNDARY_TESTS)
    result = pytester.runpytest("test_programs.py", "-rA", "--tb=short")
    assert ws.outcomes(result.outlines) == {
        ("PASSED", "test_programs.py::test_program_holds_least_privilege"),
        ("PASSED", "test_programs.py::test_expected_way_out"),
        ("PASSED", "test_programs.py::test_swallowed_way_out"),
        ("ERROR", "test_programs.py::test_swallowed_way_out"),
    }
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at teardown of test_swallowed_way_out _*",
            "the test's code tried to leave the sandbox; each attempt was refused:",
            "  2. RESOLVE leak.attacker.example -> blocked (a DNS lookup of leak.attacker.example:"
            " the sandbox resolves no names; its services are reached through requests, httpx or"
            " its loopback servers)",
            "if the test expects it, say so with assert_blocked(...) (or assert_denied(...))",
        ],
        consecutive=True,
    )


NO_PRIVILEGE = """
import harness.boundary

harness.boundary.boundary_unavailable = lambda: (
    "creating a network namespace needs CAP_SYS_ADMIN (run as root, as CI does): "
    "unshare(CLONE_NEWNET) failed: Operation not permitted"
)
"""


def test_where_no_boundary_can_be_made_the_test_is_skipped_saying_why(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    ws.write()
    pytester.makeconftest(NO_PRIVILEGE)
    pytester.makepyfile(test_programs=BOUNDARY_TESTS)
    result = pytester.runpytest("test_programs.py", "-rs", "-k", "holds")
    result.assert_outcomes(skipped=1, deselected=2)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED * test_programs.py:*: no network boundary on this machine: creating a network namespace "
            "needs CAP_SYS_ADMIN (run as root, as CI does): unshare(CLONE_NEWNET) failed: "
            "Operation not permitted"
        ]
    )
