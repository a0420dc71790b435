"""The lint checks that read the model: wildcard grants to system accounts (CH101), long-lived
credentials (CH102), prod bindings without expiry (CH103) or without a flow (CH108),
owners (CH104), overdue reviews (CH105), separation of duties (CH106) and legacy scopes
(CH109)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

from harness.errors import Location
from harness.lint.rules import LintFinding, finding
from harness.model import Binding, GrantSource, Workspace
from harness.permission_models import service_for
from harness.scopes import ScopeUniverse, is_pattern
from harness.workspace.units import format_duration

SYSTEM_ACCOUNT_KINDS = ("service-account", "bot", "api-key", "oauth-app")
LONG_LIVED_SECRETS = ("api-key", "service-account-key")
_PLACEHOLDER_OWNERS = frozenset(
    {"", "-", "?", "todo", "tbd", "tba", "fixme", "xxx", "none", "null", "unknown", "n/a", "na"}
)
_PLACEHOLDER_PREFIX = re.compile(r"(?i)^(todo|tbd|fixme)\b")


# -- CH101 wildcard or admin grants to system accounts --------------------------------------


def wildcard_grants(workspace: Workspace) -> Iterator[LintFinding]:
    holders: dict[GrantSource, set[str]] = {}
    universes: dict[GrantSource, ScopeUniverse] = {}
    for binding in workspace.bindings:
        connector = workspace.connector(binding.connector)
        if connector.kind not in SYSTEM_ACCOUNT_KINDS:
            continue
        for source in workspace.binding_grants(binding):
            holders.setdefault(source, set()).add(f"{binding.name} ({connector.kind})")
            view = service_for(workspace, binding.connector, source.service)
            universes.setdefault(source, view.universe)  # the model the grant is held in
    for source, bindings in holders.items():
        universe = universes[source]
        scope = source.grant.scope
        everything = set(universe.names)
        if is_pattern(scope):
            what = f"is a wildcard matching {len(universe.expand(scope))} {source.service} scopes"
        elif len(everything) > 1 and everything <= universe.closure(scope):
            what = f"implies every scope of {source.service} ({len(everything)} scopes)"
        else:
            continue
        yield finding(
            "CH101",
            source.location,
            f"`{source.grant}` in role `{source.role}` {what}, and system accounts hold it: "
            f"{', '.join(sorted(bindings))}",
            f"replace `{source.grant}` with the {source.service} scopes the flows call; "
            "`connector-harness check` prints the least-privilege role of each binding",
        )


# -- CH102 credential lifetime and rotation -------------------------------------------------


def credentials(workspace: Workspace) -> Iterator[LintFinding]:
    policy = workspace.policy
    longest = format_duration(policy.max_credential_lifetime_seconds)
    rotation_limit = format_duration(policy.max_rotation_seconds)
    for connector in workspace.connectors:
        credential = connector.credential
        what = f"connector `{connector.name}` ({credential.type})"
        if credential.lifetime_seconds > policy.max_credential_lifetime_seconds:
            yield finding(
                "CH102",
                credential.lifetime_location or connector.location,
                f"{what}: credential lifetime {format_duration(credential.lifetime_seconds)} "
                f"is above the policy maximum of {longest}",
                f"set `credential.lifetime` to {longest} or less (a short-lived token type such "
                "as oauth2-client-credentials), or raise `policy.max_credential_lifetime`",
            )
        rotation = credential.rotation_seconds
        if rotation is not None and rotation > policy.max_rotation_seconds:
            yield finding(
                "CH102",
                credential.rotation_location or connector.location,
                f"{what}: the secret is rotated every {format_duration(rotation)}, above "
                f"the policy maximum of {rotation_limit}",
                f"set `credential.rotation` to {rotation_limit} or less",
            )
        elif rotation is None and credential.type in LONG_LIVED_SECRETS:
            yield finding(
                "CH102",
                credential.rotation_location or connector.location,
                f"{what}: a long-lived secret with no `rotation`",
                f"add `rotation: {rotation_limit}` (at most `policy.max_rotation`) "
                "under `credential:`",
            )


# -- CH103 prod bindings without expiry, CH108 prod bindings no flow exercises ---------------


def _is_prod(workspace: Workspace, binding: Binding) -> bool:
    return binding.env in workspace.policy.prod_environments


def prod_expiry(workspace: Workspace, today: date) -> Iterator[LintFinding]:
    suggested = _add_year(today)
    for binding in workspace.bindings:
        if _is_prod(workspace, binding) and binding.expires_at is None:
            yield finding(
                "CH103",
                binding.location,
                f"prod binding {binding.name} has no `expires:`, so its access never lapses",
                f"add `expires: {suggested}` (or sooner), the date by which it must be re-approved",
            )


def _add_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February, or 9999 (`--today` is the user's)
        try:
            return day + timedelta(days=365)
        except OverflowError:
            return date.max


def untested(workspace: Workspace) -> Iterator[LintFinding]:
    for binding in workspace.bindings:
        if _is_prod(workspace, binding) and not workspace.flows_of(binding.connector):
            yield finding(
                "CH108",
                binding.location,
                f"prod binding {binding.name} is exercised by no flow: connector "
                f"`{binding.connector}` has none, so nothing shows its roles are least privilege",
                f"record a flow with `connector: {binding.connector}`, or remove the binding",
            )


# -- CH109 legacy scopes -------------------------------------------------------------------


def legacy(workspace: Workspace) -> Iterator[LintFinding]:
    holders: dict[tuple[GrantSource, str], list[str]] = {}
    for binding in workspace.bindings:
        for source in workspace.binding_grants(binding):
            view = service_for(workspace, binding.connector, source.service)
            current = dict(view.legacy).get(source.grant.scope)
            if current:
                holders.setdefault((source, current), []).append(binding.name)
    for (source, current), bindings in holders.items():
        narrowed = "@" + str(source.grant).split("@", 1)[1] if source.grant.narrowing else ""
        yield finding(
            "CH109",
            source.location,
            f"`{source.grant}` in role `{source.role}` is a legacy {source.service} scope, "
            f"replaced by `{current}`; held by {', '.join(sorted(bindings))}",
            f"grant `{current}{narrowed}` instead of `{source.grant}`",
        )


# -- CH104 owners ---------------------------------------------------------------------------


def is_placeholder_owner(owner: str) -> bool:
    """An owner that names nobody: empty, `TODO`, `tbd`, `unknown`, ..."""
    text = owner.strip()
    return text.lower().rstrip(".!:") in _PLACEHOLDER_OWNERS or bool(
        _PLACEHOLDER_PREFIX.match(text)
    )


def owners(workspace: Workspace) -> Iterator[LintFinding]:
    fix = (
        "set `owner:` to the team or person accountable for it, e.g. `owner: platform@example.com`"
    )
    entries: list[tuple[str, str, Location]] = [
        *((f"connector `{c.name}`", c.owner, c.location) for c in workspace.connectors),
        *((f"role `{r.name}`", r.owner, r.location) for r in workspace.roles),
        *((f"the waiver for {w.binding}", w.owner, w.location) for w in workspace.waivers),
    ]
    for what, owner, location in entries:
        if not owner.strip():
            yield finding("CH104", location, f"{what} has no owner", fix)
        elif is_placeholder_owner(owner):
            yield finding(
                "CH104", location, f"{what} has the placeholder owner `{owner.strip()}`", fix
            )


# -- CH105 reviews --------------------------------------------------------------------------


def reviews(workspace: Workspace, today: date) -> Iterator[LintFinding]:
    for role in workspace.roles:
        if role.review_every_days is None:
            continue
        every = f"{role.review_every_days}d"
        if role.last_reviewed is None:
            yield finding(
                "CH105",
                role.location,
                f"role `{role.name}` is to be reviewed every {every} but has no `last_reviewed`",
                f"review its grants, then add `last_reviewed: {today}`",
            )
            continue
        try:
            due = role.last_reviewed + timedelta(days=role.review_every_days)
        except OverflowError:  # after 9999-12-31 (`review_every: 999999999w`): never due
            continue
        if due < today:
            late = (today - due).days
            yield finding(
                "CH105",
                role.location,
                f"role `{role.name}` was due for review on {due} (last reviewed "
                f"{role.last_reviewed}, every {every}): {late} day{'s' if late != 1 else ''} "
                "overdue",
                f"review its grants, then set `last_reviewed: {today}`",
            )


# -- CH106 separation of duties -------------------------------------------------------------


def duties(workspace: Workspace) -> Iterator[LintFinding]:
    policy = workspace.policy
    if policy.location is not None:
        approvers = {name.strip().lower() for name in policy.approvers}
        both = sorted({name for name in policy.deployers if name.strip().lower() in approvers})
        for name in both:
            yield finding(
                "CH106",
                policy.location,
                f"`{name}` is listed in both `duties.deploy` and `duties.approve`: they "
                "could approve their own change",
                f"remove `{name}` from one of the two lists",
            )
    for binding in workspace.bindings:
        sources = workspace.binding_grants(binding)
        for conflict in policy.conflicting_scopes:
            held = [
                (f"{service}:{scope}", _holders(workspace, binding, sources, service, scope))
                for service, scope in conflict.scopes
            ]
            held = [(scope, via) for scope, via in held if via]
            if len(held) < 2:
                continue
            detail = "; ".join(f"{scope} through {', '.join(via)}" for scope, via in held)
            yield finding(
                "CH106",
                binding.location,
                f"binding {binding.name} holds scopes that conflict under `{conflict.name}` "
                f"({conflict.location}): {detail}",
                "give these duties to separate connectors, or drop the grants from this "
                "binding's roles",
            )


def _holders(
    workspace: Workspace,
    binding: Binding,
    sources: tuple[GrantSource, ...],
    service: str,
    scope: str,
) -> list[str]:
    """The grants (`grant` of role `r`) among `sources` that satisfy `scope` of `service`, in
    the permission model the binding's connector holds."""
    universe = service_for(workspace, binding.connector, service).universe
    wanted = universe.expand(scope) or frozenset([scope])
    return sorted(
        {
            f"`{source.grant}` of role `{source.role}`"
            for source in sources
            if source.service == service and universe.closure(source.grant.scope) & wanted
        }
    )
