"""`make demo`: check the example workspace and explain that its findings are the point;
then import one exported n8n workflow and show its verdict."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from harness.cli import EXIT_INPUT, main
from harness.n8n.packages import NodeMissing, node_executable

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

N8N_EXAMPLE = "docs/examples/n8n/sheets-append.n8n.json"
N8N_INTRO = """
Importing an n8n workflow
=========================
{example} is an n8n export: a form trigger and a Google Sheets node that
appends each sign-up. import-n8n runs n8n's own node code (fetched with npm, never
copied) with its HTTP calls recorded, not sent, and writes the connector, role, binding
and flow. The credential holds what n8n asks for by default: the FAIL below shows
that appending rows needs `spreadsheets` alone.
"""

N8N_OUTRO = """\
Next: `make demo` imported one export; import yours with
  .venv/bin/connector-harness import-n8n path/to/*.json -o my-workspace
and fill in each connector's owner and lifetime (`connector-harness lint my-workspace` lists
them), or put the exports in a workspace as *.n8n.json and let pytest collect them (docs/n8n.md).
"""


def run(workspace: str) -> int:
    print(INTRO)
    sys.stdout.flush()
    code = main(["check", workspace])
    if code == EXIT_INPUT:
        return code
    print()
    print(OUTRO.format(workspace=workspace))
    return n8n_demo(Path(workspace))


def n8n_demo(root: Path) -> int:
    """Import one example export into a scratch workspace and check it."""
    example = (root / N8N_EXAMPLE).resolve()
    if not example.is_file():
        return 0
    print(N8N_INTRO.format(example=N8N_EXAMPLE))
    try:
        node_executable()
    except NodeMissing as missing:
        print(f"(skipped: {missing})")
        return 0
    sys.stdout.flush()
    here = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="n8n-demo-") as scratch:
        os.chdir(scratch)  # locations read workspace/scenarios/..., not a temporary path
        try:
            code = main(["import-n8n", str(example.resolve()), "-o", "workspace"])
            if code != 0:
                return code
            print()
            sys.stdout.flush()
            code = main(["check", "workspace"])
        finally:
            os.chdir(here)
    print()
    print(N8N_OUTRO)
    return 0 if code in (0, 1) else code


if __name__ == "__main__":
    sys.exit(run(sys.argv[1] if len(sys.argv) > 1 else str(Path.cwd())))
