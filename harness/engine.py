"""The check: replay every flow under every selected binding and analyse each binding."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from harness.analysis import BindingResult, analyse_binding
from harness.decisions import Decision
from harness.errors import InputError, Location, UsageError
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


def with_settings(workspace: Workspace, selection: Selection) -> Selection:
    """The selection, its unset environment and binding taken from the workspace settings
    (`env:` and `binding:` in connector-harness.yaml)."""
    settings = workspace.settings
    return replace(
        selection,
        env=selection.env if selection.env is not None else settings.env,
        binding=selection.binding if selection.binding is not None else settings.binding,
    )


def judged_by(workspace: Workspace, fail_on: Iterable[str] | None) -> Workspace:
    """The workspace as a run judges it: its settings' `fail_on` the kinds that fail this run
    (`fail_on`, else the settings' own, less excessive and over-broad when not strict), so
    that every view of the report names the kinds its verdicts used."""
    failing = tuple(fail_on) if fail_on is not None else workspace.settings.failing
    if failing == workspace.settings.fail_on:
        return workspace
    settings = replace(workspace.settings, fail_on=failing)  # type: ignore[arg-type]
    return replace(workspace, settings=settings)


def nothing_to_judge(workspace: Workspace) -> InputError | None:
    """Why a workspace gives a gate nothing to judge (no binding at all), or None.

    A gate that checked nothing must not pass: the error names the directories it looked
    in and what it found there (missing, unreadable, no YAML file, no `bindings:`)."""
    if workspace.bindings:
        return None
    root = Path(workspace.root)
    found: list[str] = []
    for directory in workspace.settings.scenarios:
        base = root / directory
        if not base.is_dir():
            found.append(f"{directory}/ does not exist")
            continue
        try:
            names = sorted(path.name for path in base.rglob("*") if path.is_file())
            os.listdir(base)  # rglob says nothing of a directory it cannot list
        except OSError as err:
            found.append(f"{directory}/ cannot be read ({err.strerror})")
            continue
        yaml_files = [name for name in names if name.endswith((".yaml", ".yml"))]
        if yaml_files:
            found.append(f"{directory}/ holds {len(yaml_files)} YAML file(s) with no `bindings:`")
        elif names:
            shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            found.append(f"{directory}/ holds no .yaml or .yml file, only {shown}")
        else:
            found.append(f"{directory}/ is empty")
    looked = ", ".join(f"{directory}/" for directory in workspace.settings.scenarios)
    return InputError(
        Location(str(root)),
        f"nothing to check: no binding found in {looked} (" + "; ".join(found) + ")",
        "write policy documents (.yaml) with `connectors:`, `roles:` and `bindings:` there, or "
        "name the directories that hold them with `scenarios:` in connector-harness.yaml",
    )


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
    shadow: Sandbox | None = None,
) -> tuple[BindingResult, list[Decision]]:
    """Replay, analyse and gate one binding; its decisions go to the sandbox's log.

    `shadow` replays the flows again with the policy's maximum credential lifetime when the
    connector's is longer: a second sandbox of the same workspace, so those hypothetical
    calls stay out of the log; one serves every binding of a run (made here when None)."""
    workspace = sandbox.workspace
    failing = tuple(fail_on)
    decisions = replay_binding(sandbox, binding, transport=transport)
    result = analyse_binding(workspace, binding, decisions, failing)
    short_lived: list[Decision] = []
    limit = workspace.policy.max_credential_lifetime_seconds
    if workspace.connector(binding.connector).credential.lifetime_seconds > limit:
        # Only a flow whose waits add up to the limit can outlive a token of that lifetime:
        # the others would replay to the same decisions.
        long_flows = [
            flow
            for flow in workspace.flows_of(binding.connector)
            if sum(step.wait_seconds for step in flow.steps) >= limit
        ]
        if long_flows:
            shadow = shadow if shadow is not None else Sandbox(workspace)
            for flow in long_flows:
                short_lived.extend(replay(shadow, flow, binding, lifetime=limit))
            shadow.decisions.clear()  # copies were returned: only the shadow forgets them
            shadow.response_bytes.clear()
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
    judged = judged_by(workspace, fail_on)
    failing = judged.settings.fail_on
    context = context or GateContext(today=date.today())
    selection = with_settings(workspace, selection)
    bindings = select_bindings(workspace, selection)
    results: list[BindingResult] = []
    shadow: Sandbox | None = None  # made on the first connector whose lifetime is too long
    limit = workspace.policy.max_credential_lifetime_seconds
    for number, binding in enumerate(bindings, start=1):
        if progress:
            progress(number, len(bindings), binding)
        if (
            shadow is None
            and workspace.connector(binding.connector).credential.lifetime_seconds > limit
        ):
            shadow = Sandbox(workspace)
        results.append(check_binding(sandbox, binding, failing, context, transport, shadow)[0])
        if not keep_decisions:
            sandbox.decisions.clear()
    return Report(judged, selection.env, selection.binding, tuple(results), context)
