"""`make demo`: check the example workspace and explain that its findings are the point."""

from __future__ import annotations

import sys
from pathlib import Path

from harness.cli import EXIT_INPUT, main

INTRO = """\
connector-harness demo
======================
The example workspace in scenarios/ holds connectors of common automations
(CRM, chat, spreadsheets, storage, and vendor packs for Slack, GitHub and Google),
bound in dev and prod. Several prod bindings carry a deliberate flaw (a wildcard
grant, a missing scope, a write scope where read suffices, an unused scope, a call
to a host outside the allowlist). The FAIL lines below are the point of the demo: each finding names
the YAML line of the grant or step and what to write instead.
"""

OUTRO = """\
That was `connector-harness check {workspace}`; in CI its exit code (1 here) fails the build.
Also try:
  .venv/bin/connector-harness check {workspace} --env prod --format markdown
  .venv/bin/connector-harness inventory {workspace}
  .venv/bin/connector-harness check {workspace} --binding deal-alerts@prod   # the clean one
"""


def run(workspace: str) -> int:
    print(INTRO)
    sys.stdout.flush()
    code = main(["check", workspace])
    if code == EXIT_INPUT:
        return code
    print()
    print(OUTRO.format(workspace=workspace))
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1] if len(sys.argv) > 1 else str(Path.cwd())))
