"""Fixtures for tests that need a real component: a Docker engine or a PostgreSQL server.

Each skips, with the exact reason, only when the component is truly absent: no
engine socket, or no PostgreSQL server settings and no initdb/pg_ctl binaries.
Anything else that goes wrong (an engine that does not answer, a server that does
not start) fails the test, so CI cannot pass by skipping.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _docker_socket() -> str | None:
    """The engine address tests use, or None when there is no engine socket at all."""
    configured = os.environ.get("DOCKER_HOST")
    if configured:
        if configured.startswith("unix://") and not Path(configured[7:]).exists():
            return None
        return configured
    return "unix:///var/run/docker.sock" if Path("/var/run/docker.sock").exists() else None


@pytest.fixture(scope="session")
def docker_engine() -> Any:
    """A Docker SDK client of a reachable engine (skips when no engine socket exists)."""
    address = _docker_socket()
    if address is None:
        where = os.environ.get("DOCKER_HOST") or "/var/run/docker.sock"
        pytest.skip(f"no Docker engine: no socket at {where} (set DOCKER_HOST, see DEVELOPERS.md)")
    import docker

    from harness.transports.docker_engine import connect

    return connect(docker.DockerClient(base_url=address, timeout=60))


@pytest.fixture(scope="session")
def mock_image(docker_engine: Any) -> str:
    """The harness's mock-server image, built locally (FROM scratch, no registry)."""
    from harness.transports.mock_image import build_mock_image

    return build_mock_image(docker_engine)


# -- PostgreSQL ---------------------------------------------------------------------------


def _pg_binaries() -> Path | None:
    for name in ("pg_ctl", "initdb"):
        found = shutil.which(name)
        if found and shutil.which("initdb") and shutil.which("pg_ctl"):
            return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    for initdb in candidates:
        if Path(initdb).with_name("pg_ctl").exists():
            return Path(initdb).parent
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A libpq connection string of a PostgreSQL server whose user may create roles.

    From `CONNECTOR_HARNESS_POSTGRES` (a DSN) when set; else a throw-away cluster
    started with initdb/pg_ctl on a loopback port (as the `postgres` user when run as
    root); skips only when neither exists.
    """
    configured = os.environ.get("CONNECTOR_HARNESS_POSTGRES")
    if configured:
        yield configured
        return
    binaries = _pg_binaries()
    if binaries is None:
        pytest.skip(
            "PostgreSQL is not installed: CONNECTOR_HARNESS_POSTGRES is unset and no "
            "initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin (see DEVELOPERS.md)"
        )
    directory = Path(tempfile.mkdtemp(prefix="connector-harness-pg-"))
    data, port = directory / "data", _free_port()
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(directory, "postgres", "postgres")
    user = "postgres" if run_as else os.environ.get("USER", "postgres")

    def run(*command: str) -> None:
        subprocess.run([*run_as, *command], check=True, capture_output=True, timeout=120)

    run(str(binaries / "initdb"), "-D", str(data), "-U", user, "-A", "trust", "--no-sync")
    run(
        str(binaries / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(directory / "log"),
        "-w",
        "-o",
        f"-h 127.0.0.1 -p {port} -k {directory} -F",
        "start",
    )
    try:
        yield f"host=127.0.0.1 port={port} user={user} dbname=postgres"
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(directory, ignore_errors=True)


def wait_for(condition: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


# -- n8n ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def n8n_packages() -> Iterator[Path]:
    """n8n's pinned packages, fetched with npm (skips only when Node.js or npm is missing).

    Their directory is exported for the session, so that pytester runs (which move HOME)
    and subprocesses find them instead of fetching them again."""
    from harness.n8n.packages import VARIABLE, NodeMissing, ensure_packages

    try:
        directory = ensure_packages(announce=False)
    except NodeMissing as missing:
        pytest.skip(f"no Node.js or npm to run n8n's node code: {missing}")
    previous = os.environ.get(VARIABLE)
    os.environ[VARIABLE] = str(directory.parent)
    yield directory
    if previous is None:
        os.environ.pop(VARIABLE, None)
    else:
        os.environ[VARIABLE] = previous


# -- a network namespace ------------------------------------------------------------------


@pytest.fixture(scope="session")
def network_boundary() -> None:
    """Skips, saying why, when this machine cannot make a network namespace (not Linux, not
    root); a namespace that can be made but not set up fails the test instead."""
    from harness.transports.netns import boundary_unavailable

    reason = boundary_unavailable()
    if reason is not None:
        pytest.skip(f"no network boundary: {reason}")
