"""n8n's packages, fetched with npm at pinned versions into the user's cache directory.

n8n's Sustainable Use License forbids redistributing `n8n-nodes-base` and
`n8n-workflow`, so connector-harness ships only the pins (`harness/n8n/npm/`): a
package.json and its package-lock.json for n8n-workflow and the few libraries node
code needs (`npm ci` checks every package against the lock's integrity), and the
version and integrity of n8n-nodes-base, which is fetched without its hundreds of
dependencies (`npm pack`, then its SHA-512 compared with the pin before it is unpacked).

The result lives in `$CONNECTOR_HARNESS_N8N_CACHE/<pins digest>/`, else
`$XDG_CACHE_HOME/connector-harness/n8n/<pins digest>/` (~/.cache by default):
`node_modules/`, `n8n-nodes-base/` and a `complete.json` written last. A change of the
pins is a new directory; a half-finished fetch is never used.

`python -m harness.n8n.packages` fetches them ahead of time (`make` and CI do).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

PINS = Path(__file__).resolve().parent / "npm"
NODES_BASE = "n8n-nodes-base"
INSTALL_NODE = "apt-get install nodejs npm"  # Debian and Ubuntu; https://nodejs.org otherwise
FETCH_TIMEOUT_SECONDS = 900
MIN_NODE_MAJOR = 18
_SKIPPED_SUFFIXES = (".map", ".d.ts", ".d.ts.map", ".svg", ".png")


class NodeMissing(HarnessError):
    """Node.js or npm is not installed; the message names the command that installs it."""


class FetchFailed(HarnessError):
    """npm could not fetch n8n's packages, or what it fetched does not match the pins."""


@dataclass(frozen=True, slots=True)
class Pins:
    """The versions connector-harness runs n8n's code at."""

    nodes_base: str
    nodes_base_integrity: str
    workflow: str
    digest: str  # of package.json and package-lock.json: the cache directory's name


@functools.cache
def pins() -> Pins:
    manifest = json.loads((PINS / "package.json").read_text("utf-8"))
    pinned = manifest["connectorHarness"]["fetchedWithoutDependencies"][NODES_BASE]
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((PINS / name).read_bytes())
    return Pins(
        nodes_base=pinned["version"],
        nodes_base_integrity=pinned["integrity"],
        workflow=manifest["dependencies"]["n8n-workflow"],
        digest=digest.hexdigest()[:16],
    )


def node_executable() -> str:
    """The `node` to run, or NodeMissing naming the command that installs it."""
    found = shutil.which("node") or shutil.which("nodejs")
    if found is None:
        raise NodeMissing(
            "Node.js is not installed; reading n8n workflows runs n8n's node code under it. "
            f"Install it with `{INSTALL_NODE}` (or from https://nodejs.org), then run again"
        )
    try:
        version = subprocess.run(
            [found, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
        major = int(version.lstrip("v").split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError) as err:
        raise NodeMissing(
            f"{found} does not run (`node --version` failed); reinstall it with `{INSTALL_NODE}`"
        ) from err
    if major < MIN_NODE_MAJOR:
        raise NodeMissing(
            f"Node.js {version} is too old: the n8n runner needs {MIN_NODE_MAJOR} or later; "
            f"install a newer one (`{INSTALL_NODE}` on a current Debian, or https://nodejs.org)"
        )
    return found


def _npm() -> str:
    found = shutil.which("npm")
    if found is None:
        raise NodeMissing(
            "npm is not installed; it fetches n8n's packages (pinned) on first use. "
            f"Install it with `{INSTALL_NODE}`, then run again"
        )
    return found


VARIABLE = "CONNECTOR_HARNESS_N8N_CACHE"


def packages_directory(base: Path | None = None) -> Path:
    """Where the pinned packages are (or will be) fetched: their own directory, apart from
    the workspace cache (which may be switched off, or be a test's temporary one)."""
    if base is None:
        configured = os.environ.get(VARIABLE)
        home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        base = Path(configured) if configured else home / "connector-harness" / "n8n"
    return base / pins().digest


def fetched(base: Path | None = None) -> Path | None:
    """The directory of the fetched packages, or None when they are not fetched yet."""
    directory = packages_directory(base)
    return directory if (directory / "complete.json").is_file() else None


def ensure_packages(base: Path | None = None, *, announce: bool = True) -> Path:
    """The fetched packages' directory, fetching them first when needed (minutes, once)."""
    directory = fetched(base)
    if directory is not None:
        return directory
    node_executable()
    npm = _npm()
    target = packages_directory(base)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent / ".lock"):
        if (target / "complete.json").is_file():  # another process fetched them meanwhile
            return target
        if announce:
            print(
                f"connector-harness: fetching n8n-nodes-base {pins().nodes_base} and "
                f"n8n-workflow {pins().workflow} with npm into {target} (once)",
                file=sys.stderr,
            )
        work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=target.parent))
        try:
            _fetch_into(work, npm)
            if target.exists():
                shutil.rmtree(target)
            work.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_npm(arguments: list[str], cwd: Path) -> str:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "TMPDIR") or key.lower().startswith("npm_config_")
    }
    try:
        done = subprocess.run(
            arguments,
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            timeout=FETCH_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise FetchFailed(
            f"`{' '.join(arguments[:2])}` did not finish within {FETCH_TIMEOUT_SECONDS} s; "
            "check that the npm registry is reachable (npm config get registry)"
        ) from err
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-12:]
        raise FetchFailed(
            f"`{' '.join(arguments[:2])}` failed (exit code {done.returncode}) while fetching "
            "n8n's packages:\n  " + "\n  ".join(detail) + "\ncheck that the npm registry is "
            "reachable (npm config get registry), then run again"
        )
    return done.stdout


def _fetch_into(work: Path, npm: str) -> None:
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PINS / name, work / name)
    # The lockfile's integrity hashes are checked by `npm ci` for every package.
    _run_npm(
        [
            npm,
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--omit=dev",
            "--loglevel=error",
        ],
        work,
    )
    pinned = pins()
    packed = _run_npm(
        [
            npm,
            "pack",
            f"{NODES_BASE}@{pinned.nodes_base}",
            "--json",
            "--pack-destination",
            str(work),
        ],
        work,
    )
    try:
        filename = json.loads(packed)[0]["filename"]
    except (ValueError, LookupError, TypeError) as err:
        raise FetchFailed(f"`npm pack {NODES_BASE}` gave no tarball name") from err
    tarball = work / Path(filename).name
    _verify(tarball, pinned.nodes_base_integrity)
    _unpack(tarball, work / NODES_BASE)
    tarball.unlink()
    (work / "complete.json").write_text(
        json.dumps(
            {NODES_BASE: pinned.nodes_base, "n8n-workflow": pinned.workflow, "pins": pinned.digest}
        )
        + "\n",
        "utf-8",
    )


def _verify(tarball: Path, integrity: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    digest = hashlib.new(algorithm)
    with tarball.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    actual = base64.b64encode(digest.digest()).decode()
    if actual != expected:
        raise FetchFailed(
            f"{tarball.name} does not match its pinned integrity ({algorithm} {actual} "
            f"instead of {expected}); the registry served other bytes than the pinned "
            "release: do not use them"
        )


def _unpack(tarball: Path, destination: Path) -> None:
    """The tarball's `package/` as `destination`, through tarfile's `data` filter (no
    links out, no absolute paths, no devices), without source maps and type files."""
    destination.mkdir()
    with tarfile.open(tarball, "r:gz") as archive:
        members = []
        for member in archive.getmembers():
            name = member.name
            if not name.startswith("package/") or name.endswith(_SKIPPED_SUFFIXES):
                continue
            member.name = name[len("package/") :]
            if member.name:
                members.append(member)
        archive.extractall(destination, members=members, filter="data")


def main() -> int:
    """Fetch the pinned packages now (make, CI); exit 2 with the install command when Node.js
    or npm is missing, 1 when the fetch fails."""
    try:
        print(ensure_packages())
    except NodeMissing as missing:
        print(f"connector-harness: {missing}", file=sys.stderr)
        return 2
    except FetchFailed as failed:
        print(f"connector-harness: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
