"""The verdicts of the harness on every case, computed once per vendor in one workspace."""

from __future__ import annotations

from pathlib import Path

from .adapter import Capture, Entry, Verdict, capture, judge
from .case import Case
from .clients import DEFAULT_ANSWER, drive

ROUTE, MINIMAL, BROADER, REFUSED = "route", "minimal", "broader", "refused"
KINDS = (ROUTE, MINIMAL, BROADER, REFUSED)


class Judge:
    """Captures each case's SDK call once, and judges all the grant sets of a vendor's cases
    together (one workspace load per vendor, not one per check)."""

    def __init__(self, cases: tuple[Case, ...], directory: Path) -> None:
        self.cases = cases
        self.directory = directory
        self._captures: dict[str, Capture] = {}
        self._verdicts: dict[tuple[str, str], Verdict] = {}

    def capture(self, case: Case) -> Capture:
        if case.id not in self._captures:
            self._captures[case.id] = capture(
                drive(case.service, case.call), case.answers, DEFAULT_ANSWER[case.service]
            )
        return self._captures[case.id]

    def verdict(self, case: Case, kind: str) -> Verdict:
        if (case.id, kind) not in self._verdicts:
            self._judge_service(case.service)
        return self._verdicts[(case.id, kind)]

    def _judge_service(self, service: str) -> None:
        entries: list[Entry] = []
        for case in (c for c in self.cases if c.service == service):
            captured = self.capture(case)
            if captured.error or not captured.calls:
                problem = f"the SDK call did not complete offline: {captured.error or 'no request'}"
                for kind in KINDS:
                    self._verdicts[(case.id, kind)] = Verdict((problem,))
                continue
            grants = {
                ROUTE: (),
                MINIMAL: case.minimal,
                BROADER: case.broader,
                REFUSED: case.refused,
            }
            for kind in KINDS:
                # Routing does not depend on the grants or the model: judged with neither.
                model = "" if kind == ROUTE else case.model
                entries.append(
                    Entry(
                        f"{case.id}|{kind}",
                        service,
                        model,
                        grants[kind],
                        captured.calls,
                        case.given,
                    )
                )
        verdicts = judge(entries, self.directory / service)
        for key, verdict in verdicts.items():
            case_id, kind = key.rsplit("|", 1)
            self._verdicts[(case_id, kind)] = verdict
