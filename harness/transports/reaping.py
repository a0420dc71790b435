"""Labels on every container a docker transport starts, and reaping: removing the
containers of runs whose process is gone (a crash, a SIGKILL), or all of them; either
of every run, or of one run (its `connector-harness.run` label)."""

from __future__ import annotations

import os
import re
import socket
import uuid
from typing import Any

from harness.errors import UsageError
from harness.transports.docker_engine import connect

LABEL = "connector-harness"
LABEL_OWNER = "connector-harness.owner"  # HOSTNAME:PID of the process that started it
LABEL_RUN = "connector-harness.run"
LABEL_SERVICE = "connector-harness.service"  # the services it carries, comma-separated
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def new_run_id() -> str:
    return uuid.uuid4().hex[:10]


def check_run_id(run_id: str) -> None:
    """A run id is a label value and part of container names: letters, digits, `_.-`."""
    if not RUN_ID.fullmatch(run_id):
        raise UsageError(
            f"run id {run_id[:80]!r} is not one the harness gives a run: write 1 to 64 "
            "letters, digits, '_', '.' or '-', starting with a letter or digit"
        )


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap(client: Any = None, *, everything: bool = False, run: str | None = None) -> list[str]:
    """Remove labelled containers whose owner process on this host is gone (or all of them);
    with `run`, only among the containers of that run.

    Returns the names of the removed containers.
    """
    labels = [LABEL]
    if run is not None:
        check_run_id(run)
        labels.append(f"{LABEL_RUN}={run}")
    client = connect(client)
    removed: list[str] = []
    host = socket.gethostname()
    for container in client.containers.list(all=True, filters={"label": labels}):
        owner = container.labels.get(LABEL_OWNER, "")
        owner_host, _, pid_text = owner.rpartition(":")
        orphan = owner_host == host and pid_text.isdigit() and not _alive(int(pid_text))
        if everything or orphan or not owner:
            remove_container(container)
            removed.append(container.name)
    return removed


def remove_container(container: Any) -> None:
    import docker.errors

    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as err:
        if "already in progress" not in str(err):
            raise
