"""The check report as JUnit XML, for CI test reports: one suite per environment, one case per binding.

A binding that fails the gate is a test case with one `failure` listing every
finding that fails it (kind, location, message, the YAML to write instead);
findings that do not fail it (waived, or of a kind outside `fail_on`) go to
`system-out`. No timings are written, so the same workspace gives the same bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from harness.analysis import BindingResult
from harness.cells import binding_cells
from harness.findings import KINDS, Finding
from harness.report import Report

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def render_junit(report: Report) -> str:
    failing: set[str] = set(report.workspace.settings.fail_on)
    suites = ET.Element(
        "testsuites",
        {
            "name": "connector-harness",
            "tests": str(len(report.results)),
            "failures": str(len(report.failed)),
            "errors": "0",
            "skipped": "0",
        },
    )
    for env in sorted({result.env for result in report.results}):
        results = [result for result in report.results if result.env == env]
        suites.append(_suite(env, results, failing))
    ET.indent(suites)
    xml = ET.tostring(suites, encoding="unicode", xml_declaration=False)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml + "\n"


def _suite(env: str, results: list[BindingResult], failing: set[str]) -> ET.Element:
    failed = sum(1 for result in results if not result.passed)
    suite = ET.Element(
        "testsuite",
        {
            "name": f"connector-harness.{env}",
            "tests": str(len(results)),
            "failures": str(failed),
            "errors": "0",
            "skipped": "0",
        },
    )
    properties = ET.SubElement(suite, "properties")
    counts = [
        ("env", env),
        ("bindings", str(len(results))),
        ("passed", str(len(results) - failed)),
        ("failed", str(failed)),
        ("calls", str(sum(result.calls for result in results))),
        *((f"findings.{kind}", str(sum(r.count(kind) for r in results))) for kind in KINDS),
    ]
    for name, value in counts:
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for result in results:
        suite.append(_case(result, failing))
    return suite


def _fails(finding: Finding, failing: set[str]) -> bool:
    return finding.kind in failing and not finding.waived_by


def _case(result: BindingResult, failing: set[str]) -> ET.Element:
    case = ET.Element("testcase", {"classname": result.connector, "name": result.binding})
    cells = binding_cells(result)
    if cells:  # the binding's row of the need-to-know matrix: "SERVICE GRANT" -> state
        properties = ET.SubElement(case, "properties")
        for cell in cells:
            ET.SubElement(
                properties,
                "property",
                {"name": _text(f"cell {cell.service} {cell.grant}"), "value": cell.state},
            )
    failures = [f for f in result.findings if _fails(f, failing)]
    others = [f for f in result.findings if f not in failures]
    if not result.passed:
        kinds = [kind for kind in KINDS if any(f.kind == kind for f in failures)]
        counts = ", ".join(f"{sum(f.kind == kind for f in failures)} {kind}" for kind in kinds)
        failure = ET.SubElement(
            case,
            "failure",
            {
                "type": ",".join(kinds),
                "message": _text(f"{result.binding} fails the least-privilege gate: {counts}"),
            },
        )
        failure.text = _text(
            "\n\n".join(_describe(f) for f in failures)
            + "\n\nsuggested role:\n"
            + _indent(result.suggested_role)
        )
    if others:
        out = ET.SubElement(case, "system-out")
        out.text = _text("\n\n".join(_describe(f) for f in others))
    return case


def _describe(finding: Finding) -> str:
    lines = [f"[{finding.kind}] {finding.location}", f"  {finding.message}"]
    lines += [f"  seen in {evidence}" for evidence in finding.evidence]
    if finding.waived_by:
        lines.append(f"  waived: {finding.waived_by}")
    if finding.instead:
        lines += ["  write instead:", _indent(finding.instead, "    ")]
    return "\n".join(lines)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
