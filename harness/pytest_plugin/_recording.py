"""Writing a flow file from a test's live calls (`--harness-record`, `harness_record` mark)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import pytest

from harness.options import RECORD_MODES, RecordMode

if TYPE_CHECKING:
    from harness.live import LiveSandbox

CALL_REPORT = pytest.StashKey[pytest.TestReport]()


# A flow name as the policy schema allows it, and nothing that leaves the directory.
FLOW_NAME = re.compile(r"(?!\.\.?\Z)[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordMark:
    """The arguments of `@pytest.mark.harness_record(...)`, keyword-only, so that a
    misspelled one fails the test instead of being ignored."""

    flow: str | None = None  # the flow's name (default: the test's name)
    connector: str | None = None  # needed when the test used several connectors
    mode: RecordMode = "new"  # new: only when no flow file exists yet; all: always

    @classmethod
    def of(cls, node: pytest.Item) -> RecordMark | None:
        """The mark closest to the test, or None; a TypeError naming the allowed arguments."""
        marker = node.get_closest_marker("harness_record")
        if marker is None:
            return None
        allowed = "flow=, connector=, mode= (none, new, all)"
        if marker.args:
            raise TypeError(f"harness_record takes keyword arguments only: {allowed}")
        unknown = sorted(set(marker.kwargs) - {field.name for field in fields(cls)})
        if unknown:
            raise TypeError(
                f"harness_record has no argument {', '.join(unknown)}; it takes {allowed}"
            )
        mark = cls(**marker.kwargs)
        if mark.mode not in RECORD_MODES:
            raise TypeError(f"harness_record: mode={mark.mode!r}; it takes {allowed}")
        if mark.flow is not None and not FLOW_NAME.fullmatch(str(mark.flow)):
            raise TypeError(
                f"harness_record: flow={mark.flow!r} is not a flow name; the flow file is "
                "written under the scenarios directory as NAME.yaml, so write a plain name "
                "of letters, digits, `-`, `_` and `.` (no `/` or `..`), e.g. flow='nightly-sync'"
            )
        return mark


def finish_recording(request: pytest.FixtureRequest, live: LiveSandbox) -> None:
    """After a passing test, record its calls when the record mode (or the mark) asks for it."""
    from harness.pytest_plugin._items import harness_session
    from harness.recording import flow_from_exchanges, write_flow_file
    from harness.secrets import SecretScrubber

    session = harness_session(request.config)
    mark = RecordMark.of(request.node)
    mode = session.config.options.record
    if mode == "none" and mark is not None:
        mode = mark.mode
    report = request.node.stash.get(CALL_REPORT, None)
    if mode == "none" or not live.exchanges or report is None or not report.passed:
        return
    name = mark.flow if mark is not None and mark.flow else _flow_name(request.node.name)
    connectors = sorted({b.connector for b in live.bindings_used.values()})
    connector = mark.connector if mark is not None and mark.connector else ""
    if not connector and not connectors:
        return  # no binding acted: the calls belong to no connector's flow
    if not connector:
        if len(connectors) != 1:
            pytest.fail(
                f"cannot record {request.node.nodeid}: it used {len(connectors)} connectors "
                f"({', '.join(connectors) or 'none'}); name one with "
                "@pytest.mark.harness_record(connector=...)",
                pytrace=False,
            )
        connector = connectors[0]
    workspace = session.load()
    scenarios = workspace.settings.scenarios[0] if workspace else "scenarios"
    path = session.config.options.workspace / scenarios / "recorded" / f"{name}.yaml"
    if mode == "new" and path.exists():
        return
    scrubber = SecretScrubber()
    flow, sidecars = flow_from_exchanges(
        live.exchanges,
        name=name,
        connector=connector,
        description=f"recorded from {request.node.nodeid}",
        scrubber=scrubber,
        sidecar_dir=f"{name}.bodies",
        expected_refused=live.asserted_refusals(),
    )
    write_flow_file(
        path,
        flow,
        sidecars,
        source=request.node.nodeid,
        secrets=scrubber.count,
        root=session.config.options.workspace,
    )


def _flow_name(test_name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")
    return name.removeprefix("test_").replace("_", "-") or "recorded"
