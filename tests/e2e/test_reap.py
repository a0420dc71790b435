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
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.transports.reaping import (
    LABEL,
    LABEL_OWNER,
    LABEL_RUN,
    LABEL_SERVICE,
    new_run_id,
    reap,
)


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
    finished = _finished_pid()
    ours = _labelled(docker_engine, mock_image, run, os.getpid())
    # last, right before the reap: any other run's start removes orphans of this host too
    orphan = _labelled(docker_engine, mock_image, run, finished)
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
    # both owned by this process, alive: only `--all` removes them, no other run's start does
    doomed = _labelled(docker_engine, mock_image, target, os.getpid())
    spared = _labelled(docker_engine, mock_image, other, os.getpid())
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


_RUN = """
import sys, time
from harness.sandbox import Sandbox
from harness.transports import open_transport
from harness.workspace.loader import load_workspace

root, image, run = sys.argv[1:]
sandbox = Sandbox(load_workspace(root))
with open_transport("docker", sandbox, default_image=image, run_id=run):
    print("open", flush=True)
    time.sleep(120)
"""


@pytest.mark.docker
def test_the_shared_container_of_a_run_is_found_by_its_labels_and_reaped(
    docker_engine: Any, mock_image: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = f"test-{new_run_id()}"
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-c", _RUN, str(root), mock_image, run], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "open"
        (shared,) = docker_engine.containers.list(filters={"label": f"{LABEL_RUN}={run}"})
        services = shared.labels[LABEL_SERVICE].split(",")
        assert len(services) == 9
        assert shared.name == f"connector-harness-{run}-{services[0]}-and-8-more"
        assert main(["reap", "--run", run]) == 0  # its run is still going
        assert capsys.readouterr().out.splitlines() == [
            f"Nothing to remove: no container of run {run} whose process is gone is left."
        ]
        assert main(["reap", "--run", run, "--all"]) == 0
        assert capsys.readouterr().out.splitlines() == [
            f"removed {shared.name}",
            f"Removed 1 container of run {run}.",
        ]
        assert not docker_engine.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run}"})
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
        reap(docker_engine, everything=True, run=run)
