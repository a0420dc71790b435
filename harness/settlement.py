"""Fixes judged against each other: a role several bindings share changes only when they
all call for the same line; otherwise each binding that needs a change gets a role of
its own, so that applying one binding's fixes never breaks another."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from harness.analysis import BindingResult, with_fixes
from harness.fixes import OwnRole, own_role, role_users
from harness.model import Workspace
from harness.render.suggestions import first_and_more


def settle_shared_roles(
    workspace: Workspace, results: Sequence[BindingResult], *, final: bool = True
) -> tuple[BindingResult, ...]:
    """The results with their fixes settled: a binding sharing a role whose line the
    others (in this run) do not call for as well gets a role of its own instead.

    A result settled with `final=False` (alone, before the other bindings are known) says
    the safe thing, and is settled again once they are (every Report does).
    """
    if all(result.settled or not result.fixes for result in results):
        return tuple(results)
    users = role_users(workspace)
    known = {result.binding: result for result in results}
    wanted = {
        (result.binding, fix.role, fix.service): fix.grants
        for result in results
        for fix in result.fixes
    }
    settled = []
    for result in results:
        if result.settled or not result.fixes:
            settled.append(result)
            continue
        binding = next(b for b in workspace.bindings if b.name == result.binding)
        notes: dict[str, str] = {}
        contested: dict[str, str] = {}  # role -> why it stays as it is
        for fix in result.fixes:
            others = [name for name in users.get(fix.role, ()) if name != result.binding]
            if not others:
                continue
            unknown = [name for name in others if name not in known]
            differing = [
                name
                for name in others
                if name in known and wanted.get((name, fix.role, fix.service)) != fix.grants
            ]
            keeping = [n for n in differing if (n, fix.role, fix.service) not in wanted]
            changing = [n for n in differing if n not in keeping]
            if not unknown and not differing:
                notes[fix.role] = (
                    f"role `{fix.role}` is shared with {_listed(others)}, whose "
                    f"{'check calls' if len(others) == 1 else 'checks call'} for the same line"
                )
            elif fix.role not in contested:
                reasons = []
                if keeping:
                    reasons.append(f"{_listed(keeping)} {_needs(keeping)} it as it is")
                if changing:
                    reasons.append(
                        f"{_listed(changing)} {_calls(changing)} for another `{fix.service}` line"
                    )
                if unknown:
                    reasons.append(f"{_listed(unknown)} {_was(unknown)} not checked in this run")
                contested[fix.role] = (
                    f"role `{fix.role}` is shared: {'; '.join(reasons)}; "
                    f"give {result.binding} a role of its own"
                )
        own_roles: list[OwnRole] = []
        for top in binding.roles:
            reasons = [
                why for role, why in contested.items() if role in _closure_of(workspace, top)
            ]
            if reasons:
                own_roles.append(own_role(workspace, binding, top, result.fixes, reasons[0]))
        findings = with_fixes(workspace, binding, result.findings, result.fixes, own_roles, notes)
        settled.append(
            replace(result, findings=tuple(findings), own_roles=tuple(own_roles), settled=final)
        )
    return tuple(settled)


def _closure_of(workspace: Workspace, top: str) -> set[str]:
    found = {top}
    for parent in workspace.role(top).extends:
        found |= _closure_of(workspace, parent)
    return found


MAX_NAMED_BINDINGS = 3  # bindings a note names before "and N more"


def _listed(names: Sequence[str]) -> str:
    return first_and_more(names, MAX_NAMED_BINDINGS)


def _needs(names: Sequence[str]) -> str:
    return "needs" if len(names) == 1 else "need"


def _calls(names: Sequence[str]) -> str:
    return "calls" if len(names) == 1 else "call"


def _was(names: Sequence[str]) -> str:
    return "was" if len(names) == 1 else "were"


__all__ = ["settle_shared_roles"]
