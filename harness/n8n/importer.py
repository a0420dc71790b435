"""Running the nodes of exported workflows: one runner process for the whole import.

Each node of each workflow goes to the runner in the order n8n runs it; what comes back
(its recorded calls, or why it produced none) is a NodeResult. A file that is no
workflow is an error of that file only; the import goes on with the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from harness.errors import InputError, InputErrors
from harness.n8n.catalogue import CredentialType, credential_type
from harness.n8n.packages import ensure_packages
from harness.n8n.runner import (
    NODE_BUDGET_MS,
    ExpressionNote,
    NodeRun,
    RecordedCall,
    Runner,
    RunStatus,
)
from harness.n8n.workflow import Workflow, WorkflowNode, read_workflows

# Statuses of a node that is no service node: it makes no call with a credential.
QUIET = frozenset({"logic", "disabled"})

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class NodeResult:
    """One node of one workflow, and what running it gave."""

    workflow: Workflow
    node: WorkflowNode
    status: RunStatus | Literal["disabled"]  # disabled: the export turns the node off
    calls: tuple[RecordedCall, ...] = ()
    reason: str = ""
    fix: str = ""
    expressions: tuple[ExpressionNote, ...] = ()

    @property
    def service(self) -> bool:
        """A node that calls (or may call) an API: it uses a credential, is an HTTP Request,
        or could not be run (code, AI, community and unknown nodes may all call out)."""
        return self.status not in QUIET

    @property
    def produced_calls(self) -> bool:
        return any(not call.token for call in self.calls)


@dataclass(slots=True)
class ImportRun:
    """Everything the runner gave for a set of export files."""

    workflows: list[Workflow] = field(default_factory=list)
    results: list[NodeResult] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)  # files that are no export
    credential_types: dict[str, CredentialType] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    restarts: int = 0

    def service_nodes(self) -> list[NodeResult]:
        return [r for r in self.results if r.service]

    def share_with_calls(self, workflow: Workflow | None = None) -> tuple[int, int]:
        """Service nodes that produced calls, and service nodes (of one workflow, or all)."""
        services = [r for r in self.service_nodes() if workflow is None or r.workflow is workflow]
        return sum(1 for r in services if r.produced_calls), len(services)


def read_exports(
    paths: Sequence[Path], shown: Sequence[str]
) -> tuple[list[Workflow], list[InputError]]:
    """The workflows of every file; a file that cannot be read is an error of its own."""
    workflows: list[Workflow] = []
    errors: list[InputError] = []
    for path, name in zip(paths, shown, strict=True):
        try:
            workflows.extend(read_workflows(path, name))
        except InputErrors as many:
            errors.extend(many.errors)
        except InputError as error:
            errors.append(error)
    return workflows, errors


def run_nodes(
    workflows: Sequence[Workflow],
    *,
    clock: datetime,
    packages: Path | None = None,
    budget_ms: int = NODE_BUDGET_MS,
    progress: Progress | None = None,
) -> ImportRun:
    """Run every node of `workflows` in one runner process."""
    result = ImportRun(workflows=list(workflows))
    if not any(w.nodes for w in workflows):
        return result
    root = packages or ensure_packages()
    total = sum(len(w.nodes) for w in workflows)
    done = 0
    with Runner(root, clock) as runner:
        result.versions = {
            str(k): str(v) for k, v in dict(runner.info.get("packages") or {}).items()
        }
        types = sorted({c.type for w in workflows for n in w.nodes for c in n.credentials})
        described = runner.describe(types) if types else []
        result.credential_types = {d.name: d for d in map(credential_type, described)}
        for workflow in workflows:
            for node in workflow.nodes:
                done += 1
                if progress is not None:
                    progress(done, total, workflow.label)
                if node.disabled:
                    result.results.append(NodeResult(workflow, node, "disabled"))
                    continue
                run = runner.run(
                    node.as_runner_node(), {"id": workflow.id, "name": workflow.name}, budget_ms
                )
                result.results.append(_result(workflow, node, run))
        result.restarts = runner.restarts
    return result


def _result(workflow: Workflow, node: WorkflowNode, run: NodeRun) -> NodeResult:
    return NodeResult(
        workflow=workflow,
        node=node,
        status=run.status,
        calls=run.calls,
        reason=run.reason,
        fix=run.fix,
        expressions=run.expressions,
    )


def no_workflow_error(errors: Sequence[InputError], files: int) -> str:
    """The closing line when no file held a workflow."""
    problems = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
    return (
        f"\nnothing could be imported: none of the {files} file(s) holds an n8n workflow "
        f"({problems} above). Pass files exported from n8n (`n8n export:workflow`), "
        "e.g. docs/examples/n8n/*.n8n.json, and run again."
    )
