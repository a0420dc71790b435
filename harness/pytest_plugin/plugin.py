"""The pytest plugin (entry point `pytest11`): scenario files as items, sandbox fixtures,
recording, and a least-privilege summary. A thin adapter over the harness engine."""

from __future__ import annotations

import copy
from collections.abc import Generator
from pathlib import Path

import pytest

from harness.pytest_plugin._config import add_options, resolve, spell_out_record_mode
from harness.pytest_plugin._fixtures import (
    assert_blocked,
    assert_denied,
    assert_least_privilege,
    binding,
    boundary_sandbox,
    harness_workspace,
    http_sandbox,
    sandbox,
)
from harness.pytest_plugin._items import (
    SECTION,
    SESSION_KEY,
    FlowItem,
    ScenarioFile,
    harness_session,
)
from harness.pytest_plugin._recording import CALL_REPORT
from harness.pytest_plugin._session import HarnessSession
from harness.pytest_plugin._summary import HarnessReporter
from harness.workspace.default import use_workspace_from

__all__ = [
    "assert_blocked",
    "assert_denied",
    "assert_least_privilege",
    "binding",
    "boundary_sandbox",
    "harness_workspace",
    "http_sandbox",
    "sandbox",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    # before pytest reads a test path after a bare --harness-record as the record mode
    if spell_out_record_mode(args):
        early_config.known_args_namespace = parser.parse_known_args(
            args, namespace=copy.copy(early_config.option)
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "harness_record(flow=None, connector=None, mode='new'): record this test's live calls "
        "in the sandbox as a flow file of the connector-harness workspace",
    )
    session = HarnessSession(resolve(config))
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(HarnessReporter(session), "connector-harness-reporter")
    use_workspace_from(session.load)  # for harness.strategies, loaded only if a test asks


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    session = harness_session(parent.config)
    if not session.active():
        return None
    if (
        file_path.suffix in (".yaml", ".yml", ".json")
        and file_path.resolve() in session.scenario_paths()
    ):
        return ScenarioFile.from_parent(parent, path=file_path)
    if session.errors and file_path.resolve() == session.error_file():
        return ScenarioFile.from_parent(parent, path=file_path)  # e.g. connector-harness.yaml
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    if isinstance(item, FlowItem):
        # Each on one report, not on every phase's as add_report_section and
        # user_properties would put them: every report crosses to the xdist controller.
        # The section goes with the call, where a failure shows it; the properties with
        # the teardown, where JUnit XML reads them.
        if report.when == "call" and item.harness_section is not None:
            report.sections.append((SECTION, item.harness_section))
        if report.when == "teardown":
            report.user_properties.extend(item.harness_properties)
    return report
