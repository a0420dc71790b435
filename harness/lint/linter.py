"""lint_workspace: the classic privilege mistakes of a loaded workspace, found before any replay.

Each rule has a stable id (`CH101`), a name and a severity. Most rules read the
model; the secrets rule (CH107), the `# TODO` marks (CH110) and the disable comments
read the workspace files themselves, because comments and sidecar bodies never reach
the model.
A finding never carries a secret: the secrets rule prints `harness.secrets.mask`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from harness.lint import checks
from harness.lint.disables import disable_comments
from harness.lint.files import read_text, sidecar_owners, workspace_files
from harness.lint.rules import LintFinding
from harness.lint.secret_scan import secrets
from harness.lint.todo_marks import todo_marks
from harness.model import Workspace


def lint_workspace(workspace: Workspace, root: Path, today: date) -> tuple[LintFinding, ...]:
    """Every lint finding of `workspace` (files read under `root`), sorted by file and line."""
    files = workspace_files(root, (*workspace.settings.mocks, *workspace.settings.scenarios))
    max_bytes = workspace.settings.max_file_bytes
    texts = {display: read_text(path, max_bytes) for display, path in files}
    disables, comment_findings = disable_comments(texts)
    sidecar_owner = sidecar_owners(files, texts)
    findings = [
        *checks.wildcard_grants(workspace),
        *checks.credentials(workspace),
        *checks.prod_expiry(workspace, today),
        *checks.owners(workspace),
        *checks.reviews(workspace, today),
        *checks.duties(workspace),
        *secrets(texts),
        *checks.untested(workspace),
        *checks.legacy(workspace),
        *todo_marks(texts, workspace_files(root, workspace.settings.scenarios)),
    ]

    def disabled(finding: LintFinding) -> bool:
        file = finding.location.file
        rules = [d.rules for d in disables.get(file, ())]
        rules += [d.rules for d in disables.get(sidecar_owner.get(file, ""), ())]
        return any(finding.rule in group for group in rules)

    kept = [f for f in findings if not disabled(f)] + comment_findings
    return tuple(sorted(kept, key=LintFinding.sort_key))
