"""The Docker engine a docker transport drives: a client that answers, or a SandboxError that
says how to start one."""

from __future__ import annotations

import os
from typing import Any

from harness.errors import SandboxError


def connect(client: Any = None) -> Any:
    """A Docker SDK client that answers, or a SandboxError saying what to do."""
    try:
        import docker
        import docker.errors
    except ImportError as err:
        raise SandboxError(
            "the docker transport needs the Docker SDK: pip install 'connector-harness[docker]'"
        ) from err
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock (DOCKER_HOST is unset)"
    try:
        client = client or docker.from_env(timeout=30)
        client.ping()
    except docker.errors.DockerException as err:
        raise SandboxError(
            f"no Docker engine answers at {where}: {first_line(err)}\n"
            "  start one (e.g. `dockerd --host unix:///tmp/docker.sock &` and "
            "`export DOCKER_HOST=unix:///tmp/docker.sock`), or use --transport http"
        ) from err
    return client


def first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
