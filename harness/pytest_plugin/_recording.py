"""Writing a flow file from a test's live calls (`--harness-record`, `harness_record` mark)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.live import LiveSandbox

CALL_REPORT = pytest.StashKey[pytest.TestReport]()


def finish_recording(request: pytest.FixtureRequest, live: LiveSandbox) -> None:
    """After a passing test, record its calls when the record mode (or the mark) asks for it."""
    from harness.pytest_plugin._items import harness_session
    from harness.recording import flow_from_exchanges, write_flow_file
    from harness.secrets import SecretScrubber

    session = harness_session(request.config)
    marker = request.node.get_closest_marker("harness_record")
    mode = session.config.record
    if mode == "none" and marker is not None:
        mode = str(marker.kwargs.get("mode", "new"))
    report = request.node.stash.get(CALL_REPORT, None)
    if mode == "none" or not live.exchanges or report is None or not report.passed:
        return
    name = (
        str(marker.kwargs["flow"])
        if marker and "flow" in marker.kwargs
        else _flow_name(request.node.name)
    )
    connectors = sorted({b.connector for b in live.bindings_used.values()})
    connector = str(marker.kwargs["connector"]) if marker and "connector" in marker.kwargs else ""
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
    path = session.config.workspace / scenarios / "recorded" / f"{name}.yaml"
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
    )
    write_flow_file(path, flow, sidecars, source=request.node.nodeid, secrets=scrubber.count)


def _flow_name(test_name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")
    return name.removeprefix("test_").replace("_", "-") or "recorded"
