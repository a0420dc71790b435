"""The baseline: a reviewable lockfile of each binding's approved grants.

`connector-harness baseline` writes the suggested minimal role of every binding;
reviewers may approve more by editing it. `check --baseline FILE` then reports a
grant outside a binding's approved set as an escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.analysis import BindingResult
from harness.errors import InputError, InputErrors
from harness.scopes import Grant
from harness.workspace.validation import validate
from harness.workspace.yaml_source import YamlDocument, load_yaml

BASELINE_VERSION = 1


@dataclass(frozen=True, slots=True)
class Baseline:
    path: str
    approved: dict[str, frozenset[tuple[str, Grant]]]  # binding -> (service, grant)
    locations: dict[str, str]  # binding -> file:line of its entry

    def approves(self, binding: str, service: str, grant: Grant) -> bool:
        return (service, grant) in self.approved.get(binding, frozenset())


def load_baseline(path: Path) -> Baseline:
    """Read and validate a baseline file; InputErrors on any problem."""
    document: YamlDocument = load_yaml(path)
    problems = validate(document, "baseline", what="a connector-harness baseline")
    if problems:
        raise InputErrors(problems)
    data = document.data
    if data["version"] != BASELINE_VERSION:
        raise InputError(
            document.location(("version",)),
            f"baseline version {data['version']} is not supported",
            f"regenerate it with `connector-harness baseline` (version {BASELINE_VERSION})",
        )
    approved = {
        binding: frozenset(
            (service, Grant.parse(text)) for service, texts in grants.items() for text in texts
        )
        for binding, grants in data["bindings"].items()
    }
    locations = {
        binding: str(document.location(("bindings", binding), key=True))
        for binding in data["bindings"]
    }
    return Baseline(str(path), approved, locations)


def render_baseline(results: tuple[BindingResult, ...], clock: str) -> str:
    """The lockfile text: each binding's suggested grants, sorted, with a review header."""
    bindings = {
        result.binding: {s.service: list(s.suggested) for s in result.services if s.suggested}
        for result in sorted(results, key=lambda r: r.binding)
    }
    header = (
        "# connector-harness baseline: the approved grants of each binding.\n"
        "# Generated from the least-privilege analysis; review changes to this file like code.\n"
        "# `connector-harness check --baseline THIS_FILE` reports any grant outside it as an escalation.\n"
    )
    body = yaml.safe_dump(
        {"version": BASELINE_VERSION, "generated_at": clock, "bindings": bindings},
        sort_keys=False,
        width=100,
    )
    return header + body
