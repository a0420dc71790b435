"""The realism suite is opt-in for now: set CONNECTOR_HARNESS_REALISM=1 (or run `make realism`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .judge import Judge

VARIABLE = "CONNECTOR_HARNESS_REALISM"
HERE = Path(__file__).parent


def _enabled() -> bool:
    return os.environ.get(VARIABLE, "") not in ("", "0")


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    if not _enabled() and collection_path.is_relative_to(HERE) and collection_path != HERE:
        return True
    return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _enabled():
        terminalreporter.write_line(
            f"tests/realism not collected: set {VARIABLE}=1 (make realism) to judge the "
            "bundled packs against the vendors' SDKs and reference pages"
        )


@pytest.fixture(scope="session")
def judge(tmp_path_factory: pytest.TempPathFactory) -> Judge:
    """The harness's verdicts on every case, computed once per vendor."""
    from .cases import CASES  # the SDKs load only when the suite runs

    return Judge(CASES, tmp_path_factory.mktemp("realism"))
