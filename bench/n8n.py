"""The n8n import benchmark: `make bench` (or `.venv/bin/python bench/n8n.py`).

Imports 300 generated workflows (bench/n8n_generate.py, about 10 service nodes each)
into a fresh workspace, with one runner process for the whole batch, and reports the
wall time, workflows per second and node operations per second, and the share of
service nodes that produced calls. Beside it, the reference measured in the same run:
the same import with a fresh runner process per workflow, on a sample of workflows and
scaled to the batch. Target: the 300 workflows in under 60 s.

Options: --workflows 300 --nodes 10 --seed 0 --sample 10 (the reference's sample),
--quick (30 workflows, a smoke test), --strict (exit 1 on MISS).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from n8n_generate import generate_workflows

from harness.n8n.documents import plan_documents
from harness.n8n.grants import ScopeSources
from harness.n8n.packages import ensure_packages
from harness.n8n.pipeline import Imported, import_exports
from harness.n8n.writer import WorkspaceWriter

TARGET_SECONDS = 60.0
TARGET_WORKFLOWS = 300
CLOCK = datetime(2026, 1, 1, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples" / "n8n"


def _import(paths: list[Path], output: Path, packages: Path) -> Imported:
    imported = import_exports(paths, clock=CLOCK, sources=ScopeSources({}, {}), packages=packages)
    writer = WorkspaceWriter(output)
    for document in plan_documents(imported.plan):
        writer.document(document, imported.run.versions)
    writer.packs(imported.plan.packs)
    writer.settings(imported.plan.packs)
    writer.finish(imported.plan.names)
    return imported


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=TARGET_WORKFLOWS)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.workflows, args.sample = 30, 3
    packages = ensure_packages()
    load = os.getloadavg()[0]
    print(
        f"n8n import benchmark: {args.workflows} workflows x {args.nodes} service nodes "
        f"(load {load:.2f} on {os.cpu_count()} CPUs{', busy' if load > (os.cpu_count() or 1) / 2 else ''})"
    )
    with tempfile.TemporaryDirectory(prefix="n8n-bench-") as scratch:
        base = Path(scratch)
        paths = generate_workflows(base / "exports", args.workflows, args.nodes, args.seed)
        started = time.perf_counter()
        imported = _import(paths, base / "workspace", packages)
        elapsed = time.perf_counter() - started
        operations = len(imported.run.results)
        with_calls, services = imported.run.share_with_calls()
        sample = paths[: args.sample]
        started = time.perf_counter()
        for index, path in enumerate(sample):
            _import([path], base / f"reference-{index}", packages)
        per_workflow = (time.perf_counter() - started) / max(len(sample), 1)
        examples = sorted(EXAMPLES.glob("*.n8n.json"))
        example_run = _import(examples, base / "examples", packages).run
    reference = per_workflow * args.workflows
    verdict = "OK  " if elapsed < TARGET_SECONDS * args.workflows / TARGET_WORKFLOWS else "MISS"
    example_calls, example_services = example_run.share_with_calls()
    rows = [
        (
            "total",
            f"{elapsed:.1f} s for {args.workflows} workflows (target < {TARGET_SECONDS * args.workflows / TARGET_WORKFLOWS:.0f} s)  {verdict}",
        ),
        ("workflows/s", f"{args.workflows / elapsed:.1f}"),
        ("node operations/s", f"{operations / elapsed:.1f} ({operations} node operations)"),
        ("runner restarts", str(imported.run.restarts)),
        (
            "reference",
            f"{reference:.1f} s with a runner process per workflow (sample of {len(sample)}); one process is {reference / elapsed:.1f}x faster",
        ),
        (
            "service nodes with calls",
            f"{with_calls} of {services} ({100 * with_calls / max(services, 1):.1f}%) in the generated workflows",
        ),
        (
            "",
            f"{example_calls} of {example_services} ({100 * example_calls / max(example_services, 1):.1f}%) in docs/examples/n8n",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return 1 if args.strict and verdict == "MISS" else 0


if __name__ == "__main__":
    sys.exit(main())
