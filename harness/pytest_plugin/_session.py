"""What the plugin keeps for one pytest session: the workspace, binding results, reports."""

from __future__ import annotations

import gc
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.errors import HarnessError, InputError, InputErrors
from harness.findings import EXCESSIVE, KINDS, OVER_BROAD
from harness.pytest_plugin._config import HarnessConfig
from harness.workspace.pyproject import SETTINGS_FILE

if TYPE_CHECKING:  # the engine loads with the first collected file, not with the plugin
    from harness.analysis import BindingResult
    from harness.decisions import Decision
    from harness.gate import GateContext
    from harness.model import Binding, Flow, Settings, Workspace
    from harness.report import Report
    from harness.sandbox import Sandbox

LENIENT_KINDS = frozenset({EXCESSIVE, OVER_BROAD})  # warn instead of fail when not strict


@dataclass
class HarnessSession:
    config: HarnessConfig
    _workspace: Workspace | None = None
    _errors: list[InputError] | None = None
    _sandbox: Sandbox | None = None
    _results: dict[str, BindingResult] = field(default_factory=dict)
    _decisions: dict[str, list[Decision]] = field(default_factory=dict)
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)  # binding -> summary row
    _scenario_paths: list[Path] | None = None
    _context: GateContext | None = None
    _flows_by_file: dict[Path, list[Flow]] | None = None
    _selected: dict[str, list[Binding]] | None = None
    _active: bool | None = None
    _settings: Settings | None = None

    def settings(self) -> Settings:
        """The workspace's settings, read once (InputError(s) when they are invalid)."""
        if self._settings is None:
            self._settings = self.config.settings()
        return self._settings

    def load(self) -> Workspace | None:
        """The workspace, or None after recording why it could not be loaded."""
        if self._workspace is None and self._errors is None:
            from harness.workspace.loader import every_problem, load_workspace
            from harness.workspace.settings import SettingsErrors

            try:
                settings = self.settings()
                self._workspace = load_workspace(self.config.options.workspace, settings=settings)
                # Millions of objects that live for the session: out of the collector's
                # sight, so that no collection during the tests walks them again.
                gc.freeze()
            except SettingsErrors as problems:
                self._errors = every_problem(self.config.options.workspace, problems)
            except InputErrors as errors:
                self._errors = errors.errors
            except InputError as error:
                self._errors = [error]
        return self._workspace

    @property
    def errors(self) -> list[InputError]:
        self.load()
        return self._errors or []

    def active(self) -> bool:
        """Whether this repository uses connector-harness, so that its scenario files are
        collected: the plugin is configured (a flag, an ini key, [tool.connector-harness]) or
        the workspace has its settings file. An unrelated `scenarios/` is left alone."""
        if self._active is None:
            settings_file = self.config.options.workspace / SETTINGS_FILE
            self._active = self.config.options.configured or settings_file.is_file()
        return self._active

    def scenario_paths(self) -> list[Path]:
        """Every policy document of the workspace, resolved, in a stable order."""
        if self._scenario_paths is None:
            from harness.workspace.loader import scenario_files

            try:
                files = scenario_files(
                    self.config.options.workspace, settings=self.config.settings()
                )
                self._scenario_paths = [p.resolve() for p in files]
            except HarnessError:
                self._scenario_paths = []
        return self._scenario_paths

    def error_file(self) -> Path | None:
        """The one scenario file that carries the workspace-error item; without any (e.g. the
        settings are invalid), the file of the first error that is a file."""
        paths = self.scenario_paths()
        for error in self.errors:
            candidate = Path(error.location.file).resolve()
            if candidate in paths:
                return candidate
        if paths and self.errors:
            return paths[0]
        files = (Path(error.location.file).resolve() for error in self.errors)
        return next((path for path in files if path.is_file()), None)

    def flows_in(self, path: Path) -> list[Flow]:
        """The flows written in one file, in file order (indexed once per session)."""
        workspace = self.load()
        if workspace is None:
            return []
        if self._flows_by_file is None:
            self._flows_by_file = {}
            for flow in sorted(workspace.flows, key=lambda f: f.location.line):
                self._flows_by_file.setdefault(Path(flow.location.file).resolve(), []).append(flow)
        return self._flows_by_file.get(path.resolve(), [])

    def bindings_for(self, flow: Flow) -> tuple[Binding, ...]:
        """The bindings of the flow's connector that the run selects (indexed once)."""
        workspace = self.load()
        assert workspace is not None
        if self._selected is None:
            from harness.engine import Selection, select_bindings

            try:
                selected = select_bindings(
                    workspace, Selection(self.config.options.env, self.config.options.binding)
                )
            except HarnessError:
                selected = ()
            self._selected = {}
            for binding in selected:
                self._selected.setdefault(binding.connector, []).append(binding)
        return tuple(self._selected.get(flow.connector, ()))

    def fail_kinds(self) -> frozenset[str]:
        workspace = self.load()
        assert workspace is not None
        kinds = self.fail_on()
        return kinds if self.config.options.strict else kinds - LENIENT_KINDS

    def result(self, binding: Binding) -> BindingResult:
        """The analysis of one binding over all its flows, computed once per process."""
        cached = self._results.get(binding.name)
        if cached is None:
            from harness.engine import check_binding
            from harness.sandbox import Sandbox

            workspace = self.load()
            assert workspace is not None
            if self._sandbox is None:
                self._sandbox = Sandbox(workspace)
            cached, decisions = check_binding(
                self._sandbox, binding, self.fail_kinds(), self.gate_context()
            )
            self._results[binding.name] = cached
            self._decisions[binding.name] = decisions
        return cached

    def decisions(self, binding: Binding, flow: Flow) -> list[Decision]:
        """The decisions of one flow's replay under `binding`."""
        self.result(binding)
        return [d for d in self._decisions[binding.name] if d.flow == flow.name]

    def fail_on(self) -> frozenset[str]:
        """The finding kinds that fail (--harness-fail-on, else the workspace settings'
        fail_on), before strict mode is applied."""
        if self.config.options.fail_on is not None:
            return frozenset(self.config.options.fail_on)
        workspace = self.load()
        return frozenset(workspace.settings.fail_on) if workspace else frozenset()

    def gate_context(self) -> GateContext:
        """The date and baseline items are judged by; a broken baseline fails the session."""
        if self._context is None:
            from harness.baseline import load_baseline
            from harness.gate import GateContext

            baseline = None
            if self.config.options.baseline is not None:
                try:
                    baseline = load_baseline(self.config.options.baseline)
                except (InputError, InputErrors) as error:
                    raise pytest.UsageError(f"--harness-baseline: {error}") from error
            self._context = GateContext(self.config.options.today, baseline)
        return self._context

    def release(self) -> None:
        """Drop the workspace, the sandbox and every binding's decisions once the session is
        over: pytest's last garbage collections then need not walk them, nor does the exit."""
        self._workspace = self._sandbox = self._flows_by_file = self._selected = None
        self._results.clear()
        self._decisions.clear()

    def full_report(self) -> Report | None:
        """The report over the bindings the session's items covered, from the results the
        items computed (in this process, or on xdist workers: see `take_results`)."""
        from harness.engine import Selection, judged_by, select_bindings
        from harness.report import Report

        workspace = self.load()
        if workspace is None or not self.seen:
            return None
        bindings = select_bindings(workspace, Selection(only=frozenset(self.seen)))
        results = tuple(self.result(binding) for binding in bindings)  # computes any missing
        failing = [kind for kind in KINDS if kind in self.fail_kinds()]
        judged = judged_by(workspace, failing)
        return Report(judged, None, None, results, self.gate_context())

    def pickled_results(self) -> bytes:
        """This xdist worker's binding results and their decisions, for the controller's
        full report (the HTML one maps the calls each binding made)."""
        data = (list(self._results.values()), self._decisions)
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)

    def take_results(self, data: bytes) -> None:
        """Results from one of this session's own xdist workers (so unpickling is safe)."""
        results, decisions = pickle.loads(data)
        for result in results:
            if result.binding not in self._results:
                self._results[result.binding] = result
                self._decisions[result.binding] = decisions.get(result.binding, [])

    def report_decisions(self, report: Report) -> list[Decision]:
        """The decisions of the report's bindings, in the report's order."""
        return [d for result in report.results for d in self._decisions.get(result.binding, [])]
