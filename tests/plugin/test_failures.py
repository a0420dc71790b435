"""Failing items: compact least-privilege reports (no traceback), strict mode, and a broken
workspace as one failing item."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import PluginWorkspace


def test_missing_scope_report(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    text = ws.policy({"prod": ["svc.read"]}, {"sync": ["GET /items", "POST /items"]})
    ws.write({"bot.yaml": text})
    step = ws.line_of(text, "method: POST")
    role = ws.line_of(text, "- name: bot-prod")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ sync[[]bot@prod[]] _*",
            "binding bot@prod fails least privilege in flow sync (1 finding):",
            f"  missing           scenarios/bot.yaml:{step}:9",
            "                    svc:items.create was denied: it requires svc.write; grant svc.write",
            "                    write instead:",
            f"                      # role `bot-prod` at scenarios/bot.yaml:{role + 1}:13",
            "                      grants:",
            "                        svc: [svc.write]",  # svc.write implies svc.read
        ],
        consecutive=True,
    )
    # the item's `least privilege` report section lists each call and why
    result.stdout.fnmatch_lines(
        [
            "*- Captured least privilege call -*",
            "bot@prod: 2 calls over 1 flow(s), 1 allowed, 1 denied, 0 blocked; coverage 1/1;"
            " calls of sync:",
            "  step 1  GET api.svc.example/items  allowed  (requires svc.read; allowed by svc.read)",
            "  step 2  POST api.svc.example/items  denied  (requires svc.write; granted: svc.read)",
        ],
        consecutive=True,
    )
    # a compact report, not a Python traceback into the plugin
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*_items.py*")
    result.stdout.no_fnmatch_line("*LeastPrivilegeFailure*")
    result.stdout.fnmatch_lines(
        ["FAILED scenarios/bot.yaml::sync[[]bot@prod[]] - binding bot@prod fails least*"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_repeated_calls_are_listed_once_with_their_steps(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    polls = ["GET /items"] * 8
    calls = [*polls[:3], "POST /items", *polls[3:], "POST /items", "GET /items/i1"]
    ws.write({"bot.yaml": ws.policy({"prod": ["svc.read"]}, {"sync": calls})})
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "bot@prod: 11 calls over 1 flow(s), 9 allowed, 2 denied, 0 blocked; coverage 1/1;"
            " calls of sync:",
            "  steps 1, 2, 3, 5, 6 and 3 more  GET api.svc.example/items  allowed"
            "  (requires svc.read; allowed by svc.read)",
            "  steps 4, 10  POST api.svc.example/items  denied"
            "  (requires svc.write; granted: svc.read)",
            "  step 11  GET api.svc.example/items/i1  allowed"
            "  (requires svc.read; allowed by svc.read)",
        ],
        consecutive=True,
    )


EXCESSIVE = {"prod": ["svc.read", "svc.delete"]}


def test_excessive_grant_fails_in_strict_mode(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    text = ws.policy(EXCESSIVE, {"sync": ["GET /items"]})
    ws.write({"bot.yaml": text})
    grants = ws.line_of(text, "svc.delete")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "binding bot@prod fails least privilege in flow sync (1 finding):",
            f"  excessive         scenarios/bot.yaml:{grants}:*",
            "                    `svc.delete` (role `bot-prod`) is unused:"
            " no call of the binding's flows needed it",
            "                    write instead:",
            f"                      # role `bot-prod` at scenarios/bot.yaml:{grants}:13",
            "                      grants:",
            "                        svc: [svc.read]",
        ],
        consecutive=True,
    )
    # strict is the default; `--harness-strict true` says the same
    again = pytester.runpytest("--harness-strict", "true")
    again.assert_outcomes(failed=1)


def test_excessive_grant_only_warns_when_not_strict(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    text = ws.policy(EXCESSIVE, {"sync": ["GET /items"]})
    ws.write({"bot.yaml": text})
    grants = ws.line_of(text, "svc.delete")
    # as a subprocess: in-process, the outer project's `filterwarnings = error` would apply
    result = pytester.runpytest_subprocess("--harness-strict", "false")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*= warnings summary =*",
            "scenarios/bot.yaml::sync[[]bot@prod[]]",
            "  *LeastPrivilegeWarning: scenarios/bot.yaml:"
            f"{grants}:*: `svc.delete` (role `bot-prod`) is unused*",
        ]
    )
    # the summary row still counts the finding, but the binding passes
    result.stdout.fnmatch_lines(["PASS  bot@prod  0 missing  1 excessive  0 over-broad"])
    assert result.ret == pytest.ExitCode.OK


def test_missing_still_fails_when_not_strict(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    # in-process, so no warning may be raised: the outer `filterwarnings = error` applies
    ws.write(
        {"bot.yaml": ws.policy({"prod": ["svc.read"]}, {"sync": ["GET /items", "POST /items"]})}
    )
    result = pytester.runpytest("--harness-strict", "false")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["binding bot@prod fails least privilege in flow sync (*"])


def test_over_broad_with_write_instead(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    text = ws.policy({"prod": ["svc.read"]}, {"show": ["GET /items/i1", "GET /items/i1"]})
    ws.write({"bot.yaml": text})
    grants = ws.line_of(text, "grants: {svc: [svc.read]}")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "binding bot@prod fails least privilege in flow show (1 finding):",
            f"  over-broad        scenarios/bot.yaml:{grants}:20",
            "                    `svc.read` (role `bot-prod`) is broader than needed:"
            " every call it allows touches the same resources; svc.read@item=i1 is narrowed to them",
            "                    write instead:",
            f"                      # role `bot-prod` at scenarios/bot.yaml:{grants}:13",
            "                      grants:",
            "                        svc: [svc.read@item=i1]",
        ],
        consecutive=True,
    )
    # not strict: a warning, the item passes
    lenient = pytester.runpytest("--harness-strict", "false", "-W", "always::UserWarning")
    lenient.assert_outcomes(passed=1, warnings=1)
    lenient.stdout.fnmatch_lines(
        ["*LeastPrivilegeWarning: *`svc.read` (role `bot-prod`) is broader*"]
    )


def test_finding_of_another_flow_does_not_fail_this_flow(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    text = ws.policy({"prod": ["svc.read"]}, {"reads": ["GET /items"], "writes": ["POST /items"]})
    ws.write({"bot.yaml": text})
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "PASSED scenarios/bot.yaml::reads[[]bot@prod[]]",
            "FAILED scenarios/bot.yaml::writes[[]bot@prod[]] - binding bot@prod fails*",
        ]
    )


# -- a workspace that does not load ------------------------------------------------------

BROKEN_ROLE = """\
connectors:
  - name: bot
    owner: owner@example.com
    credential: {type: oauth2-client-credentials, lifetime: 1h}
    allowed_hosts: [api.svc.example]
roles:
  - name: reader
    grants: {svc: [svc.read]}
bindings:
  - connector: bot
    env: prod
    roles: [readr]
flows:
  - name: sync
    connector: bot
    steps:
      - request: {method: GET, url: https://api.svc.example/items}
"""

PASSING_TEST = """
def test_unrelated():
    assert True
"""


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_broken_workspace_is_one_failing_item(
    pytester: pytest.Pytester, ws: PluginWorkspace, mode: str
) -> None:
    ws.write({"bot.yaml": BROKEN_ROLE, "other.yaml": ws.policy({}, {}, connector="idle")})
    pytester.makepyfile(test_unrelated=PASSING_TEST)
    run = pytester.runpytest_subprocess if mode == "subprocess" else pytester.runpytest_inprocess
    collected = run("--collect-only", "-q")
    collected.stdout.fnmatch_lines(
        ["scenarios/bot.yaml::workspace", "test_unrelated.py::test_unrelated", "", "2 tests *"],
        consecutive=True,
    )
    line = ws.line_of(BROKEN_ROLE, "roles: [readr]")
    result = run("-rA")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ workspace _*",
            "the connector-harness workspace does not load (1 problem):",
            f"scenarios/bot.yaml:{line}:13: binding refers to role `readr`, which is not defined",
            "  did you mean `reader`?",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        ["FAILED scenarios/bot.yaml::workspace - the connector-harness workspace*"]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*INTERNALERROR*")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # 1: not interrupted, not a usage error


def test_broken_service_file_fails_on_the_first_scenario_file(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    broken = ws.SERVICE.replace("hosts: [api.svc.example]", "hosts: [api.svc.example")
    ws.write(service=broken)
    items, _ = pytester.inline_genitems()
    assert [item.nodeid for item in items] == ["scenarios/bot.yaml::workspace"]
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "the connector-harness workspace does not load (1 problem):",
            "mocks/svc.yaml:*:*: invalid YAML*",
        ],
        consecutive=True,
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_broken_workspace_item_is_located_at_the_error(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    ws.write({"bot.yaml": BROKEN_ROLE})
    items, _ = pytester.inline_genitems()
    (item,) = items
    line = ws.line_of(BROKEN_ROLE, "roles: [readr]")
    assert item.location == ("scenarios/bot.yaml", line - 1, "workspace")


def test_broken_workspace_fails_tests_using_the_sandbox(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    ws.write({"bot.yaml": BROKEN_ROLE})
    pytester.makepyfile(
        test_uses_sandbox="""
        def test_uses_sandbox(sandbox):
            pass
        """
    )
    result = pytester.runpytest("-rA")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*the connector-harness workspace does not load:",
            "*scenarios/bot.yaml:*:13: binding refers to role `readr`, which is not defined",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize(
    ("settings_file", "text", "line"),
    [
        ("connector-harness.yaml", "mocks: [mocks]\nscenarios: [scenaros]\n", 2),
        ("pyproject.toml", '[tool.connector-harness]\nscenarios = ["scenaros"]\n', 2),
    ],
)
def test_invalid_settings_are_one_failing_item(
    pytester: pytest.Pytester, ws: PluginWorkspace, settings_file: str, text: str, line: int
) -> None:
    """No policy document can carry the error (the settings name no readable directory),
    so the settings file does: the gate must not silently collect nothing."""
    ws.write(ini=None, settings=None)
    (pytester.path / settings_file).write_text(text, "utf-8")
    pytester.makepyfile(test_unrelated=PASSING_TEST)
    result = pytester.runpytest("-rA")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "the connector-harness workspace does not load (1 problem):",
            f"*{settings_file}:{line}:*: `scenarios[[]0[]]`: the directory 'scenaros' does not"
            " exist in the workspace",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines([f"FAILED {settings_file}::workspace - *"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_no_workspace_no_item(pytester: pytest.Pytester) -> None:
    """A project that is no workspace at all (the plugin is installed everywhere pytest is)
    gets no workspace item, just its own tests."""
    pytester.makepyfile(test_unrelated=PASSING_TEST)
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*::workspace*")


def test_a_repository_that_does_not_use_connector_harness_is_left_alone(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    """The plugin is installed wherever pytest is; a `scenarios/` of some other tool's YAML
    is not a workspace until the repository says so."""
    ws.write({"login.yaml": "users:\n  - name: alice\n"}, ini=None, settings=None)
    pytester.makepyfile(test_unrelated=PASSING_TEST)
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*workspace*")
    # one ini key is enough to say so
    pytester.makeini("[pytest]\nharness_workspace = .\n")
    result = pytester.runpytest("-rA")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*scenarios/login.yaml:1:1: unknown key `users`*"])


def test_a_settings_error_does_not_hide_the_workspace_errors(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    """An unknown settings key and an impossible clock do not say which files to read: the
    workspace is still loaded, and its own problem is reported beside the settings' ones."""
    from tests.plugin.conftest import BOT, SETTINGS

    ws.write(
        {"bot.yaml": BOT.replace("    owner:", "    ownr:", 1)},
        settings=SETTINGS + 'clock: "2026-02-30T00:00:00Z"\nmock: [mocks]\n',
    )
    result = pytester.runpytest("-rA")
    result.stdout.fnmatch_lines_random(
        [
            "*connector-harness.yaml:3:8: `clock` is not a valid time*",
            "*connector-harness.yaml:4:1: unknown key `mock` in the document*",
            "*scenarios/bot.yaml:3:5: unknown key `ownr` in `connectors[[]0[]]`*",
        ]
    )
