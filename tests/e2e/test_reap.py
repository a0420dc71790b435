"""`connector-harness reap`: the containers of finished runs go, those of running ones stay.

The engine may be shared with other runs: every test here labels its containers with a
run id of its own and reaps only that run (`--run`), so it never removes anyone else's.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from typing import Any

import pytest

from harness.cli import main
from harness.transports.reaping import LABEL, LABEL_OWNER, LABEL_RUN, new_run_id


def _finished_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _labelled(docker_engine: Any, image: str, run: str, pid: int) -> Any:
    labels = {LABEL: "1", LABEL_OWNER: f"{socket.gethostname()}:{pid}", LABEL_RUN: run}
    return docker_engine.containers.create(image, command=["true"], labels=labels)


def _names(docker_engine: Any) -> set[str]:
    return {c.name for c in docker_engine.containers.list(all=True, filters={"label": LABEL})}


@pytest.mark.docker
def test_reap_removes_the_containers_of_finished_runs(
    docker_engine: Any, mock_image: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = f"test-{new_run_id()}"
    orphan = _labelled(docker_engine, mock_image, run, _finished_pid())
    ours = _labelled(docker_engine, mock_image, run, os.getpid())
    try:
        assert main(["reap", "--run", run]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out == [
            f"removed {orphan.name}",
            f"Removed 1 container of run {run} whose process is gone.",
        ]
        names = _names(docker_engine)
        assert ours.name in names
        assert orphan.name not in names
        assert main(["reap", "--run", run]) == 0
        assert capsys.readouterr().out.splitlines()[-1] == (
            f"Nothing to remove: no container of run {run} whose process is gone is left."
        )
        assert main(["reap", "--run", run, "--all"]) == 0
        assert capsys.readouterr().out.splitlines() == [
            f"removed {ours.name}",
            f"Removed 1 container of run {run}.",
        ]
    finally:
        import docker.errors

        for leftover in (orphan, ours):
            with contextlib.suppress(docker.errors.NotFound):  # the command removed it
                leftover.remove(force=True)


@pytest.mark.docker
def test_reap_of_one_run_leaves_every_other_run_alone(
    docker_engine: Any, mock_image: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target, other = f"test-{new_run_id()}", f"test-{new_run_id()}"
    finished = _finished_pid()
    doomed = _labelled(docker_engine, mock_image, target, finished)
    spared = _labelled(docker_engine, mock_image, other, finished)  # an orphan, but not ours
    try:
        assert main(["reap", "--run", target, "--all"]) == 0
        assert capsys.readouterr().out.splitlines()[0] == f"removed {doomed.name}"
        names = _names(docker_engine)
        assert doomed.name not in names
        assert spared.name in names
    finally:
        import docker.errors

        for leftover in (doomed, spared):
            with contextlib.suppress(docker.errors.NotFound):
                leftover.remove(force=True)


def test_a_run_id_that_no_run_has_is_refused_before_the_engine_is_asked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["reap", "--run", "../all"]) == 2
    err = capsys.readouterr().err
    assert "run id '../all' is not one the harness gives a run" in err
