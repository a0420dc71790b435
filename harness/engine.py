"""The check: replay every flow under every selected binding and analyse each binding."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from harness.analysis import BindingResult, analyse_binding
from harness.decisions import Decision
from harness.errors import UsageError
from harness.gate import GateContext, apply_gate, policy_findings
from harness.model import Binding, Workspace
from harness.replay import Transport, replay
from harness.report import Report
from harness.sandbox import Sandbox
from harness.settlement import settle_shared_roles

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


def replay_binding(
    sandbox: Sandbox,
    binding: Binding,
    *,
    lifetime: int | None = None,
    transport: Transport | None = None,
    grants: Mapping[str, Iterable[str]] | None = None,
) -> list[Decision]:
    """Replay every flow of the binding's connector (optionally with other grants)."""
    decisions: list[Decision] = []
    for flow in sandbox.workspace.flows_of(binding.connector):
        decisions.extend(
            replay(sandbox, flow, binding, transport, lifetime=lifetime, grants=grants)
        )
    return decisions


def check_binding(
    sandbox: Sandbox,
    binding: Binding,
    fail_on: Iterable[str],
    context: GateContext,
    transport: Transport | None = None,
) -> tuple[BindingResult, list[Decision]]:
    """Replay, analyse and gate one binding; its decisions go to the sandbox's log."""
    workspace = sandbox.workspace
    failing = tuple(fail_on)
    decisions = replay_binding(sandbox, binding, transport=transport)
    result = analyse_binding(workspace, binding, decisions, failing)
    short_lived: list[Decision] = []
    limit = workspace.policy.max_credential_lifetime_seconds
    if workspace.connector(binding.connector).credential.lifetime_seconds > limit:
        # A separate sandbox, so these hypothetical calls stay out of the decision log.
        short_lived = replay_binding(Sandbox(workspace), binding, lifetime=limit)
    extra = policy_findings(workspace, binding, decisions, short_lived, sandbox.response_bytes)
    gated = apply_gate(workspace, binding, result, failing, context, extra)
    # Alone, a role it shares is one the others may need as they are; the Report settles
    # again once every binding of the run is known.
    (settled,) = settle_shared_roles(workspace, [gated], final=False)
    return settled, decisions


def run_check(
    workspace: Workspace,
    selection: Selection = Selection(),
    *,
    progress: Progress | None = None,
    sandbox: Sandbox | None = None,
    fail_on: Iterable[str] | None = None,
    context: GateContext | None = None,
    transport: Transport | None = None,
    keep_decisions: bool = True,
) -> Report:
    """Replay, analyse and gate every selected binding; the decision log stays on the sandbox
    unless `keep_decisions` is false (a large check that writes no log saves the memory).

    `transport` carries each call (default: the direct one); see `harness.transports`.
    """
    sandbox = sandbox or Sandbox(workspace)
    failing = tuple(fail_on if fail_on is not None else workspace.settings.fail_on)
    context = context or GateContext(today=date.today())
    bindings = select_bindings(workspace, selection)
    results: list[BindingResult] = []
    for number, binding in enumerate(bindings, start=1):
        if progress:
            progress(number, len(bindings), binding)
        results.append(check_binding(sandbox, binding, failing, context, transport)[0])
        if not keep_decisions:
            sandbox.decisions.clear()
    return Report(workspace, selection.env, selection.binding, tuple(results), context)
