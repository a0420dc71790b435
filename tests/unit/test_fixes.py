"""What to write instead: one final line per role, and roles shared between bindings."""

from __future__ import annotations

from typing import Any

from workspaces import build, policy, service

from harness.engine import Selection, run_check
from harness.report import Report


def _shared(prod_calls: list[Any], dev_calls: list[Any], grants: list[str]) -> Report:
    """`role` held by bot@prod and by bot2@dev, each connector with its own flow."""
    document = policy(grants, prod_calls)
    other = policy(grants, dev_calls)
    other["connectors"][0]["name"] = "bot2"
    other["flows"][0].update(name="flow2", connector="bot2")
    document["connectors"] += other["connectors"]
    document["flows"] += other["flows"]
    document["bindings"].append({"connector": "bot2", "env": "dev", "roles": ["role"]})
    return run_check(build([service()], [document]))


def _instead(report: Report, binding: str) -> set[str]:
    result = next(r for r in report.results if r.binding == binding)
    return {f.instead for f in result.findings}


def test_every_finding_on_a_role_says_the_same_final_line() -> None:
    (result,) = run_check(
        build([service()], [policy(["svc.read", "svc.delete"], [("POST", "/items")])])
    ).results
    assert [f.kind for f in result.findings] == ["missing", "excessive", "excessive"]
    (text,) = {f.instead for f in result.findings}
    assert text == "# role `role` at <policy 0>:1:1\ngrants:\n  svc: [svc.write]"


def test_a_shared_role_another_binding_needs_as_it_is_becomes_a_role_of_the_binding() -> None:
    report = _shared(
        [("GET", "/items")], [("GET", "/items"), ("DELETE", "/items/1")], ["svc.read", "svc.delete"]
    )
    assert _instead(report, "bot2@dev") == set()  # it passes with the role as it is
    (text,) = _instead(report, "bot@prod")
    assert text == (
        "# role `role` is shared: bot2@dev needs it as it is; give bot@prod a role of its own\n"
        "roles:\n"
        "  - name: role-bot-prod\n"
        "    description: role as bot@prod needs it\n"
        "    grants:\n"
        "      svc: [svc.read]\n"
        "# binding bot@prod at <policy 0>:1:1\n"
        "roles: [role-bot-prod]"
    )


def test_a_shared_role_changes_when_every_binding_holding_it_calls_for_the_same_line() -> None:
    report = _shared([("GET", "/items")], [("GET", "/items")], ["svc.read", "svc.delete"])
    for binding, other in (("bot@prod", "bot2@dev"), ("bot2@dev", "bot@prod")):
        (text,) = _instead(report, binding)
        assert text == (
            f"# role `role` is shared with {other}, whose check calls for the same line\n"
            "# role `role` at <policy 0>:1:1\ngrants:\n  svc: [svc.read]"
        )


def test_a_shared_role_two_bindings_want_changed_differently_is_changed_for_neither() -> None:
    report = _shared([("GET", "/items")], [("DELETE", "/items/1")], ["svc.read", "svc.delete"])
    (text,) = _instead(report, "bot2@dev")
    assert text.startswith(
        "# role `role` is shared: bot@prod calls for another `svc` line; "
        "give bot2@dev a role of its own\n"
    )
    assert text.endswith(
        "      svc: [svc.delete]\n# binding bot2@dev at <policy 0>:1:1\nroles: [role-bot2-dev]"
    )


def test_a_shared_role_is_not_changed_for_a_binding_the_run_did_not_check() -> None:
    document_report = _shared([("GET", "/items")], [("GET", "/items")], ["svc.read", "svc.delete"])
    workspace = document_report.workspace
    report = run_check(workspace, Selection(env="prod"))
    (text,) = _instead(report, "bot@prod")
    assert text.startswith(
        "# role `role` is shared: bot2@dev was not checked in this run; "
        "give bot@prod a role of its own\n"
    )
