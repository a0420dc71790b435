"""What to write instead: one final `grants:` line per role and service a binding's findings
touch, so that applying every fix of a binding makes it pass on the next run.

The analysis decides the grants a binding should end with on each service (its target);
`role_fixes` turns the difference into edits of the roles that declare the grants. A role
that other bindings use as well is only edited when every binding sharing it calls for
the same line (`settle_shared_roles`); otherwise the binding gets a role of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.model import Binding, GrantSource, Role, Workspace
from harness.render.suggestions import grants_yaml, yaml_scalar
from harness.scopes import Grant


@dataclass(frozen=True, slots=True)
class RoleFix:
    """A role's own grants on one service as they should read after the fix."""

    role: str
    service: str
    grants: tuple[str, ...]  # empty: remove the service's entry

    def to_data(self) -> dict[str, Any]:
        return {"role": self.role, "service": self.service, "grants": list(self.grants)}


@dataclass(frozen=True, slots=True)
class OwnRole:
    """A role of the binding's own, replacing a shared role it may not change."""

    replaces: str  # the binding's role it takes the place of
    name: str
    grants: tuple[tuple[str, tuple[str, ...]], ...]  # service -> grants
    because: str  # why the shared role stays as it is


def role_fixes(
    workspace: Workspace,
    service: str,
    sources: Sequence[GrantSource],
    target: Iterable[Grant],
    home: str,
) -> tuple[RoleFix, ...]:
    """The edits that turn the binding's grants on `service` (`sources`) into `target`.

    A grant to drop is dropped from every role that declares it; a grant to add goes to
    the role of the first grant dropped (the one it replaces), else to `home`.
    """
    granted = {source.grant for source in sources}
    wanted = tuple(dict.fromkeys(target))
    removed = granted - set(wanted)
    added = [grant for grant in wanted if grant not in granted]
    if not removed and not added:
        return ()
    roles = dict.fromkeys(source.role for source in sources if source.grant in removed)
    destination = next((source.role for source in sources if source.grant in removed), home)
    if added and destination:
        roles.setdefault(destination)
    fixes = []
    for name in roles:
        own = [s.grant for s in workspace.role(name).grants if s.service == service]
        result = list(dict.fromkeys(grant for grant in own if grant not in removed))
        if name == destination:
            result.extend(grant for grant in added if grant not in result)
        fixes.append(RoleFix(name, service, tuple(str(grant) for grant in result)))
    return tuple(fixes)


def fix_text(
    workspace: Workspace,
    binding: Binding,
    fixes: Sequence[RoleFix],
    own_roles: Sequence[OwnRole] = (),
    notes: Mapping[str, str] | None = None,
) -> str:
    """The YAML to write instead: each edited role's line, then any role of the binding's own
    with the binding's new `roles:` line. Blocks are separated by a blank line."""
    notes = notes or {}
    replaced = {own.replaces for own in own_roles}
    copied = {r for role in replaced for r in _closure(workspace, role)}
    still_held = {
        r for role in binding.roles if role not in replaced for r in _closure(workspace, role)
    }
    blocks = []
    for fix in fixes:
        if fix.role in copied and fix.role not in still_held:
            continue  # the binding's own role carries this line
        role = workspace.role(fix.role)
        text = grants_yaml(role, fix.service, [Grant.parse(g) for g in fix.grants])
        note = notes.get(fix.role)
        blocks.append(f"# {note}\n{text}" if note else text)
    if own_roles:
        blocks.append(_own_roles_text(binding, own_roles))
    return "\n\n".join(blocks)


def _own_roles_text(binding: Binding, own_roles: Sequence[OwnRole]) -> str:
    lines = [f"# {own.because}" for own in own_roles]
    lines.append("roles:")
    for own in own_roles:
        lines += [
            f"  - name: {own.name}",
            f"    description: {own.replaces} as {binding.name} needs it",
            "    grants:" if own.grants else "    grants: {}",
        ]
        lines += [
            f"      {service}: [{', '.join(yaml_scalar(g) for g in grants)}]"
            for service, grants in own.grants
        ]
    names = {own.replaces: own.name for own in own_roles}
    roles = ", ".join(names.get(role, role) for role in binding.roles)
    lines += [f"# binding {binding.name} at {binding.location}", f"roles: [{roles}]"]
    return "\n".join(lines)


def _closure(workspace: Workspace, name: str) -> list[str]:
    """A role and every role it extends, in the order their grants are collected."""
    found = [name]
    for parent in workspace.role(name).extends:
        found.extend(r for r in _closure(workspace, parent) if r not in found)
    return found


def role_users(workspace: Workspace) -> dict[str, tuple[str, ...]]:
    """Each role -> the bindings (whole workspace) that hold it, directly or by extension."""
    users: dict[str, list[str]] = {}
    for binding in workspace.bindings:
        for top in binding.roles:
            for role in _closure(workspace, top):
                named = users.setdefault(role, [])
                if binding.name not in named:
                    named.append(binding.name)
    return {role: tuple(names) for role, names in users.items()}


def own_role(
    workspace: Workspace, binding: Binding, top: str, fixes: Sequence[RoleFix], because: str
) -> OwnRole:
    """The binding's own copy of `top` (with what it extends), its fixes applied."""
    edited = {(fix.role, fix.service): fix.grants for fix in fixes}
    grants: dict[str, list[str]] = {}
    for name in _closure(workspace, top):
        role: Role = workspace.role(name)
        services = dict.fromkeys(source.service for source in role.grants)
        services.update(dict.fromkeys(s for r, s in edited if r == name))
        for service in services:
            listed = edited.get(
                (name, service),
                tuple(str(s.grant) for s in role.grants if s.service == service),
            )
            found = grants.setdefault(service, [])
            found.extend(g for g in listed if g not in found)
    taken = {role.name for role in workspace.roles}
    base = f"{top}-{binding.connector}-{binding.env}"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    return OwnRole(
        top,
        name,
        tuple((service, tuple(listed)) for service, listed in sorted(grants.items()) if listed),
        because,
    )


__all__ = ["OwnRole", "RoleFix", "fix_text", "own_role", "role_fixes", "role_users"]
