"""The Report value every renderer reads, and its versioned JSON form (the contract)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness import __version__
from harness.analysis import BindingResult
from harness.cells import binding_cells
from harness.findings import ALERT_KINDS, KINDS, location_data
from harness.gate import GateContext
from harness.model import Workspace
from harness.settlement import settle_shared_roles
from harness.workspace.units import format_instant

REPORT_SCHEMA = "connector-harness/check-report"
# 2: locations as fields (`path`, `line`, `column`) beside the `location` text; each binding's
# need-to-know `cells` and its `fixes`. See the changelog in docs/report.md.
REPORT_VERSION = 2


@dataclass(frozen=True, slots=True)
class Report:
    workspace: Workspace
    env: str | None
    binding: str | None
    results: tuple[BindingResult, ...]
    context: GateContext | None = None

    def __post_init__(self) -> None:
        # Every view reads fixes judged against the other bindings sharing a role.
        settled = settle_shared_roles(self.workspace, self.results)
        if settled != self.results:
            object.__setattr__(self, "results", settled)

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failed(self) -> tuple[BindingResult, ...]:
        return tuple(result for result in self.results if not result.passed)

    def count(self, kind: str) -> int:
        return sum(result.count(kind) for result in self.results)

    @property
    def calls(self) -> int:
        return sum(result.calls for result in self.results)

    def to_data(self) -> dict[str, Any]:
        """The JSON report: stable key order and list order, no wall-clock time."""
        settings = self.workspace.settings
        return {
            "schema": REPORT_SCHEMA,
            "version": REPORT_VERSION,
            "tool": {"name": "connector-harness", "version": __version__},
            "workspace": self.workspace.root,
            "clock": format_instant(settings.clock),
            "filters": {"env": self.env, "binding": self.binding},
            "fail_on": list(settings.fail_on),
            "baseline": self.context.baseline.path
            if self.context and self.context.baseline
            else None,
            "waivers": [w.to_data() for r in self.results for w in r.waivers],
            "alerts": [
                {
                    "kind": f.kind,
                    "binding": f.binding,
                    "message": f.message,
                    **location_data(f.location),
                }
                for r in self.results
                for f in r.findings
                if f.kind in ALERT_KINDS
                or (f.message.startswith("blocked call") and "region" in f.message)
            ],
            "passed": self.passed,
            "summary": {
                "bindings": len(self.results),
                "passed": len(self.results) - len(self.failed),
                "failed": len(self.failed),
                "calls": self.calls,
                "findings": {kind: self.count(kind) for kind in KINDS},
            },
            "bindings": [_binding_data(result) for result in self.results],
        }


def _binding_data(result: BindingResult) -> dict[str, Any]:
    return {
        "binding": result.binding,
        "connector": result.connector,
        "env": result.env,
        "verdict": "pass" if result.passed else "fail",
        "flows": list(result.flows),
        "calls": {
            "total": result.calls,
            "allowed": result.allowed,
            "denied": result.denied,
            "blocked": result.blocked,
        },
        "coverage": {
            "exercised": result.exercised,
            "granted": result.granted,
            "ratio": round(result.coverage, 4),
        },
        "method": result.method,
        "services": [
            {**s.to_data(), "needed_for": {grant: list(ops) for grant, ops in s.needed_for}}
            for s in result.services
        ],
        "findings": [finding.to_data() for finding in result.findings],
        "cells": [
            {key: value for key, value in cell.to_data().items() if key != "binding"}
            for cell in binding_cells(result)
        ],
        "fixes": [fix.to_data() for fix in result.fixes],
        "own_roles": [
            {
                "name": own.name,
                "replaces": own.replaces,
                "grants": {service: list(grants) for service, grants in own.grants},
                "because": own.because,
            }
            for own in result.own_roles
        ],
        "suggested_role": result.suggested_role,
    }
