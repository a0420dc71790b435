"""The JUnit renderer: one case per binding, a failure listing the failing findings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date

from workspaces import waived_excess

from harness.engine import run_check
from harness.gate import GateContext
from harness.render.junit import render_junit
from harness.report import Report


def _report() -> Report:
    return run_check(waived_excess(), context=GateContext(today=date(2026, 6, 1)))


def test_junit_has_one_case_per_binding_and_a_failure_listing_the_failing_findings() -> None:
    root = ET.fromstring(render_junit(_report()))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "1", "0")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "connector-harness.prod"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["findings.missing"] == "1"
    assert properties["findings.excessive"] == "2"
    assert (properties["bindings"], properties["failed"], properties["calls"]) == ("1", "1", "2")
    (case,) = suite.findall("testcase")
    assert (case.get("classname"), case.get("name")) == ("bot", "bot@prod")
    (failure,) = case.findall("failure")
    assert failure.get("type") == "missing,excessive"
    assert (
        failure.get("message") == "bot@prod fails the least-privilege gate: 1 missing, 1 excessive"
    )
    text = failure.text or ""
    assert "[missing] <policy 0>:1:1" in text
    # one final line for the role: the excessive grant dropped, the missing one added
    assert "grants:\n      svc: [svc.admin]" in text
    assert text.count("[excessive]") == 1  # the waived svc.delete is not a failure
    assert "`svc.write` (role `role`) is unused" in text
    out = case.findtext("system-out") or ""
    assert out.startswith("[excessive] <policy 0>:1:1\n  `svc.delete`")
    assert "waived: waiver SEC-42 until 2026-06-30 (29 days left)" in out


def test_junit_passes_a_binding_whose_only_excess_is_waived_and_strips_control_characters() -> None:
    report = _report()
    (result,) = report.results
    clean = replace(
        result,
        passed=True,
        findings=tuple(
            replace(f, message="bell \x07 here") for f in result.findings if f.waived_by
        ),
    )
    text = render_junit(replace(report, results=(clean,)))
    root = ET.fromstring(text)  # would raise on a raw control character
    (case,) = root.iter("testcase")
    assert case.find("failure") is None
    assert "bell \ufffd here" in (case.findtext("system-out") or "")
    assert root.get("failures") == "0"
