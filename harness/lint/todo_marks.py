"""CH110: values in policy documents marked `# TODO`. import-n8n marks what it could not know
(each connector's credential lifetime) so; the mark is a comment, which never reaches the
model, so this rule reads the files."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from harness.errors import Location
from harness.lint.files import is_yaml
from harness.lint.rules import LintFinding, finding

_TODO_MARK = re.compile(r"#\s*TODO\b(?P<note>.*)$")


def todo_marks(
    texts: dict[str, str], policy_files: list[tuple[str, Path]]
) -> Iterator[LintFinding]:
    """A `# TODO` comment after a value in a policy document: the value awaits confirmation."""
    for display, _ in policy_files:
        if not is_yaml(display):
            continue
        for number, line in enumerate(texts.get(display, "").splitlines(), start=1):
            found = _TODO_MARK.search(line)
            value = line[: found.start()].strip() if found else ""
            if found is None or not value or value.startswith("#"):
                continue
            note = found["note"].strip(" :-")
            yield finding(
                "CH110",
                Location(display, number, found.start() + 1),
                f"`{value[:60]}` is marked `# TODO`" + (f": {note[:100]}" if note else ""),
                "confirm the value (correct it if needed), then delete the `# TODO` mark",
            )
