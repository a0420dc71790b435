"""The check: replay every flow under every selected binding and analyse each binding."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.analysis import BindingResult, analyse_binding
from harness.errors import UsageError
from harness.messages import Decision
from harness.model import Binding, Workspace
from harness.replay import replay
from harness.report import Report
from harness.sandbox import Sandbox

Progress = Callable[[int, int, Binding], None]


@dataclass(frozen=True, slots=True)
class Selection:
    """Which bindings a run covers."""

    env: str | None = None
    binding: str | None = None
    only: frozenset[str] | None = None  # exact binding names (e.g. those a pytest run covered)


def select_bindings(workspace: Workspace, selection: Selection) -> tuple[Binding, ...]:
    """The bindings matching the selection; a selection that matches nothing is a usage error."""
    bindings = workspace.bindings
    if selection.env is not None:
        envs = sorted({b.env for b in bindings})
        bindings = tuple(b for b in bindings if b.env == selection.env)
        if not bindings:
            raise UsageError(
                f"no binding in environment {selection.env!r}; "
                f"environments: {', '.join(envs) or 'none'}"
            )
    if selection.binding is not None:
        names = [b.name for b in bindings]
        chosen = tuple(b for b in bindings if selection.binding in (b.name, b.connector))
        if not chosen:
            close = difflib.get_close_matches(selection.binding, names, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"bindings: {', '.join(names)}"
            raise UsageError(f"no binding named {selection.binding!r}; {hint}")
        bindings = chosen
    if selection.only is not None:
        bindings = tuple(b for b in bindings if b.name in selection.only)
    return bindings


def replay_binding(sandbox: Sandbox, binding: Binding) -> list[Decision]:
    """Replay every flow of the binding's connector; return all their decisions."""
    decisions: list[Decision] = []
    for flow in sandbox.workspace.flows_of(binding.connector):
        decisions.extend(replay(sandbox, flow, binding))
    return decisions


def run_check(
    workspace: Workspace,
    selection: Selection = Selection(),
    progress: Progress | None = None,
    sandbox: Sandbox | None = None,
    fail_on: Iterable[str] | None = None,
) -> Report:
    """Replay and analyse every selected binding; the decision log stays on the sandbox."""
    sandbox = sandbox or Sandbox(workspace)
    failing = tuple(fail_on if fail_on is not None else workspace.settings.fail_on)
    bindings = select_bindings(workspace, selection)
    results: list[BindingResult] = []
    for number, binding in enumerate(bindings, start=1):
        if progress:
            progress(number, len(bindings), binding)
        decisions = replay_binding(sandbox, binding)
        results.append(analyse_binding(workspace, binding, decisions, failing))
    return Report(workspace, selection.env, selection.binding, tuple(results))
