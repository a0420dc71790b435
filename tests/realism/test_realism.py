"""The four checks of every realism case (tables in cases/, one module per vendor).

1. The SDK's requests route to operations of the vendor's service.
2. The minimal grant the vendor documents passes with no finding.
3. A broader grant the vendor accepts is reported over-broad or excessive, and the
   suggested grant is the documented minimal one.
4. A grant the vendor refuses the call with is reported missing.
"""

from __future__ import annotations

import pytest

from .adapter import EXCESSIVE, MISSING, OVER_BROAD, Verdict
from .case import Case
from .cases import CASES
from .judge import BROADER, MINIMAL, REFUSED, ROUTE, Judge

pytestmark = [
    pytest.mark.realism,
    # msgraph-sdk's generated builders use kiota classes that kiota itself marks deprecated.
    pytest.mark.filterwarnings("ignore:GetQueryParameters is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings(
        "ignore:This class is deprecated. Please use the generic:DeprecationWarning"
    ),
]
each_case = pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])


def _fail(
    case: Case, judge: Judge, verdict: Verdict, grants: tuple[str, ...], problem: str
) -> None:
    sent = "\n".join(
        f"  {call.request.method} {call.request.url}" for call in judge.capture(case).calls
    )
    note = f"\nnote: {case.note}" if case.note else ""
    pytest.fail(
        f"{case.id}: {problem}\n"
        f"vendor rule: {case.reference}{note}\n"
        f"the SDK sent:\n{sent or '  nothing'}\n"
        f"granted ({case.model or 'single model'}): {', '.join(grants) or 'nothing'}\n"
        f"documented minimal: {', '.join(case.minimal)}\n"
        f"{verdict.explain()}",
        pytrace=False,
    )


@each_case
def test_call_routes(case: Case, judge: Judge) -> None:
    verdict = judge.verdict(case, ROUTE)
    unrouted = [c for c in verdict.calls if not c.operation or c.service != case.service]
    if verdict.errors:
        _fail(case, judge, verdict, (), "the workspace does not load")
    if not verdict.calls or unrouted:
        _fail(
            case,
            judge,
            verdict,
            (),
            f"{len(unrouted)} call(s) reach no operation of `{case.service}`",
        )


@each_case
def test_minimal_grant_passes(case: Case, judge: Judge) -> None:
    verdict = judge.verdict(case, MINIMAL)
    refused = [c for c in verdict.calls if c.outcome != "allowed"]
    if verdict.errors or not verdict.calls or refused or verdict.findings:
        _fail(
            case, judge, verdict, case.minimal, "the vendor's minimal grant does not pass cleanly"
        )


@each_case
def test_broader_grant_is_reported(case: Case, judge: Judge) -> None:
    verdict = judge.verdict(case, BROADER)
    problems = list(verdict.errors)
    if not verdict.errors:
        acceptable = case.acceptable_minimal
        suggested = frozenset(verdict.suggested)
        chosen = suggested if suggested in acceptable else frozenset(case.minimal)
        reported = {f.subject for f in verdict.findings if f.kind in (EXCESSIVE, OVER_BROAD)}
        unreported = sorted(set(case.broader) - chosen - reported)
        if any(c.outcome != "allowed" for c in verdict.calls):
            problems.append("a call the vendor allows under this grant was refused")
        if unreported:
            problems.append(f"not reported over-broad or excessive: {', '.join(unreported)}")
        if suggested not in acceptable:
            problems.append(
                f"suggested {', '.join(sorted(suggested)) or 'nothing'} instead of the "
                "documented minimal grant"
            )
        for finding in verdict.findings:
            if finding.kind == OVER_BROAD and not set(finding.replacement) <= chosen:
                problems.append(
                    f"`{finding.subject}` is to be replaced by {', '.join(finding.replacement)}, "
                    "not by the documented minimal grant"
                )
    if problems:
        _fail(case, judge, verdict, case.broader, "; ".join(problems))


@each_case
def test_refused_grant_is_reported_missing(case: Case, judge: Judge) -> None:
    verdict = judge.verdict(case, REFUSED)
    missing = [f for f in verdict.findings if f.kind == MISSING and f.service == case.service]
    if verdict.errors:
        _fail(case, judge, verdict, case.refused, "the workspace does not load")
    if not missing:
        _fail(
            case, judge, verdict, case.refused, "a grant the vendor refuses is not reported missing"
        )
