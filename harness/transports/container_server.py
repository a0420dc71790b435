"""The process a mock container runs: the harness's own loopback server for the services
the container carries (one or several), over the workspace the host process already loaded.

The docker transport pickles its loaded workspace once into a private directory and
mounts the file read-only into every mock container, so that each container starts in
what unpickling costs instead of parsing and validating the workspace again, and
imports only the server (not the whole CLI); the mock services that can share a
container share one (`container_groups`), so a workspace's mocks cost one start.

    python -S -m harness.transports.container_server WORKSPACE.pickle \
        --serve NAME=PORT [--serve NAME=PORT ...] --bind ADDRESS

Each service listens on its own port and is answered by a sandbox of its own: its own
replay state, collections and decision numbering, exactly as when each service had a
container to itself, so putting several in one container changes nothing a flow sees.
The signing key comes from the environment (`wire.SIGNING_KEY_VARIABLE`), as for `serve`.
Stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from harness.model import Workspace
from harness.sandbox import Sandbox
from harness.transports.loopback import LoopbackServer
from harness.transports.wire import SIGNING_KEY_VARIABLE

RETAINED_DECISIONS = 1000  # as `serve`: a window of recent decisions, the host keeps the log
WORKSPACE_FILE = "workspace.pickle"  # in the directory the docker transport writes


def write_workspace(workspace: Workspace, directory: Path) -> Path:
    """Pickle `workspace` into `directory` (the transport's own, private) for the containers."""
    path = directory / WORKSPACE_FILE
    with path.open("wb") as out:
        pickle.dump(workspace, out, protocol=pickle.HIGHEST_PROTOCOL)
    path.chmod(0o644)  # read by the container's user, whoever the image runs as
    return path


def read_workspace(path: Path) -> Workspace:
    """The workspace the host process wrote (never a file from elsewhere: a pickle is code)."""
    workspace = pickle.loads(path.read_bytes())  # written by write_workspace, mounted read-only
    if not isinstance(workspace, Workspace):
        raise SystemExit(f"{path} does not hold a workspace")
    return workspace


def _served(text: str) -> tuple[str, int]:
    name, _, port = text.rpartition("=")
    if not name or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected NAME=PORT, not {text!r}")
    return name, int(port)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="container_server", description=__doc__)
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--serve", type=_served, action="append", required=True)
    parser.add_argument("--bind", default="0.0.0.0")
    args = parser.parse_args(argv)
    key = os.environ.get(SIGNING_KEY_VARIABLE, "")
    workspace = read_workspace(args.workspace)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
    with contextlib.ExitStack() as servers:
        for name, port in args.serve:
            sandbox = Sandbox(workspace, signing_key=bytes.fromhex(key) or None)
            server = LoopbackServer(
                sandbox,
                address=args.bind,
                ports={name: port},
                services=(name,),
                follow_client=True,
                inside_container=True,
                retain=RETAINED_DECISIONS,
            )
            servers.enter_context(server)
            print(f"serving {name} on {args.bind}:{port}", flush=True)
        try:
            while not stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
