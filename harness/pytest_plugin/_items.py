"""Scenario files as pytest items: one per flow x binding, located at the flow's YAML line."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _pytest._code.code import ExceptionInfo, TerminalRepr

from harness.findings import KINDS, Finding
from harness.pytest_plugin._session import HarnessSession

if TYPE_CHECKING:
    from harness.analysis import BindingResult
    from harness.decisions import Decision
    from harness.model import Binding, Flow, Mark

SESSION_KEY = pytest.StashKey[HarnessSession]()
PROPERTY_PREFIX = "harness_"
BINDING_PROPERTY, VERDICT_PROPERTY = f"{PROPERTY_PREFIX}binding", f"{PROPERTY_PREFIX}verdict"
SECTION = "Captured least privilege call"  # the title pytest gives a `call` report section
SHOWN_STEPS = 5  # step numbers listed for a call repeated in a flow; the rest are counted


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


def call_lines(decisions: list[Decision]) -> list[str]:
    """One line per distinct call and outcome, naming its steps: a flow that polls the same
    endpoint a hundred times reads as one line, not a hundred."""
    steps: dict[str, list[int]] = {}
    for d in decisions:
        allowed_by = f"; allowed by {', '.join(d.satisfied_by)}" if d.satisfied_by else ""
        call = f"{d.method} {d.host}{d.path}  {d.outcome}  ({d.reason}{allowed_by})"
        steps.setdefault(call, []).append(d.step + 1)
    lines = []
    for call, numbers in steps.items():
        shown = ", ".join(str(n) for n in numbers[:SHOWN_STEPS])
        more = f" and {len(numbers) - SHOWN_STEPS} more" if len(numbers) > SHOWN_STEPS else ""
        label = f"step {shown}" if len(numbers) == 1 else f"steps {shown}{more}"
        lines.append(f"  {label}  {call}")
    return lines


def binding_properties(result: BindingResult) -> list[tuple[str, object]]:
    """The binding's verdict and counts as JUnit XML properties; they also travel on the
    item's reports across pytest-xdist, where the controller's summary reads them."""
    verdict = "pass" if result.passed else "fail"
    counts = [(f"{PROPERTY_PREFIX}{kind}", result.count(kind)) for kind in KINDS]
    return [(BINDING_PROPERTY, result.binding), (VERDICT_PROPERTY, verdict), *counts]


def binding_row(properties: list[tuple[str, object]]) -> dict[str, Any] | None:
    """A summary row (binding, verdict, a count per kind) from a report's properties."""
    values = dict(properties)
    if BINDING_PROPERTY not in values:
        return None
    return {
        "binding": values[BINDING_PROPERTY],
        "verdict": values[VERDICT_PROPERTY],
        **{kind: values[f"{PROPERTY_PREFIX}{kind}"] for kind in KINDS},
    }


def register_marks(config: pytest.Config, marks: Iterable[Mark]) -> None:
    """Register the workspace's marks with pytest, so that `--strict-markers` accepts the
    marks a flow or binding carries in YAML (pytest's own and those already registered are
    left as they are)."""
    known = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    for name in sorted({mark.name for mark in marks} - known - _BUILTIN_MARKS):
        config.addinivalue_line(
            "markers", f"{name}: a mark of flows or bindings in the connector-harness workspace"
        )


_BUILTIN_MARKS = frozenset(
    {"skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings"}
)


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
        flows = session.flows_in(self.path)
        register_marks(
            self.config,
            [
                *(mark for flow in flows for mark in flow.marks),
                *(m for flow in flows for b in session.bindings_for(flow) for m in b.marks),
            ],
        )
        for flow in flows:
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
        self.harness_section: str | None = None  # for the call report, see plugin.py
        self.harness_properties: list[tuple[str, object]] = []  # for the teardown report

    def runtest(self) -> None:
        if self.binding is None:
            pytest.skip(self._no_binding)
        session = harness_session(self.config)
        result = session.result(self.binding)
        self.harness_properties = binding_properties(result)
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
        calls = call_lines(session.decisions(self.binding, self.flow)) if failing else []
        lines = [f"{summary}; calls of {self.flow.name}:", *calls] if calls else [summary]
        self.harness_section = "\n".join(lines)
        for finding in lenient:
            warnings.warn(
                LeastPrivilegeWarning(f"{finding.location}: {finding.message}"), stacklevel=1
            )
        if failing:
            header = (
                f"binding {self.binding.name} fails least privilege in flow {self.flow.name} "
                f"({len(failing)} finding{'s' if len(failing) != 1 else ''}):"
            )
            from harness.render.style import Style
            from harness.render.text import finding_lines

            lines = finding_lines(failing, Style(False))
            raise LeastPrivilegeFailure("\n".join([header, *lines]))

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
