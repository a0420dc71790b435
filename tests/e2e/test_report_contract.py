"""The JSON report (version 2) against its schema: locations as fields, cells and fixes."""

from __future__ import annotations

import contextlib
import io
import json
import os
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.cli import main
from harness.findings import split_location

ROOT = Path(__file__).resolve().parents[2]


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (files("harness.schemas") / "report.schema.json").read_text("utf-8")
    )
    return schema


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    previous = os.getcwd()
    os.chdir(ROOT)
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["check", ".", "--format", "json"]) == 1
    finally:
        os.chdir(previous)
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def test_the_report_of_the_example_follows_the_schema(report: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(
        _schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(report)
    assert (report["schema"], report["version"]) == ("connector-harness/check-report", 2)


def test_every_location_carries_its_path_line_and_column_as_fields(
    report: dict[str, Any],
) -> None:
    placed = [
        *(f for b in report["bindings"] for f in b["findings"]),
        *report["alerts"],
        *report["waivers"],
    ]
    assert placed
    for item in placed:
        path, line, column = split_location(item["location"])
        assert (item["path"], item["line"] or 0, item["column"] or 0) == (path, line, column)
    storage = next(
        f for b in report["bindings"] for f in b["findings"] if f["subject"] == "storage.*"
    )
    assert (storage["path"], storage["line"], storage["column"]) == (
        "scenarios/roles.yaml",
        91,
        17,
    )


def test_each_binding_says_its_cells_and_the_fixes_of_its_roles(report: dict[str, Any]) -> None:
    prod = next(b for b in report["bindings"] if b["binding"] == "issue-alerts@prod")
    assert {(c["grant"], c["state"]) for c in prod["cells"] if c["service"] == "github"} == {
        ("issues:read", "instead"),
        ("issues:write", "over-broad"),
        ("metadata:read", "needed"),
        ("pull_requests:write", "excessive"),
    }
    assert prod["fixes"] == [
        {"role": "github-triager", "service": "github", "grants": ["metadata:read", "issues:read"]}
    ]
    support = next(b for b in report["bindings"] if b["binding"] == "support-digest@prod")
    (own,) = support["own_roles"]
    assert (own["name"], own["replaces"]) == (
        "chat-support-reader-support-digest-prod",
        "chat-support-reader",
    )
