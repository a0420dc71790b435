"""Reporting: the terminal summary, the report files, report sections, JUnit XML, xdist."""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from datetime import date
from typing import TYPE_CHECKING

import jsonschema
import pytest

from harness.findings import KINDS
from harness.options import CHECK_FORMATS
from harness.workspace.validation import load_schema

if TYPE_CHECKING:
    from conftest import PluginWorkspace

SUMMARY = [
    "PASS  alpha@prod  0 missing  0 excessive  0 over-broad",
    "PASS  beta@dev    0 missing  0 excessive  0 over-broad",
    "FAIL  beta@prod   1 missing  0 excessive  0 over-broad",
    "FAIL  delta@prod  0 missing  0 excessive  0 over-broad  1 egress",
    "FAIL  gamma@prod  0 missing  1 excessive  1 over-broad",
]

SUMMARY_BINDINGS = [row.split()[1] for row in SUMMARY]

OUTCOMES = {
    ("PASSED", "scenarios/alpha.yaml::alpha-list[alpha@prod]"),
    ("PASSED", "scenarios/beta.yaml::beta-sync[beta@dev]"),
    ("FAILED", "scenarios/beta.yaml::beta-sync[beta@prod]"),
    ("FAILED", "scenarios/delta.yaml::delta-hook[delta@prod]"),
    ("FAILED", "scenarios/gamma.yaml::gamma-show[gamma@prod]"),
}


def test_terminal_summary(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write(ws.mixed_scenarios())
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.re_match_lines([r"^=+ least privilege =+$"])
    assert ws.summary_block(result.outlines) == [
        *SUMMARY,
        "3 of 5 bindings fail least privilege; full report: add --harness-report json:PATH",
    ]


def test_no_summary_without_flow_items(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write(ws.mixed_scenarios())
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest("test_plain.py")
    result.assert_outcomes(passed=1)
    result.stdout.no_re_match_line(r"^=+ least privilege =+$")


def test_summary_covers_selected_bindings_only(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    ws.write(ws.mixed_scenarios())
    result = pytester.runpytest("--harness-env", "dev", "-rs")
    # flows of connectors without a dev binding show as skipped items, saying why
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(
        [
            # located in the workspace, not in the plugin's source
            "SKIPPED [[]1[]] scenarios/alpha.yaml: connector alpha has no binding selected"
            " for this run",
        ]
    )
    assert ws.summary_block(result.outlines) == [
        "PASS  beta@dev  0 missing  0 excessive  0 over-broad",
        "0 of 1 binding fail least privilege; full report: add --harness-report json:PATH",
    ]


def test_report_files(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write(ws.mixed_scenarios())
    result = pytester.runpytest(
        "--harness-report",
        "json:out/report.json",
        "--harness-report",
        "markdown:out/report.md",
        "--harness-report",
        "text:out/report.txt",
    )
    result.assert_outcomes(passed=2, failed=3)
    assert ws.summary_block(result.outlines)[-1] == (
        "3 of 5 bindings fail least privilege; full report: "
        "out/report.json, out/report.md, out/report.txt"
    )
    data = json.loads((pytester.path / "out" / "report.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(load_schema("report")).validate(data)
    assert data["passed"] is False
    assert data["summary"]["bindings"] == 5
    assert data["summary"]["failed"] == 3
    assert data["summary"]["findings"]["missing"] == 1
    assert data["summary"]["findings"]["egress"] == 1
    verdicts = {entry["binding"]: entry["verdict"] for entry in data["bindings"]}
    assert verdicts == {
        "alpha@prod": "pass",
        "beta@dev": "pass",
        "beta@prod": "fail",
        "delta@prod": "fail",
        "gamma@prod": "fail",
    }
    markdown = (pytester.path / "out" / "report.md").read_text("utf-8")
    assert "| **fail** | `beta@prod` | 1 | 0 | 0 | 0 | 1/1 |" in markdown
    text = (pytester.path / "out" / "report.txt").read_text("utf-8")
    assert text.startswith("connector-harness check: 5 bindings, 4 flows, 8 calls replayed\n")
    assert "svc: [svc.read@item=i1]" in text
    assert "\x1b[" not in text  # no colour in a file


def test_every_format_check_writes_and_the_same_bytes(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    """--harness-report writes each format `connector-harness check --format` writes, through
    the same renderers: the files are the CLI's, byte for byte, also under xdist (whose
    workers send back the decisions the HTML maps)."""
    ws.write(ws.mixed_scenarios())
    reports = [f"--harness-report={kind}:serial/report.{kind}" for kind in CHECK_FORMATS]
    pytester.runpytest_subprocess(*reports).assert_outcomes(passed=2, failed=3)
    parallel = [r.replace("serial/", "parallel/") for r in reports]
    pytester.runpytest_subprocess("-n", "2", *parallel).assert_outcomes(passed=2, failed=3)
    for kind in CHECK_FORMATS:
        cli = pytester.run(
            sys.executable,
            "-m",
            "harness.cli",
            "check",
            str(pytester.path),
            "--format",
            kind,
            "--output",
            f"cli.{kind}",
            "--today",
            date.today().isoformat(),
        )
        assert cli.ret == 1, cli.stderr.str()
        written = (pytester.path / f"cli.{kind}").read_bytes()
        assert (pytester.path / "serial" / f"report.{kind}").read_bytes() == written, kind
        assert (pytester.path / "parallel" / f"report.{kind}").read_bytes() == written, kind


def test_bad_report_option_is_a_usage_error(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write()
    result = pytester.runpytest("--harness-report", "yaml:out.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--harness-report: 'yaml:out.yaml': write FORMAT:PATH*"])


def test_report_section_on_each_item(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write(ws.mixed_scenarios())
    reprec = pytester.inline_run()
    calls = [r for r in reprec.getreports("pytest_runtest_logreport") if r.when == "call"]
    assert len(calls) == 5
    for report in calls:
        sections = dict(report.sections)
        section = sections["Captured least privilege call"]
        binding = report.nodeid.split("[")[1].rstrip("]")
        assert section.startswith(f"{binding}: ")
        # the call-by-call listing comes with a failure; a passing item carries the summary
        assert ("  step 1  " in section) == report.failed
    # each travels once: the section on the call report, the properties on the teardown
    # report (where JUnit XML reads them)
    teardowns = [r for r in reprec.getreports("pytest_runtest_logreport") if r.when == "teardown"]
    assert not any(dict(r.sections).get("Captured least privilege call") for r in teardowns)
    assert not any(r.user_properties for r in calls)
    for report in teardowns:
        binding = report.nodeid.split("[")[1].rstrip("]")
        assert ("harness_binding", binding) in report.user_properties
    beta_prod = next(r for r in calls if r.nodeid.endswith("[beta@prod]"))
    assert dict(beta_prod.sections)["Captured least privilege call"].splitlines()[1:] == [
        "  step 1  GET api.svc.example/items  allowed  (requires svc.read; allowed by svc.read)",
        "  step 2  POST api.svc.example/items  denied  (requires svc.write; granted: svc.read)",
    ]


def test_junit_xml_properties(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    ws.write(ws.mixed_scenarios())
    result = pytester.runpytest("--junitxml=junit.xml")
    result.assert_outcomes(passed=2, failed=3)
    text = (pytester.path / "junit.xml").read_text("utf-8")
    assert re.search(r'<property name="harness_missing" value="1"\s*/>', text)
    cases = {case.get("name"): case for case in ET.fromstring(text).iter("testcase")}
    assert set(cases) == {
        "alpha-list[alpha@prod]",
        "beta-sync[beta@dev]",
        "beta-sync[beta@prod]",
        "delta-hook[delta@prod]",
        "gamma-show[gamma@prod]",
    }

    def properties(name: str) -> dict[str, str]:
        return {p.get("name", ""): p.get("value", "") for p in cases[name].iter("property")}

    beta_prod = properties("beta-sync[beta@prod]")
    assert set(beta_prod) == {
        "harness_binding",
        "harness_verdict",
        *(f"harness_{kind}" for kind in KINDS),
    }
    assert {name: value for name, value in beta_prod.items() if value != "0"} == {
        "harness_binding": "beta@prod",
        "harness_verdict": "fail",
        "harness_missing": "1",
    }
    assert properties("gamma-show[gamma@prod]")["harness_excessive"] == "1"
    assert properties("gamma-show[gamma@prod]")["harness_over-broad"] == "1"
    assert properties("delta-hook[delta@prod]")["harness_egress"] == "1"
    alpha = properties("alpha-list[alpha@prod]")
    assert alpha.pop("harness_verdict") == "pass"
    assert alpha.pop("harness_binding") == "alpha@prod"
    assert set(alpha.values()) == {"0"}
    failure = cases["beta-sync[beta@prod]"].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith(
        "binding beta@prod fails least privilege in flow beta-sync (1 finding):"
    )


def test_xdist_gives_the_same_items_summary_and_report(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    ws.write(ws.mixed_scenarios())
    report = pytester.path / "report.json"
    serial = pytester.runpytest("-rA", "--harness-report", "json:report.json")
    serial_report = report.read_bytes()
    report.unlink()
    parallel = pytester.runpytest_subprocess(
        "-rA", "-n", "2", "--harness-report", "json:report.json"
    )
    parallel.stdout.fnmatch_lines(["created: 2/2 workers"])
    assert ws.outcomes(serial.outlines) == OUTCOMES
    assert ws.outcomes(parallel.outlines) == OUTCOMES
    expected_summary = [
        *SUMMARY,
        "3 of 5 bindings fail least privilege; full report: report.json",
    ]
    assert ws.summary_block(serial.outlines) == expected_summary
    assert ws.summary_block(parallel.outlines) == expected_summary
    assert report.read_bytes() == serial_report
    assert serial.ret == parallel.ret == pytest.ExitCode.TESTS_FAILED


COUNT_CHECKS = """
import harness.engine as engine

original = engine.check_binding
who = ["controller"]


def pytest_configure(config):
    # The process is named by xdist's own handle on it, not by PYTEST_XDIST_WORKER: this
    # pytest inherits that variable when the suite itself runs under xdist.
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        who[0] = workerinput["workerid"]


def counting(sandbox, binding, *args, **kwargs):
    # Written as each check happens, not at unconfigure: xdist may tear a worker down
    # before its pytest_unconfigure has run to the end.
    with open(f"checked-{who[0]}.txt", "a") as out:
        out.write(binding.name + "\\n")
    return original(sandbox, binding, *args, **kwargs)


engine.check_binding = counting
"""


def test_the_report_is_built_from_the_items_results_not_checked_again(
    pytester: pytest.Pytester, ws: PluginWorkspace
) -> None:
    ws.write(ws.mixed_scenarios())
    pytester.makeconftest(COUNT_CHECKS)

    def checked(who: str) -> list[str]:
        path = pytester.path / f"checked-{who}.txt"
        checks = path.read_text().split() if path.exists() else []  # a process that checked nothing
        path.unlink(missing_ok=True)
        return checks

    pytester.runpytest_subprocess("--harness-report", "json:serial.json")
    assert sorted(checked("controller")) == sorted(SUMMARY_BINDINGS)  # once each
    pytester.runpytest_subprocess("-n", "2", "--harness-report", "json:parallel.json")
    assert checked("controller") == []  # the workers sent their results back
    assert sorted(checked("gw0") + checked("gw1")) == sorted(SUMMARY_BINDINGS)
    serial = (pytester.path / "serial.json").read_bytes()
    assert (pytester.path / "parallel.json").read_bytes() == serial


def test_xdist_with_a_broken_workspace(pytester: pytest.Pytester, ws: PluginWorkspace) -> None:
    broken = ws.policy({"prod": ["svc.read"]}, {"sync": ["GET /items"]}).replace(
        "roles: [bot-prod]", "roles: [bot-prd]"
    )
    ws.write({"bot.yaml": broken})
    result = pytester.runpytest_subprocess("-n", "2", "-rA")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "the connector-harness workspace does not load (1 problem):",
            "scenarios/bot.yaml:*:*: binding refers to role `bot-prd`, which is not defined",
        ]
    )
    result.stdout.fnmatch_lines(["FAILED scenarios/bot.yaml::workspace*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
