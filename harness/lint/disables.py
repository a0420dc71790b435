"""Disable comments: `# connector-harness: disable=CH107 reason="..."` on a line of its own
turns rules off for one file (and its sidecar bodies); a comment that cannot be honoured
is itself a finding (CH100)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import Location
from harness.lint.files import is_yaml
from harness.lint.rules import RULES, RULES_BY_ID, UNDISABLEABLE, LintFinding, finding


@dataclass(frozen=True, slots=True)
class Disable:
    """A valid disable comment: these rules do not apply to this file (and its sidecars)."""

    rules: frozenset[str]
    reason: str
    location: Location


_MARKER = re.compile(r"#\s*connector-harness\s*:\s*disable\b")
_DISABLE = re.compile(
    r"^\s*#\s*connector-harness\s*:\s*disable\s*=\s*"
    r"(?P<rules>[A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*)"
    r"(?:\s+reason\s*=\s*(?:\"(?P<double>[^\"]*)\"|'(?P<single>[^']*)'))?\s*$"
)
EXAMPLE_DISABLE = '# connector-harness: disable=CH107 reason="fixtures hold fake keys"'


def disable_comments(
    texts: dict[str, str],
) -> tuple[dict[str, list[Disable]], list[LintFinding]]:
    """The valid disable comments of each YAML file, and CH100 findings for the others."""
    disables: dict[str, list[Disable]] = {}
    problems: list[LintFinding] = []
    for display, text in texts.items():
        if not is_yaml(display):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            marker = _MARKER.search(line)
            if marker is None:
                continue
            where = Location(display, number, marker.start() + 1)
            disable, problem = _parse_disable(line, where)
            if problem is not None:
                problems.append(problem)
            if disable is not None:
                disables.setdefault(display, []).append(disable)
    return disables, problems


def _parse_disable(line: str, where: Location) -> tuple[Disable | None, LintFinding | None]:
    """A disable comment line -> the Disable it makes, or the CH100 finding it deserves."""
    if line[: where.column - 1].strip():
        return None, finding(
            "CH100",
            where,
            "a disable comment after YAML content is ignored; it must be a line of its own",
            f"move it to its own line, e.g. `{EXAMPLE_DISABLE}`",
        )
    match = _DISABLE.match(line)
    if match is None:
        return None, finding(
            "CH100",
            where,
            "this disable comment cannot be read, so it disables nothing",
            f"write it as `{EXAMPLE_DISABLE}` (comma-separated ids allowed)",
        )
    ids = [item.strip().upper() for item in match["rules"].split(",")]
    unknown = [item for item in ids if item not in RULES_BY_ID or item in UNDISABLEABLE]
    if unknown:
        known = ", ".join(rule.id for rule in RULES if rule.id not in UNDISABLEABLE)
        return None, finding(
            "CH100",
            where,
            f"the disable comment names {', '.join(unknown)}, which "
            f"{'is not a rule' if len(unknown) == 1 else 'are not rules'} that can be disabled",
            f"use ids of `connector-harness lint` rules: {known}",
        )
    reason = (match["double"] if match["double"] is not None else match["single"] or "").strip()
    if not reason:
        return None, finding(
            "CH100",
            where,
            f"the comment disables {', '.join(ids)} without a reason, so it disables nothing",
            f"add why the rule does not apply here: `# connector-harness: disable={','.join(ids)} "
            'reason="..."`',
        )
    return Disable(frozenset(ids), reason, where), None
