"""The report formats: one renderer each over the same Report. The CLI's `check --format`
and the plugin's `--harness-report` both render through this table."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.decisions import Decision
from harness.render.html import render_html
from harness.render.jsonfmt import render_json
from harness.render.junit import render_junit
from harness.render.markdown import render_markdown
from harness.render.sarif import render_sarif
from harness.render.style import Style
from harness.render.text import render_text
from harness.report import Report

# format -> renderer of (the report, the run's decisions, the text style)
Renderer = Callable[[Report, Sequence[Decision], Style], str]

RENDERERS: dict[str, Renderer] = {
    "text": lambda report, _, style: render_text(report, style),
    "json": lambda report, _, __: render_json(report.to_data()),
    "markdown": lambda report, _, __: render_markdown(report),
    "sarif": lambda report, _, __: render_sarif(report),
    "junit": lambda report, _, __: render_junit(report),
    "html": lambda report, _, __: render_html(report),
}


def render_report(
    format: str, report: Report, *, decisions: Sequence[Decision] = (), style: Style | None = None
) -> str:
    """The report in `format` (a key of RENDERERS); text is plain unless `style` says colour."""
    return RENDERERS[format](report, decisions, style or Style(False))
