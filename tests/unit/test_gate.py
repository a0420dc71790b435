"""The gate: baseline escalations, waivers across dates, token lifecycle and policy findings."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from workspaces import build, policy, service

from harness.analysis import BindingResult
from harness.baseline import load_baseline, render_baseline
from harness.engine import check_binding, run_check
from harness.gate import GateContext
from harness.model import Workspace
from harness.sandbox import Sandbox

TODAY = date(2026, 6, 1)


def _workspace(grants: list[str], calls: list[Any], **extra: Any) -> Workspace:
    document = policy(grants, calls, **{k: v for k, v in extra.items() if k in ("lifetime",)})
    for section in ("waivers", "policy"):
        if section in extra:
            document[section] = extra[section]
    return build([service()], [document])


def _check(workspace: Workspace, **context: Any) -> BindingResult:
    (result,) = run_check(
        workspace, context=GateContext(today=context.pop("today", TODAY), **context)
    ).results
    return result


def _waiver(expires: str, approved_by: str = "security@example.com") -> dict[str, Any]:
    return {
        "binding": "bot@prod",
        "grants": {"svc": ["svc.delete"]},
        "reason": "migration in progress",
        "owner": "team@example.com",
        "ticket": "SEC-42",
        "approved_by": approved_by,
        "expires": expires,
    }


def test_a_waiver_lets_an_excess_pass_until_it_expires() -> None:
    workspace = _workspace(
        ["svc.read", "svc.delete"], [("GET", "/items")], waivers=[_waiver("2026-06-30")]
    )
    result = _check(workspace)
    assert result.passed
    (finding,) = result.findings
    assert (finding.kind, finding.waived_by) == (
        "excessive",
        "waiver SEC-42 until 2026-06-30 (29 days left)",
    )
    (status,) = result.waivers
    assert (status.status, status.days_left) == ("active", 29)
    assert _check(workspace, today=date(2026, 6, 30)).passed  # the last day still counts
    expired = _check(workspace, today=date(2026, 7, 1))
    assert not expired.passed
    assert [(f.kind, bool(f.waived_by)) for f in expired.findings] == [
        ("excessive", False),
        ("waiver", False),
    ]
    assert "expired on 2026-06-30" in expired.findings[1].message


def test_a_waiver_approved_by_the_connectors_owner_is_rejected() -> None:
    workspace = _workspace(
        ["svc.read", "svc.delete"],
        [("GET", "/items")],
        waivers=[_waiver("2026-12-31", approved_by="Owner@Example.com")],
    )
    result = _check(workspace)
    assert not result.passed
    assert result.waivers[0].status == "rejected"
    assert "separation of duties" in result.findings[-1].message


def test_a_waiver_covers_only_its_own_grants() -> None:
    waiver = _waiver("2026-12-31") | {"grants": {"svc": ["svc.admin"]}}
    workspace = _workspace(["svc.read", "svc.delete"], [("GET", "/items")], waivers=[waiver])
    assert not _check(workspace).passed


def test_the_baseline_passes_unchanged_bindings_and_reports_escalation(tmp_path: Path) -> None:
    before = _workspace(["svc.read"], [("GET", "/items")])
    path = tmp_path / "baseline.yaml"
    path.write_text(render_baseline(run_check(before).results, "2026-01-01T00:00:00Z"))
    baseline = load_baseline(path)
    assert _check(before, baseline=baseline).passed
    after = _workspace(["svc.read", "svc.delete"], [("GET", "/items")])
    result = _check(after, baseline=baseline)
    assert not result.passed
    assert [(f.kind, f.subject) for f in result.findings] == [
        ("excessive", "svc.delete"),
        ("escalation", "svc.delete"),
    ]
    assert "not in the baseline (approved for svc: svc.read)" in result.findings[1].message


def test_an_excess_approved_in_the_baseline_passes(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text("version: 1\nbindings:\n  bot@prod:\n    svc: [svc.read, svc.delete]\n")
    workspace = _workspace(["svc.read", "svc.delete"], [("GET", "/items")])
    result = _check(workspace, baseline=load_baseline(path))
    assert result.passed
    assert result.findings[0].waived_by == f"approved in the baseline {path}"


def test_a_binding_missing_from_the_baseline_escalates_everything(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text("version: 1\nbindings: {}\n")
    result = _check(_workspace(["svc.read"], [("GET", "/items")]), baseline=load_baseline(path))
    assert [
        (f.kind, f.message.endswith("(the binding is not in the baseline)"))
        for f in result.findings
    ] == [("escalation", True)]


def _request(path: str = "/items", wait: str | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"request": {"method": "GET", "url": f"https://api.svc.example{path}"}}
    if wait:
        step["wait"] = wait
    return step


@pytest.mark.parametrize(
    ("steps", "kinds"),
    [
        ([_request(), _request(wait="2h")], ["credential"]),  # expires mid-flow
        ([_request(), {"action": "refresh", "wait": "50m"}, _request(wait="50m")], []),
        ([_request(), {"action": "rotate"}, _request()], []),
        ([_request(), {"action": "revoke"}, _request()], ["credential"]),
    ],
)
def test_token_lifecycle_on_the_sandbox_clock(
    steps: list[dict[str, Any]], kinds: list[str]
) -> None:
    result = _check(_workspace(["svc.read"], steps))
    assert [f.kind for f in result.findings] == kinds


def test_revocation_is_named_in_the_finding() -> None:
    result = _check(_workspace(["svc.read"], [_request(), {"action": "revoke"}, _request()]))
    assert "the token has been revoked" in result.findings[0].message


def test_a_flow_passing_only_thanks_to_a_long_lived_token_is_reported() -> None:
    steps = [_request(), _request(wait="3h")]
    workspace = _workspace(
        ["svc.read"], steps, lifetime="12h", policy={"max_credential_lifetime": "1h"}
    )
    result = _check(workspace)
    assert [f.kind for f in result.findings] == ["token-lifetime"]
    assert (
        "passes only because tokens live 12h; with the policy maximum of 1h step 2"
        in result.findings[0].message
    )
    assert _check(_workspace(["svc.read"], steps, lifetime="12h")).passed  # default maximum 24h


def test_unusual_volume_is_an_alert() -> None:
    workspace = _workspace(
        ["svc.read"], [_request()] * 4, policy={"volume": {"max_calls_per_flow": 3}}
    )
    result = _check(workspace)
    assert [f.kind for f in result.findings] == ["volume"]
    assert "4 calls (policy maximum 3)" in result.findings[0].message


def test_one_shadow_sandbox_replays_every_long_lived_binding_as_fresh_ones_would() -> None:
    """The re-replay at the policy's maximum lifetime runs in one second sandbox for the whole
    run; what it finds for each binding is what a fresh sandbox per binding finds."""
    steps = [_request(), {"action": "rotate"}, _request(wait="3h"), {"action": "revoke"}]
    document = policy(["svc.read"], steps, lifetime="12h")
    document["policy"] = {"max_credential_lifetime": "1h"}
    document["bindings"].append({"connector": "bot", "env": "dev", "roles": ["role"]})
    workspace = build([service()], [document])
    context = GateContext(today=TODAY)
    shared = run_check(workspace, context=context).results
    fresh = []
    for binding in workspace.bindings:
        sandbox = Sandbox(workspace)
        fresh.append(check_binding(sandbox, binding, ("missing",), context)[0])
    assert [r.binding for r in shared] == [r.binding for r in fresh]
    assert [[f.message for f in r.findings] for r in shared] == [
        [f.message for f in r.findings] for r in fresh
    ]
    assert all("token-lifetime" in [f.kind for f in r.findings] for r in shared)
