"""The n8n import end to end, for the command, the workspace loader and the benchmark:
read the exports, run their nodes, plan the workspace."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from harness.n8n.grants import ScopeSources, read_credentials_export, read_mapping
from harness.n8n.importer import ImportRun, Progress, read_exports, run_nodes
from harness.n8n.plan import Plan, plan_workspace
from harness.n8n.runner import NODE_BUDGET_MS


@dataclass(frozen=True, slots=True)
class Imported:
    run: ImportRun
    plan: Plan


def scope_sources(credentials: Path | None, mapping: Path | None) -> ScopeSources:
    """What the user said about scopes: a credentials export and a mapping file, both optional."""
    return ScopeSources(
        mapping=read_mapping(mapping) if mapping is not None else {},
        exported=read_credentials_export(credentials) if credentials is not None else {},
    )


def import_exports(
    paths: Sequence[Path],
    *,
    clock: datetime,
    sources: ScopeSources,
    shown: Sequence[str] | None = None,
    envs: Sequence[str] = ("prod",),
    previous_names: dict[str, str] | None = None,
    taken: Iterable[str] = (),
    packages: Path | None = None,
    budget_ms: int = NODE_BUDGET_MS,
    progress: Progress | None = None,
) -> Imported:
    workflows, errors = read_exports(paths, shown or [str(p) for p in paths])
    run = run_nodes(
        workflows, clock=clock, packages=packages, budget_ms=budget_ms, progress=progress
    )
    run.errors = errors
    plan = plan_workspace(run, sources, envs=envs, previous_names=previous_names, taken=taken)
    return Imported(run, plan)
