"""The controller's side: rows from every item report, the terminal summary, the reports."""

from __future__ import annotations

from typing import Any

import pytest

from harness.pytest_plugin._items import binding_row
from harness.pytest_plugin._session import HarnessSession
from harness.render.style import Style, part_of, table

RESULTS_KEY = "connector_harness_results"  # what each xdist worker sends back at its end


class HarnessReporter:
    """Registered once per session; sees every report, also those of xdist workers."""

    def __init__(self, session: HarnessSession) -> None:
        self.session = session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown" and (row := binding_row(report.user_properties)):
            self.session.seen[row["binding"]] = row

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        worker_output = getattr(session.config, "workeroutput", None)
        if worker_output is None:
            self.write_reports()
        elif self.session.config.options.reports:  # an xdist worker: the controller writes them
            worker_output[RESULTS_KEY] = self.session.pickled_results()
        self.session.release()

    @pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: an xdist worker has finished
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        results = getattr(node, "workeroutput", {}).get(RESULTS_KEY)
        if results is not None:
            self.session.take_results(results)

    def write_reports(self) -> None:
        report = self.session.full_report() if self.session.config.options.reports else None
        if report is None:
            return
        from harness.render.formats import render_report

        decisions = self.session.report_decisions(report)
        for kind, path in self.session.config.options.reports:
            text = render_report(kind, report, decisions=decisions)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        seen = self.session.seen
        if not seen:
            return
        from harness.render.text import verdict_cells

        style = Style(bool(terminalreporter.hasmarkup))
        terminalreporter.write_sep(
            "=", "least privilege"
        )  # unlike section(): ends the progress line first
        rows = [
            verdict_cells(name, seen[name]["verdict"] == "pass", seen[name], style)
            for name in sorted(seen)
        ]
        for line in table(rows):
            terminalreporter.write_line(line)
        failed = sum(1 for row in seen.values() if row["verdict"] == "fail")
        paths = ", ".join(str(path) for _, path in self.session.config.options.reports)
        where = f"full report: {paths}" if paths else "full report: add --harness-report json:PATH"
        terminalreporter.write_line(
            f"{part_of(failed, len(seen), 'binding', 'fail')} least privilege; {where}"
        )
