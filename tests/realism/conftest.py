"""The realism suite runs with every `make test`: it is the judge of the bundled packs."""

from __future__ import annotations

import pytest

from .judge import Judge


@pytest.fixture(scope="session")
def judge(tmp_path_factory: pytest.TempPathFactory) -> Judge:
    """The harness's verdicts on every case, computed once per vendor."""
    from .cases import CASES  # the SDKs load only when the suite runs

    return Judge(CASES, tmp_path_factory.mktemp("realism"))
