"""Collection: flow x binding items, their ids and YAML locations, YAML marks, filters."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest

from harness.pytest_plugin._items import FlowItem

if TYPE_CHECKING:
    from conftest import PluginWorkspace

IDS = [
    "scenarios/bot.yaml::list-items[bot@dev]",
    "scenarios/bot.yaml::list-items[bot@prod]",
    "scenarios/bot.yaml::create-item[bot@dev]",
    "scenarios/bot.yaml::create-item[bot@prod]",
]


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_plugin_is_active_and_collects_flow_items(
    pytester: pytest.Pytester, ws: PluginWorkspace, mode: str
) -> None:
    """In-process and through the pytest11 entry point (a fresh interpreter) alike."""
    ws.write()
    run = pytester.runpytest_subprocess if mode == "subprocess" else pytester.runpytest_inprocess
    result = run("--collect-only", "-q")
    result.stdout.fnmatch_lines([*IDS, "", "4 tests collected in *"], consecutive=True)
    assert result.ret == 0
    header = run("--collect-only")
    header.stdout.fnmatch_lines(["plugins: *connector-harness-*"])


def test_item_location_is_the_flow_line(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write()
    items, _ = pytester.inline_genitems()
    assert [item.nodeid for item in items] == IDS
    for item in items:
        assert isinstance(item, FlowItem)
        flow_line = ws.line_of(ws.BOT, f"- name: {item.flow.name}")
        assert item.flow.location.line == flow_line
        # pytest's location is 0-based: the flow's YAML line - 1
        assert item.location == ("scenarios/bot.yaml", flow_line - 1, item.name)


def test_yaml_marks_select_and_xfail(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write()
    result = pytester.runpytest("-m", "nightly", "-rA")
    result.assert_outcomes(passed=2, deselected=2)
    result.stdout.fnmatch_lines(
        [
            "PASSED scenarios/bot.yaml::list-items[bot@dev]",
            "PASSED scenarios/bot.yaml::list-items[bot@prod]",
        ]
    )
    # a mark of the binding: every flow of bot@prod
    result = pytester.runpytest("-m", "smoke", "-rA")
    result.assert_outcomes(passed=1, xfailed=1, deselected=2)
    result.stdout.fnmatch_lines(
        [
            "XFAIL scenarios/bot.yaml::create-item[bot@prod] - svc.write is not granted yet",
        ]
    )
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=2, xfailed=2)
    assert result.ret == 0


def test_marks_are_real_pytest_marks(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write()
    items, _ = pytester.inline_genitems()
    by_id = {item.nodeid: item for item in items}
    prod_create = by_id["scenarios/bot.yaml::create-item[bot@prod]"]
    xfail = prod_create.get_closest_marker("xfail")
    assert xfail is not None
    assert xfail.kwargs == {"reason": "svc.write is not granted yet"}
    assert prod_create.get_closest_marker("smoke") is not None
    assert by_id["scenarios/bot.yaml::list-items[bot@dev]"].get_closest_marker("smoke") is None


def test_env_filter(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write()
    result = pytester.runpytest("--collect-only", "-q", "--harness-env", "dev")
    result.stdout.fnmatch_lines(
        [
            "scenarios/bot.yaml::list-items[bot@dev]",
            "scenarios/bot.yaml::create-item[bot@dev]",
            "",
            "2 tests collected in *",
        ],
        consecutive=True,
    )
    result.stdout.no_fnmatch_line("*bot@prod*")


def test_binding_filter(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write()
    result = pytester.runpytest("--collect-only", "-q", "--harness-binding", "bot@prod")
    result.stdout.fnmatch_lines(
        [
            "scenarios/bot.yaml::list-items[bot@prod]",
            "scenarios/bot.yaml::create-item[bot@prod]",
            "",
            "2 tests collected in *",
        ],
        consecutive=True,
    )


def test_yaml_files_outside_the_workspace_are_not_collected(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    ws.write()
    pytester.makefile(".yaml", **{"other/config": "key: value\n"})
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.no_fnmatch_line("*other/config.yaml*")
    result.stdout.fnmatch_lines(["4 tests collected in *"])


def test_plugin_loads_without_hypothesis(
    pytester: pytest.Pytester, ws: PluginWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hypothesis is an optional extra; the auto-loaded plugin must not need it (it used to
    import harness.strategies, hence hypothesis, at load time and broke every session)."""
    ws.write()
    blocked = pytester.path / "blocked" / "hypothesis"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('hypothesis is not installed')\n")
    monkeypatch.setenv("PYTHONPATH", str(blocked.parent))
    check = pytester.run(sys.executable, "-c", "import hypothesis")
    check.stderr.fnmatch_lines(["ImportError: hypothesis is not installed"])
    result = pytester.runpytest_subprocess("-p", "no:hypothesispytest", "-rA")
    result.assert_outcomes(passed=2, xfailed=2)
    result.stdout.no_fnmatch_line("*ImportError*")


def test_yaml_marks_are_registered_for_strict_markers(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    """No pytest.ini registers `nightly` or `smoke`: the plugin registers the marks the
    workspace's flows and bindings carry, so `--strict-markers` accepts them."""
    ws.write(ini="[pytest]\n")
    result = pytester.runpytest("--strict-markers", "-m", "nightly or smoke", "-rA")
    result.assert_outcomes(passed=2, xfailed=1, deselected=1)
    assert result.ret == pytest.ExitCode.OK
