"""`connector-harness reap`: the containers of finished runs go, those of running ones stay."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from typing import Any

import pytest

from harness.cli import main
from harness.transports.reaping import LABEL, LABEL_OWNER


def _finished_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.docker
def test_reap_removes_the_containers_of_finished_runs(
    docker_engine: Any, mock_image: str, capsys: pytest.CaptureFixture[str]
) -> None:
    host = socket.gethostname()

    def container(pid: int) -> Any:
        labels = {LABEL: "1", LABEL_OWNER: f"{host}:{pid}"}
        return docker_engine.containers.create(mock_image, command=["true"], labels=labels)

    orphan, ours = container(_finished_pid()), container(os.getpid())
    try:
        assert main(["reap"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out == [f"removed {orphan.name}", "Removed 1 container of a finished run."]
        names = {c.name for c in docker_engine.containers.list(all=True, filters={"label": LABEL})}
        assert ours.name in names
        assert orphan.name not in names
        assert main(["reap"]) == 0
        assert capsys.readouterr().out.splitlines()[-1] == (
            "Nothing to remove: no container of a finished run is left."
        )
        assert main(["reap", "--all"]) == 0
        assert f"removed {ours.name}" in capsys.readouterr().out.splitlines()
    finally:
        import docker.errors

        for leftover in (orphan, ours):
            with contextlib.suppress(docker.errors.NotFound):  # the command removed it
                leftover.remove(force=True)
