"""Applying every fix `check` prints makes the next run pass: over generated workspaces
(conditional requirements, roles shared between bindings and extended), over the bundled
vendor packs in each of their permission models, and over the example workspace. The fixes
are applied from the "write instead" text alone (tests/applying.py), as a user would."""

from __future__ import annotations

import copy
import functools
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from applying import apply_fixes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.engine import run_check
from harness.findings import EXCESSIVE, MISSING, OVER_BROAD, Finding
from harness.model import Workspace
from harness.report import Report
from harness.strategies import pack_policies, policies, service_specs
from harness.workspace.loader import load_workspace, workspace_from_data
from harness.workspace.settings import Settings

FIXED = (MISSING, EXCESSIVE, OVER_BROAD)
ROOT = Path(__file__).resolve().parents[2]
# Microsoft Graph's pack takes seconds to load, once per example: its permission models are
# covered by the unit tests of the analysis and the realism suite, not by this property.
PACKS = ("slack", "github", "gmail", "google-drive", "google-sheets")


def _fixable(report: Report) -> list[Finding]:
    return [f for r in report.results for f in r.findings if f.kind in FIXED]


def _converges(services: list[dict[str, Any]], policy: dict[str, Any], setup: Settings) -> None:
    report = run_check(workspace_from_data(services, [policy], setup))
    findings = _fixable(report)
    fixed = copy.deepcopy(policy)
    documents = {"<policy 0>": fixed}
    applied = apply_fixes(documents, [f.instead for f in findings])
    assert applied or not any(f.instead for f in findings)
    after = run_check(workspace_from_data(services, [fixed], setup))
    # A call no grant of the binding's permission model allows has no fix, and stays.
    unfixable = {(f.binding, f.kind, f.subject) for f in findings if not f.instead}
    remaining = [f for f in _fixable(after) if (f.binding, f.kind, f.subject) not in unfixable]
    assert not remaining, _explain(findings, remaining, fixed)


def _explain(before: list[Finding], after: list[Finding], fixed: dict[str, Any]) -> str:
    lines = ["findings before:"]
    lines += [f"  {f.binding} {f.kind} {f.subject}\n{_indent(f.instead)}" for f in before]
    lines += ["findings after the fixes:"]
    lines += [f"  {f.binding} {f.kind} {f.subject}: {f.message}" for f in after]
    lines += ["roles and bindings after the fixes:", yaml.safe_dump(fixed["roles"])]
    lines += [yaml.safe_dump(fixed["bindings"])]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_applying_every_fix_of_a_generated_workspace_leaves_nothing_to_fix(
    data: st.DataObject,
) -> None:
    spec = data.draw(service_specs(conditions=True), label="spec")
    policy = data.draw(policies(spec), label="policy")
    _converges([spec], policy, Settings())


@functools.cache
def _pack_workspace(pack: str) -> Workspace:
    return workspace_from_data([], [], _pack_settings(pack))


def _pack_settings(pack: str) -> Settings:
    return Settings(packs=((pack, ""),))


@pytest.mark.parametrize("pack", PACKS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_applying_every_fix_over_a_bundled_pack_leaves_nothing_to_fix(
    pack: str, data: st.DataObject
) -> None:
    service = _pack_workspace(pack).services[0].name
    policy = data.draw(pack_policies(_pack_workspace(pack), service), label="policy")
    _converges([], policy, _pack_settings(pack))


def test_applying_every_fix_of_the_example_workspace_leaves_nothing_to_fix(
    tmp_path: Path,
) -> None:
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    shutil.copytree(ROOT / "mocks", tmp_path / "mocks")
    packs = ["slack", "github", "gmail", "google-drive", "google-sheets"]
    settings_text = yaml.safe_dump({"mocks": ["mocks"], "scenarios": ["scenarios"], "packs": packs})
    (tmp_path / "connector-harness.yaml").write_text(settings_text, "utf-8")
    before = run_check(load_workspace(tmp_path))
    findings = _fixable(before)
    assert {f.kind for f in findings} == set(FIXED)  # the example shows every kind
    files = sorted(tmp_path.glob("scenarios/**/*.yaml"))
    documents = {str(path): yaml.safe_load(path.read_text("utf-8")) for path in files}
    documents.update({str(path.relative_to(tmp_path)): documents[str(path)] for path in files})
    assert apply_fixes(documents, [f.instead for f in findings])
    for path in files:
        path.write_text(yaml.safe_dump(documents[str(path)], sort_keys=False), "utf-8")
    after = run_check(load_workspace(tmp_path))
    assert not _fixable(after), [(f.binding, f.kind, f.subject) for f in _fixable(after)]
    changed = {r.binding for r in before.results if any(f.kind in FIXED for f in r.findings)}
    assert changed  # and those bindings now pass but for the kinds no grant can fix
    for result in after.results:
        if result.binding in changed:
            assert not [f for f in result.findings if f.kind in FIXED]
