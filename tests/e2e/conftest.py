"""Fixtures for end-to-end tests: run the CLI in-process and capture what it prints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from harness.cli import main


class CliResult(NamedTuple):
    code: int
    stdout: str
    stderr: str


RunCli = Callable[..., CliResult]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> RunCli:
    """`run_cli("check", "ws", cwd=dir)` -> (exit code, stdout, stderr), run from `cwd`."""

    def run(*args: str, cwd: Path) -> CliResult:
        monkeypatch.chdir(cwd)
        capsys.readouterr()  # drop anything printed before the run
        code = main(list(args))
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run
