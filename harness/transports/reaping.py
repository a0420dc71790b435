"""Labels on every container a docker transport starts, and reaping: removing the
containers of runs whose process is gone (a crash, a SIGKILL), or all of them."""

from __future__ import annotations

import os
import socket
from typing import Any

from harness.transports.docker_engine import connect

LABEL = "connector-harness"
LABEL_OWNER = "connector-harness.owner"  # HOSTNAME:PID of the process that started it
LABEL_RUN = "connector-harness.run"
LABEL_SERVICE = "connector-harness.service"


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


def reap(client: Any = None, *, everything: bool = False) -> list[str]:
    """Remove labelled containers whose owner process on this host is gone (or all of them).

    Returns the names of the removed containers.
    """
    client = connect(client)
    removed: list[str] = []
    host = socket.gethostname()
    for container in client.containers.list(all=True, filters={"label": LABEL}):
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
