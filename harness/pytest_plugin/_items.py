"""Scenario files as pytest items: one per flow x binding, located at the flow's YAML line."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ExceptionInfo, TerminalRepr

from harness.analysis import BindingResult
from harness.findings import KINDS, Finding
from harness.model import Binding, Flow, Mark
from harness.pytest_plugin._session import HarnessSession

SESSION_KEY = pytest.StashKey[HarnessSession]()


class LeastPrivilegeWarning(UserWarning):
    """An excessive or over-broad grant, reported without failing (strict mode off)."""


class LeastPrivilegeFailure(AssertionError):
    """An item failed for a reason written for people: findings that fail the gate, or a
    workspace that does not load. Its text is the whole report, with no traceback."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class _PlainFailure(pytest.Item):
    """Shows a LeastPrivilegeFailure as its text; anything else as pytest would."""

    def repr_failure(
        self, excinfo: ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, LeastPrivilegeFailure):
            return excinfo.value.text
        return super().repr_failure(excinfo, style)


def harness_session(config: pytest.Config) -> HarnessSession:
    return config.stash[SESSION_KEY]


def concerns(finding: Finding, flow: Flow) -> bool:
    """A finding belongs to a flow's item when that flow's steps show it, or when no step
    does (a grant no call needed is a fault of the binding under every flow)."""
    if not finding.evidence:
        return True
    return any(evidence.startswith(f"{flow.name} step ") for evidence in finding.evidence)


def render_findings(findings: list[Finding]) -> list[str]:
    lines = []
    for finding in findings:
        # a live call (the `sandbox` fixture) has no YAML step: name the test's call instead
        where = finding.location or (finding.evidence[0] if finding.evidence else "")
        lines.append(f"  {finding.kind:<16}{where}".rstrip())
        lines.append(f"  {'':<16}{finding.message}")
        if finding.instead:
            lines.append(f"  {'':<16}write instead:")
            lines.extend(f"  {'':<18}{line}" for line in finding.instead.splitlines())
    return lines


def binding_row(result: BindingResult) -> dict[str, Any]:
    """What the terminal summary shows for a binding; travels on reports across xdist."""
    return {
        "binding": result.binding,
        "verdict": "pass" if result.passed else "fail",
        **{kind: result.count(kind) for kind in KINDS},
    }


def _to_pytest_mark(mark: Mark) -> pytest.MarkDecorator:
    return getattr(pytest.mark, mark.name)(*mark.args, **dict(mark.kwargs))  # type: ignore[no-any-return]  # MarkGenerator is dynamic


class ScenarioFile(pytest.File):
    """A policy document of the workspace: its flows under each of their bindings."""

    def collect(self) -> Iterator[pytest.Item]:
        session = harness_session(self.config)
        if session.errors:
            if session.error_file() == self.path.resolve():
                yield WorkspaceErrorItem.from_parent(self, name="workspace")
            return
        for flow in session.flows_in(self.path):
            bindings = session.bindings_for(flow)
            if not bindings:
                yield FlowItem.from_parent(
                    self, name=f"{flow.name}[no binding]", flow=flow, binding=None
                )
            for binding in bindings:
                yield FlowItem.from_parent(
                    self, name=f"{flow.name}[{binding.name}]", flow=flow, binding=binding
                )


class FlowItem(_PlainFailure):
    """One flow replayed under one binding; fails on the binding's findings that concern it."""

    def __init__(self, *, flow: Flow, binding: Binding | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flow = flow
        self.binding = binding
        marks = [*flow.marks, *(binding.marks if binding else ())]
        for mark in marks:
            self.add_marker(_to_pytest_mark(mark))
        self._no_binding = f"connector {flow.connector} has no binding selected for this run"
        if binding is None:  # a skip mark: pytest reports it at the flow's line, not in here
            self.add_marker(pytest.mark.skip(reason=self._no_binding))
        self.harness_row: dict[str, Any] | None = None

    def runtest(self) -> None:
        if self.binding is None:
            pytest.skip(self._no_binding)
        session = harness_session(self.config)
        result = session.result(self.binding)
        self.harness_row = binding_row(result)
        for kind in KINDS:
            self.user_properties.append((f"harness_{kind}", result.count(kind)))
        relevant = [f for f in result.findings if concerns(f, self.flow)]
        failing = [f for f in relevant if f.kind in session.fail_kinds()]
        lenient = [f for f in relevant if f not in failing and f.kind in session.fail_on()]
        summary = (
            f"{result.binding}: {result.calls} calls over {len(result.flows)} flow(s), "
            f"{result.allowed} allowed, {result.denied} denied, {result.blocked} blocked; "
            f"coverage {result.exercised}/{result.granted}"
        )
        # The call-by-call listing only where it is read, with a failure: a thousand passing
        # items would otherwise ship megabytes of text to the xdist controller.
        calls = [
            f"  step {d.step + 1}  {d.method} {d.host}{d.path}  {d.outcome}  ({d.reason}"
            + (f"; allowed by {', '.join(d.satisfied_by)})" if d.satisfied_by else ")")
            for d in (session.decisions(self.binding, self.flow) if failing else ())
        ]
        lines = [f"{summary}; calls of {self.flow.name}:", *calls] if calls else [summary]
        self.add_report_section("call", "least privilege", "\n".join(lines))
        for finding in lenient:
            warnings.warn(
                LeastPrivilegeWarning(f"{finding.location}: {finding.message}"), stacklevel=1
            )
        if failing:
            header = (
                f"binding {self.binding.name} fails least privilege in flow {self.flow.name} "
                f"({len(failing)} finding{'s' if len(failing) != 1 else ''}):"
            )
            raise LeastPrivilegeFailure("\n".join([header, *render_findings(failing)]))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, max(self.flow.location.line - 1, 0), self.name


class WorkspaceErrorItem(_PlainFailure):
    """A workspace that does not load: one failing item with every error, never a crash."""

    def runtest(self) -> None:
        errors = harness_session(self.config).errors
        lines = [
            f"the connector-harness workspace does not load ({len(errors)} "
            f"problem{'s' if len(errors) != 1 else ''}):"
        ]
        lines += [error.render() for error in errors]
        raise LeastPrivilegeFailure("\n".join(lines))

    def reportinfo(self) -> tuple[Path, int, str]:
        errors = harness_session(self.config).errors
        line = (
            errors[0].location.line
            if errors and Path(errors[0].location.file).resolve() == self.path.resolve()
            else 1
        )
        return self.path, max(line - 1, 0), "workspace"
