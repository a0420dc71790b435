"""import-flow at size: a HAR file of N entries imported against the repository's workspace.

Run with `.venv/bin/python bench/import_flow.py [--entries 10000]`.

What: `connector-harness import-flow` of a synthetic HAR (GET/POST calls over the four
services of mocks/, JSON bodies, a token in each Authorization header), in a fresh
interpreter, wall clock around the whole command. The import must be linear in the
number of entries: the table shows the time at N/4, N/2 and N, and the ratio of the time
per entry at N to the time per entry at N/4 (same run), which stays near 1 when it is.
Target: 10,000 entries in under 5 s on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 5.0
CALLS = [
    ("GET", "https://api.crm.example/v1/contacts?limit=100", None),
    ("POST", "https://api.crm.example/v1/contacts", {"name": "Ada", "email": "ada@example.com"}),
    ("GET", "https://api.chat.example/api/conversations.list", None),
    ("GET", "https://sheets.example/v4/spreadsheets/S1/values/A1:B2", None),
]


def har(entries: int) -> dict[str, object]:
    listed = []
    for number in range(entries):
        method, url, body = CALLS[number % len(CALLS)]
        request: dict[str, object] = {
            "method": method,
            "url": url,
            "headers": [{"name": "Authorization", "value": f"Bearer tok{number:08d}ABCdef"}],
        }
        if body is not None:
            request["postData"] = {"mimeType": "application/json", "text": json.dumps(body)}
        listed.append(
            {
                "request": request,
                "response": {
                    "status": 200,
                    "headers": [{"name": "Content-Type", "value": "application/json"}],
                    "content": {"text": json.dumps({"ok": True, "n": number})},
                },
            }
        )
    return {"log": {"version": "1.2", "entries": listed}}


def time_import(directory: Path, entries: int) -> float:
    path = directory / f"recording-{entries}.har"
    path.write_text(json.dumps(har(entries), indent=1), "utf-8")
    command = [
        sys.executable, "-m", "harness.cli", "import-flow", str(path), "--connector", "crm-sync",
        "--workspace", str(ROOT), "-o", str(directory / f"flow-{entries}.yaml"),
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    args = parser.parse_args()
    sizes = [args.entries // 4, args.entries // 2, args.entries]
    print(f"import-flow of a HAR, fresh interpreter each (load {os.getloadavg()[0]:.2f})")
    with tempfile.TemporaryDirectory() as directory:
        fixed = min(time_import(Path(directory), 1) for _ in range(2))  # start-up, workspace
        times = {size: time_import(Path(directory), size) for size in sizes}
    print(f"  fixed cost (1 entry: interpreter, workspace): {fixed:.2f} s")
    print(f"  {'entries':>8}  {'seconds':>8}  {'above fixed':>11}  {'ms/entry':>8}")
    for size in sizes:
        above = max(times[size] - fixed, 1e-9)
        print(f"  {size:>8,}  {times[size]:>8.2f}  {above:>11.2f}  {1000 * above / size:>8.3f}")
    first, last = sizes[0], sizes[-1]
    growth = (max(times[last] - fixed, 1e-9) / last) / (max(times[first] - fixed, 1e-9) / first)
    print(f"  time per entry above the fixed cost, at {last:,} / at {first:,}: {growth:.2f} "
          "(1.0 = linear)")  # fmt: skip
    passed = times[sizes[-1]] < TARGET_SECONDS
    print(f"  {sizes[-1]:,} entries in {times[sizes[-1]]:.2f} s: target < {TARGET_SECONDS} s "
          f"{'met' if passed else 'MISSED'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
