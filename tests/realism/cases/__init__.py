"""Every realism case, one table per vendor."""

from __future__ import annotations

from ..case import Case
from . import drive, github, gmail, graph, sheets, slack

CASES: tuple[Case, ...] = (
    *slack.CASES,
    *github.CASES,
    *gmail.CASES,
    *drive.CASES,
    *sheets.CASES,
    *graph.CASES,
)

_ids = [case.id for case in CASES]
if len(set(_ids)) != len(_ids):
    raise ValueError(f"duplicate case ids: {sorted({i for i in _ids if _ids.count(i) > 1})}")
