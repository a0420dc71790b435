"""A remembered evaluation of a conditional requirement is the evaluation itself.

`conditions.evaluate` remembers evaluations by what they read (an argument's values, a
resource's classes). Over sequences of calls with random arguments and a replay state
that changes between calls, every answer must equal a fresh evaluation's, refusals and
condition text included.
"""

from __future__ import annotations

import pickle
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.arguments import Argument, CallArguments
from harness.conditions import (
    MAX_REMEMBERED,
    AllOf,
    AnyOf,
    ConditionalRequirement,
    Each,
    Evaluation,
    Impossible,
    Scope,
    When,
    evaluate,
)
from harness.conditions import Test as ArgumentTest

FILE = Argument("fileId", "path", resource="file")
FORMAT = Argument("format", "query", default=("full",), values=("full", "metadata", "minimal"))
TYPES = Argument("types", "any", default=("public",), is_list=True)
Q = Argument("q", "query")
USERS = Argument("users", "any", is_list=True)  # no default: absent holds 0 values

EXPRESSION = AllOf(
    (
        When(
            (ArgumentTest("fileId", "class", frozenset({"created", "given"})),),
            Scope("drive.file"),
            AnyOf((Scope("drive.readonly"), Scope("drive"))),
        ),
        When(
            (
                ArgumentTest("format", "in", frozenset({"metadata", "minimal"})),
                ArgumentTest("q", "absent"),
            ),
            AnyOf((Scope("mail.metadata"), Scope("mail.readonly"))),
            Scope("mail.readonly"),
        ),
        Each(
            "types",
            (("public", Scope("channels:read")), ("private", Scope("groups:read"))),
            None,
        ),
        When((ArgumentTest("q", "prefix", frozenset({"from:"})),), Impossible(), Scope("search")),
        # how many users are listed, and nothing else about them, decides this part
        When((ArgumentTest("users", "count", at_least=2),), Scope("mpim:write"), Scope("im:write")),
    )
)
ARGUMENTS = (FILE, FORMAT, TYPES, Q, USERS)

QUERY_PART = st.sampled_from(
    [
        "",
        "format=metadata",
        "format=full",
        "format=minimal",
        "format=raw",  # not a value the vendor accepts: refused
        "q=from:ada",
        "q=subject:x",
        "q=",
        "types=public",
        "types=private,public",
        "types=im",  # not in the map: refused
        "types=" + ",".join(f"t{n}" for n in range(70)),  # over the list bound
        "users=U1",
        "users=U1,U2",  # the same first value as the one above, one more value
        "users=U1,U1",  # one distinct value
        "users=U2",
        "users=U2,U3,U1",
    ]
)
CALLS = st.tuples(
    st.sampled_from(["F1", "F2", "F3"]),
    st.lists(QUERY_PART, max_size=3).map(lambda parts: "&".join(p for p in parts if p)),
    st.frozensets(st.sampled_from(["created", "given", "appdata"]), max_size=2),
)


def _arguments(file_id: str, query: str) -> CallArguments:
    return CallArguments(query, {"fileId": file_id}, {}, None, None)


def _fresh(conditional: ConditionalRequirement) -> ConditionalRequirement:
    return replace(conditional)  # the same value, with nothing remembered


@settings(max_examples=200, deadline=None)
@given(st.lists(CALLS, min_size=1, max_size=25))
def test_every_remembered_evaluation_equals_a_fresh_one(
    calls: list[tuple[str, str, frozenset[str]]],
) -> None:
    conditional = ConditionalRequirement(EXPRESSION, ARGUMENTS, ())
    for file_id, query, held in calls:
        state = {file_id: held}  # the replay's state as this call finds it

        def classes(
            argument: Argument, value: str, state: dict[str, frozenset[str]] = state
        ) -> frozenset[str]:
            return state.get(value, frozenset())

        remembered = evaluate(conditional, _arguments(file_id, query), classes)
        fresh = evaluate(_fresh(conditional), _arguments(file_id, query), classes)
        assert remembered == fresh


USERS_PART = st.lists(st.sampled_from(["U1", "U2", "U3"]), max_size=4).map(
    lambda users: f"users={','.join(users)}" if users else ""
)


@settings(max_examples=100, deadline=None)
@given(st.lists(USERS_PART, min_size=2, max_size=12))
def test_calls_that_differ_only_in_how_many_values_they_list_are_evaluated_alike(
    queries: list[str],
) -> None:
    # the rest of the call the same each time: only `users` (its values, how many) differs
    conditional = ConditionalRequirement(EXPRESSION, ARGUMENTS, ())
    none = frozenset[str]()
    for query in queries:
        remembered = evaluate(conditional, _arguments("F1", query), lambda a, v: none)
        fresh = evaluate(_fresh(conditional), _arguments("F1", query), lambda a, v: none)
        assert remembered == fresh


def test_a_call_answering_as_an_earlier_one_gets_its_evaluation_and_another_does_not() -> None:
    conditional = ConditionalRequirement(EXPRESSION, ARGUMENTS, ())

    def created(argument: Argument, value: str) -> frozenset[str]:
        return frozenset({"created"})

    def nothing(argument: Argument, value: str) -> frozenset[str]:
        return frozenset()

    first = evaluate(conditional, _arguments("F1", "format=metadata"), created)
    again = evaluate(conditional, _arguments("F1", "format=metadata"), created)
    assert again is first
    # the same call once the file is no longer the app's: another path, another answer
    other = evaluate(conditional, _arguments("F1", "format=metadata"), nothing)
    assert other is not first
    assert first.requirement is not None
    assert other.requirement is not None
    assert all("drive.file" in alternative for alternative in first.requirement.any_of)
    assert not any("drive.file" in alternative for alternative in other.requirement.any_of)
    assert "[created]" in first.condition
    assert "[pre-existing, not given]" in other.condition


def test_calls_listing_the_same_values_but_not_as_many_get_their_own_evaluations() -> None:
    conditional = ConditionalRequirement(EXPRESSION, ARGUMENTS, ())
    none = frozenset[str]()
    found = {
        query: evaluate(conditional, _arguments("F1", query), lambda a, v: none)
        for query in ("users=U1", "users=U1,U2", "users=U1", "users=U1,U1", "users=U2,U1")
    }
    requirements = {query: evaluation.requirement for query, evaluation in found.items()}
    one, several = requirements["users=U1"], requirements["users=U1,U2"]
    assert one is not None
    assert several is not None
    assert all("im:write" in a for a in one.any_of)
    assert all("mpim:write" in a for a in several.any_of)
    assert requirements["users=U1,U1"] == requirements["users=U1"]
    assert requirements["users=U2,U1"] == requirements["users=U1,U2"]


def test_a_refused_argument_is_remembered_as_refused() -> None:
    conditional = ConditionalRequirement(EXPRESSION, ARGUMENTS, ())
    none = frozenset[str]()
    for _ in range(2):
        found = evaluate(conditional, _arguments("F1", "format=raw"), lambda a, v: none)
        assert found == Evaluation(
            None,
            "fileId=F1 [pre-existing, not given]",
            "`format=raw` is not a value the vendor accepts (full, metadata, minimal)",
        )


def test_what_is_remembered_is_bounded_and_never_pickled() -> None:
    conditional = ConditionalRequirement(EXPRESSION, ARGUMENTS, ())
    none = frozenset[str]()
    for number in range(MAX_REMEMBERED + 50):
        evaluate(conditional, _arguments(f"F{number}", ""), lambda a, v: none)
    assert conditional.memo.size == MAX_REMEMBERED
    past = evaluate(conditional, _arguments("F-past", ""), lambda a, v: none)
    assert past == evaluate(_fresh(conditional), _arguments("F-past", ""), lambda a, v: none)
    copy = pickle.loads(pickle.dumps(conditional))
    assert copy == conditional
    assert copy.memo.size == 0
    assert copy.memo.root is None
