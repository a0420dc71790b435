"""One full check of a workspace, as `connector-harness check DIR --format json --output FILE`.

Run by bench/run.py in a fresh interpreter per workspace size. It does what the CLI
does for `--format json` (load_workspace, Sandbox, run_check, render_json, write the
file) with a clock around each phase, and prints one JSON line of figures:

    python bench/check_once.py WORKSPACE OUTPUT
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    workspace_dir, output = Path(argv[0]), Path(argv[1])
    started = time.perf_counter()
    # Imports are part of what a user waits for, so they are inside the clock.
    from harness.engine import Selection, run_check
    from harness.render.jsonfmt import render_json
    from harness.sandbox import Sandbox
    from harness.workspace.loader import load_workspace

    imported, imported_cpu = time.perf_counter(), time.process_time()
    workspace = load_workspace(workspace_dir)
    loaded, loaded_cpu = time.perf_counter(), time.process_time()
    sandbox = Sandbox(workspace)
    report = run_check(workspace, Selection(None, None), sandbox=sandbox, keep_decisions=False)
    checked, checked_cpu = time.perf_counter(), time.process_time()
    text = render_json(report.to_data())
    output.write_text(text, "utf-8")
    rendered = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {
        "import_s": imported - started,
        "load_s": loaded - imported,
        "check_s": checked - loaded,
        "render_s": rendered - checked,
        "total_s": rendered - started,
        # CPU seconds of this process: what a busy machine changes least
        "load_cpu_s": loaded_cpu - imported_cpu,
        "check_cpu_s": checked_cpu - loaded_cpu,
        "maxrss_kib": usage.ru_maxrss,
        "bindings": len(report.results),
        "calls": report.calls,
        "decisions": len(sandbox.decisions),
        "findings": sum(len(result.findings) for result in report.results),
        "failed": len(report.failed),
        "report_bytes": len(text.encode()),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
