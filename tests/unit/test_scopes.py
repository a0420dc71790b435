from __future__ import annotations

import pytest

from harness.scopes import Grant, GrantSet, Requirement, ScopeUniverse

UNIVERSE = ScopeUniverse(
    {
        "crm.contacts.read": [],
        "crm.contacts.write": ["crm.contacts.read"],
        "crm.deals.read": [],
        "crm.deals.write": ["crm.deals.read"],
        "crm.owner": ["crm.contacts.write"],
        "crm.admin": ["crm.*"],
    }
)


@pytest.mark.parametrize(
    ("text", "scope", "narrowing"),
    [
        ("chat:write:bot", "chat:write:bot", ()),
        ("chat:write:bot@channel=C123", "chat:write:bot", (("channel", "C123"),)),
        ("s3@prefix=a/*,bucket=b", "s3", (("bucket", "b"), ("prefix", "a/*"))),
        ("https://www.googleapis.com/auth/drive", "https://www.googleapis.com/auth/drive", ()),
        ("user@example", "user@example", ()),  # an `@` without key=value is part of the scope
    ],
)
def test_grant_parse(text: str, scope: str, narrowing: tuple[tuple[str, str], ...]) -> None:
    grant = Grant.parse(text)
    assert (grant.scope, grant.narrowing) == (scope, narrowing)
    assert Grant.parse(str(grant)) == grant


def test_narrowed_grant_matches_only_its_resources() -> None:
    grant = Grant.parse("storage.write@bucket=backups,prefix=nightly/*")
    assert grant.matches_resources({"bucket": "backups", "prefix": "nightly/2026"})
    assert not grant.matches_resources({"bucket": "backups", "prefix": "weekly/1"})
    assert not grant.matches_resources({"bucket": "backups"})  # key absent: not this grant's call


def test_closure_follows_implications_transitively() -> None:
    assert UNIVERSE.closure("crm.owner") == {"crm.owner", "crm.contacts.write", "crm.contacts.read"}
    assert UNIVERSE.closure("crm.contacts.read") == {"crm.contacts.read"}


def test_admin_and_pattern_grants_include_everything_they_match() -> None:
    assert UNIVERSE.closure("crm.admin") == set(UNIVERSE.names)
    assert UNIVERSE.closure("crm.deals.*") >= {"crm.deals.read", "crm.deals.write"}
    assert "crm.contacts.read" not in UNIVERSE.closure("crm.deals.*")


def test_undeclared_scopes_are_recognised() -> None:
    assert UNIVERSE.undeclared("crm.contact.read")
    assert UNIVERSE.undeclared("billing.*")
    assert not UNIVERSE.undeclared("crm.*")
    assert UNIVERSE.implied_by("crm.contacts.read") == (
        "crm.admin",
        "crm.contacts.read",
        "crm.contacts.write",
        "crm.owner",
    )


def test_requirement_text_and_data() -> None:
    requirement = Requirement((frozenset({"a"}), frozenset({"b", "c"})))
    assert str(requirement) == "a or (b and c)"
    assert requirement.to_data() == [["a"], ["b", "c"]]
    assert str(Requirement.public()) == "none (public)"


def test_grant_set_any_of_and_all_of() -> None:
    both = Requirement((frozenset({"crm.deals.read", "crm.contacts.read"}),))
    either = Requirement((frozenset({"crm.deals.write"}), frozenset({"crm.contacts.read"})))
    grants = GrantSet.build([Grant("crm.contacts.write")], UNIVERSE)
    assert grants.allows(both, {}) is None
    assert grants.allows(either, {}) == 1
    assert grants.allows(Requirement.public(), {}) == -1
    assert GrantSet.build([Grant("crm.admin")], UNIVERSE).allows(both, {}) == 0


def test_grant_set_narrowing_applies_per_call() -> None:
    requirement = Requirement.single("crm.deals.write")
    grants = GrantSet.build([Grant.parse("crm.deals.write@pipeline=P1")], UNIVERSE)
    assert grants.allows(requirement, {"pipeline": "P1"}) == 0
    assert grants.allows(requirement, {"pipeline": "P2"}) is None
    assert grants.allows(requirement, {}) is None
    assert grants.grants_for(requirement.any_of[0], {"pipeline": "P1"}) == (
        Grant("crm.deals.write", (("pipeline", "P1"),)),
    )
