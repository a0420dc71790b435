"""pytest plugin scale: collect and run 1,000 flow x binding items, serially and with -n 2.

Run with `.venv/bin/python bench/plugin.py` (also part of `make bench`). A
generated workspace (bench/generate.py) of 100 connectors x 5 flows x 100 calls,
each bound in dev and prod, gives 1,000 items. Targets, measured in this run: the
serial session under 10 s, and `-n 2 --dist loadfile` at least 1.5x faster than
serial. (`--dist loadfile` keeps a connector's items on one worker, so each binding
is replayed once; with plain `--dist load` both workers replay most bindings.)

Every xdist worker loads the whole workspace before it runs its half, so the
workspace cache (harness/workspace/cache.py) decides how much parallelism can win: the
first, cold session is shown apart, and the targets are judged on sessions with
the cache warm, as in everyday use, each the best of 5 (the same session varies by
0.5 s from run to run on this two-core machine).

The judged sessions run with every plugin the development environment installs
(Hypothesis's plugin imports Hypothesis at the end of each session, in the
controller and in each worker). A second pair runs with plugin autoloading off
and only pytest-xdist and this plugin loaded, to show what those two cost apart
from the rest.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import generate_workspace

CONNECTORS, FLOWS, CALLS = 100, 5, 100
SERIAL_TARGET_SECONDS = 10.0
PARALLEL_TARGET_RATIO = 1.5
PARALLEL = ("-n", "2", "--dist", "loadfile")


REPEATS = 5
ONLY_THESE_PLUGINS = ("-p", "xdist.plugin", "-p", "harness.pytest_plugin.plugin")


def run_session(root: Path, *extra: str, isolated: bool = False) -> tuple[float, str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *(ONLY_THESE_PLUGINS if isolated else ()),
        "--rootdir",
        str(root),
        "-c",
        str(root / "pytest.ini"),
        str(root / "scenarios"),
        *extra,
    ]
    environment = {**os.environ, "CONNECTOR_HARNESS_CACHE": str(root / ".harness-cache")}
    # Python's default: compiled modules are cached. Without it (PYTHONDONTWRITEBYTECODE)
    # every session recompiles the harness and pytest re-rewrites each plugin's modules.
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    if isolated:
        environment["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    started = time.perf_counter()
    finished = subprocess.run(
        command, capture_output=True, text=True, cwd=root, check=False, env=environment
    )
    seconds = time.perf_counter() - started
    summary = (
        finished.stdout.strip().splitlines()[-1]
        if finished.stdout.strip()
        else finished.stderr[-300:]
    )
    return seconds, summary


def count(summary: str) -> int:
    return sum(
        int(n) for n in re.findall(r"(\d+) (?:passed|failed|xfailed|skipped|errors?)", summary)
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="harness-plugin-bench-") as directory:
        root = Path(directory)
        generate_workspace(root, CONNECTORS, flows=FLOWS, calls=CALLS)
        (root / "pytest.ini").write_text("[pytest]\n")
        cold, _ = run_session(root)  # fills the workspace cache

        def best(*extra: str, isolated: bool = False) -> tuple[float, str]:
            return min(run_session(root, *extra, isolated=isolated) for _ in range(REPEATS))

        serial, serial_summary = best()
        parallel, parallel_summary = best(*PARALLEL)
        alone_serial, _ = best(isolated=True)
        alone_parallel, _ = best(*PARALLEL, isolated=True)
    items = count(serial_summary)
    ratio = serial / parallel
    serial_ok = serial < SERIAL_TARGET_SECONDS
    ratio_ok = ratio >= PARALLEL_TARGET_RATIO
    print(
        f"pytest plugin: {items} flow x binding items ({CONNECTORS} connectors x {FLOWS} flows x 2 envs, "
        f"{CALLS} calls per flow), best of {REPEATS} with the workspace cache warm"
    )
    print(
        f"  serial, cold  {cold:6.2f} s   (the first session parses the workspace and fills the cache)"
    )
    print(
        f"  serial        {serial:6.2f} s   [target < {SERIAL_TARGET_SECONDS:.0f} s: "
        f"{'PASS' if serial_ok else 'MISS'}]   {serial_summary}"
    )
    print(
        f"  -n 2 loadfile {parallel:6.2f} s   {ratio:.2f}x serial   [target >= {PARALLEL_TARGET_RATIO}x: "
        f"{'PASS' if ratio_ok else 'MISS'}]   {parallel_summary}"
    )
    print(
        f"  pytest-xdist and this plugin alone: serial {alone_serial:.2f} s, "
        f"-n 2 loadfile {alone_parallel:.2f} s, {alone_serial / alone_parallel:.2f}x"
    )
    if count(parallel_summary) != items:
        print("  the parallel run did not run the same items")
        return 1
    return 1 if "--strict" in sys.argv and not (serial_ok and ratio_ok) else 0


if __name__ == "__main__":
    sys.exit(main())
