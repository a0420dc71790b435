"""The controller's side: rows from every item report, the terminal summary, the reports."""

from __future__ import annotations

from typing import Any

import pytest

from harness.pytest_plugin._items import binding_row
from harness.pytest_plugin._session import HarnessSession
from harness.render.style import Style, table


class HarnessReporter:
    """Registered once per session; sees every report, also those of xdist workers."""

    def __init__(self, session: HarnessSession) -> None:
        self.session = session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown" and (row := binding_row(report.user_properties)):
            self.session.seen[row["binding"]] = row

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not hasattr(session.config, "workerinput"):  # xdist workers leave it to the controller
            self.write_reports()
        self.session.release()

    def write_reports(self) -> None:
        report = self.session.full_report() if self.session.config.reports else None
        if report is None:
            return
        from harness.render.jsonfmt import render_json
        from harness.render.markdown import render_markdown
        from harness.render.text import render_text

        for kind, path in self.session.config.reports:
            if kind == "json":
                text = render_json(report.to_data())
            elif kind == "markdown":
                text = render_markdown(report)
            else:
                text = render_text(report, Style(False))
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
        paths = ", ".join(str(path) for _, path in self.session.config.reports)
        where = f"full report: {paths}" if paths else "full report: add --harness-report json:PATH"
        terminalreporter.write_line(
            f"{failed} of {len(seen)} bindings fail least privilege; {where}"
        )
