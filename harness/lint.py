"""Static checks of a loaded workspace: the classic privilege mistakes, found before any replay.

Each rule has a stable id (`CH101`), a name and a severity. Most rules read the
model; the secrets rule (CH107) and the disable comments read the workspace
files themselves, because comments and sidecar bodies never reach the model.
A finding never carries a secret: the secrets rule prints `harness.secrets.mask`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from harness.errors import InputError, Location
from harness.model import Binding, GrantSource, Workspace
from harness.permission_models import service_for
from harness.scopes import ScopeUniverse, is_pattern
from harness.secrets import KNOWN_FORMATS, find_secrets, mask
from harness.units import format_duration
from harness.yamlsource import parse_yaml

ERROR, WARNING = "error", "warning"
SYSTEM_ACCOUNT_KINDS = ("service-account", "bot", "api-key", "oauth-app")
LONG_LIVED_SECRETS = ("api-key", "service-account-key")
_PLACEHOLDER_OWNERS = frozenset(
    {"", "-", "?", "todo", "tbd", "tba", "fixme", "xxx", "none", "null", "unknown", "n/a", "na"}
)
_PLACEHOLDER_PREFIX = re.compile(r"(?i)^(todo|tbd|fixme)\b")


@dataclass(frozen=True, slots=True)
class Rule:
    """One lint rule: its stable id, its name, how severe it is, what it catches and the fix."""

    id: str
    name: str
    severity: str
    what: str
    fix: str


RULES: tuple[Rule, ...] = (
    Rule(
        "CH100",
        "bad-disable-comment",
        ERROR,
        "a `# connector-harness: disable=...` comment without a reason, with an unknown "
        "rule id, or not on a line of its own",
        'write `# connector-harness: disable=CH107 reason="why it is safe here"` on its own line',
    ),
    Rule(
        "CH101",
        "system-account-wildcard-grant",
        ERROR,
        "a wildcard grant (`storage.*`) or one implying every scope of its service "
        "(`crm.admin`) held by a service account, bot, API key or OAuth app",
        "grant the specific scopes the flows need; `connector-harness check` prints them",
    ),
    Rule(
        "CH102",
        "long-lived-credential",
        ERROR,
        "a credential lifetime above `policy.max_credential_lifetime` (24h), a rotation above "
        "`policy.max_rotation` (90d), or no rotation for an api-key or service-account-key",
        "use short-lived tokens and set `credential.rotation` within the policy",
    ),
    Rule(
        "CH103",
        "prod-binding-without-expiry",
        WARNING,
        "a binding in a `policy.prod_environments` environment (prod) without `expires:`",
        "add `expires: YYYY-MM-DD`, the date by which the access must be re-approved",
    ),
    Rule(
        "CH104",
        "missing-owner",
        ERROR,
        "a role or waiver without an owner, or a connector, role or waiver whose owner "
        "is a placeholder (`TODO`, `tbd`, empty)",
        "set `owner:` to the accountable team or person",
    ),
    Rule(
        "CH105",
        "review-overdue",
        WARNING,
        "a role whose `last_reviewed` + `review_every` is before today, or that has "
        "`review_every` but no `last_reviewed`",
        "review the role's grants, then set `last_reviewed:` to the review date",
    ),
    Rule(
        "CH106",
        "separation-of-duties",
        ERROR,
        "one identity in both `policy.duties.deploy` and `policy.duties.approve`, or a binding "
        "holding two scopes of a `policy.conflicting_scopes` entry (implication counts)",
        "split the duties between different identities or bindings",
    ),
    Rule(
        "CH107",
        "secret-in-workspace",
        ERROR,
        "a known token format or a high-entropy string in a workspace file or sidecar body",
        "delete it, rotate the credential, and record with secrets scrubbed to `<secret-N>`",
    ),
    Rule(
        "CH108",
        "untested-prod-binding",
        WARNING,
        "a prod binding whose connector has no flow, so nothing proves its least privilege",
        "record a flow for the connector, or remove the binding",
    ),
    Rule(
        "CH109",
        "legacy-scope",
        WARNING,
        "a binding holds a scope its service marks as legacy (Slack's pre-granular "
        "`chat:write:bot`), which the vendor has replaced",
        "grant the current scope the warning names instead",
    ),
    Rule(
        "CH110",
        "unconfirmed-value",
        WARNING,
        "a value in a policy document marked `# TODO` (import-n8n marks each connector's "
        "lifetime so until someone confirms it)",
        "check the value, correct it if needed, and delete the `# TODO` mark",
    ),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}
UNDISABLEABLE = frozenset({"CH100"})


@dataclass(frozen=True, slots=True)
class LintFinding:
    """One rule broken at one place, with what to do about it."""

    rule: str
    name: str
    severity: str
    location: Location
    message: str
    fix: str

    def sort_key(self) -> tuple[str, int, int, str, str]:
        where = self.location
        return (where.file, where.line, where.column, self.rule, self.message)

    def to_data(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity,
            "location": str(self.location),
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class Disable:
    """A valid disable comment: these rules do not apply to this file (and its sidecars)."""

    rules: frozenset[str]
    reason: str
    location: Location


def _finding(rule_id: str, location: Location, message: str, fix: str) -> LintFinding:
    rule = RULES_BY_ID[rule_id]
    return LintFinding(rule.id, rule.name, rule.severity, location, message, fix)


def lint_workspace(workspace: Workspace, root: Path, today: date) -> tuple[LintFinding, ...]:
    """Every lint finding of `workspace` (files read under `root`), sorted by file and line."""
    files = workspace_files(root, (*workspace.settings.mocks, *workspace.settings.scenarios))
    texts = {display: _read_text(path) for display, path in files}
    disables, comment_findings = _disable_comments(texts)
    sidecar_owner = _sidecar_owners(files, texts)
    findings = [
        *_wildcard_grants(workspace),
        *_credentials(workspace),
        *_prod_expiry(workspace, today),
        *_owners(workspace),
        *_reviews(workspace, today),
        *_duties(workspace),
        *_secrets(texts),
        *_untested(workspace),
        *_legacy(workspace),
        *_todo_marks(texts, workspace_files(root, workspace.settings.scenarios)),
    ]

    def disabled(finding: LintFinding) -> bool:
        file = finding.location.file
        rules = [d.rules for d in disables.get(file, ())]
        rules += [d.rules for d in disables.get(sidecar_owner.get(file, ""), ())]
        return any(finding.rule in group for group in rules)

    kept = [f for f in findings if not disabled(f)] + comment_findings
    return tuple(sorted(kept, key=LintFinding.sort_key))


# -- files ----------------------------------------------------------------------------------


def _display(path: Path) -> str:
    """A path as the loader writes it in locations (relative to the working directory)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def workspace_files(root: Path, directories: Iterable[str]) -> list[tuple[str, Path]]:
    """(display path, path) of every file under the workspace directories, hidden ones aside."""
    found: dict[str, Path] = {}
    for directory in directories:
        base = root / directory
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            hidden = any(
                part.startswith(".") or part == "__pycache__"
                for part in path.relative_to(base).parts
            )
            if path.is_file() and not hidden:
                found[_display(path)] = path
    return sorted(found.items())


def _read_text(path: Path) -> str:
    """A file as text; bytes that are not UTF-8 map one to one, so positions stay countable."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _is_yaml(display: str) -> bool:
    return display.endswith((".yaml", ".yml"))


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _sidecar_owners(files: list[tuple[str, Path]], texts: dict[str, str]) -> dict[str, str]:
    """Sidecar body file -> the YAML file that names it in `body_file:` (its disables apply)."""
    by_resolved = {path.resolve(): display for display, path in files}
    owners: dict[str, str] = {}
    for display, path in files:
        if not _is_yaml(display) or "body_file" not in texts[display]:
            continue
        try:
            data = parse_yaml(texts[display], path).data
        except InputError:
            continue
        for name in _body_files(data):
            sidecar = by_resolved.get((path.parent / name).resolve())
            if sidecar is not None:
                owners.setdefault(sidecar, display)
    return owners


def _body_files(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "body_file" and isinstance(value, str):
                yield value
            else:
                yield from _body_files(value)
    elif isinstance(data, list):
        for item in data:
            yield from _body_files(item)


# -- disable comments -----------------------------------------------------------------------

_MARKER = re.compile(r"#\s*connector-harness\s*:\s*disable\b")
_DISABLE = re.compile(
    r"^\s*#\s*connector-harness\s*:\s*disable\s*=\s*"
    r"(?P<rules>[A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*)"
    r"(?:\s+reason\s*=\s*(?:\"(?P<double>[^\"]*)\"|'(?P<single>[^']*)'))?\s*$"
)
_EXAMPLE_DISABLE = '# connector-harness: disable=CH107 reason="fixtures hold fake keys"'


def _disable_comments(
    texts: dict[str, str],
) -> tuple[dict[str, list[Disable]], list[LintFinding]]:
    """The valid disable comments of each YAML file, and CH100 findings for the others."""
    disables: dict[str, list[Disable]] = {}
    problems: list[LintFinding] = []
    for display, text in texts.items():
        if not _is_yaml(display):
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
        return None, _finding(
            "CH100",
            where,
            "a disable comment after YAML content is ignored; it must be a line of its own",
            f"move it to its own line, e.g. `{_EXAMPLE_DISABLE}`",
        )
    match = _DISABLE.match(line)
    if match is None:
        return None, _finding(
            "CH100",
            where,
            "this disable comment cannot be read, so it disables nothing",
            f"write it as `{_EXAMPLE_DISABLE}` (comma-separated ids allowed)",
        )
    ids = [item.strip().upper() for item in match["rules"].split(",")]
    unknown = [item for item in ids if item not in RULES_BY_ID or item in UNDISABLEABLE]
    if unknown:
        known = ", ".join(rule.id for rule in RULES if rule.id not in UNDISABLEABLE)
        return None, _finding(
            "CH100",
            where,
            f"the disable comment names {', '.join(unknown)}, which "
            f"{'is not a rule' if len(unknown) == 1 else 'are not rules'} that can be disabled",
            f"use ids of `connector-harness lint` rules: {known}",
        )
    reason = (match["double"] if match["double"] is not None else match["single"] or "").strip()
    if not reason:
        return None, _finding(
            "CH100",
            where,
            f"the comment disables {', '.join(ids)} without a reason, so it disables nothing",
            f"add why the rule does not apply here: `# connector-harness: disable={','.join(ids)} "
            'reason="..."`',
        )
    return Disable(frozenset(ids), reason, where), None


# -- CH101 wildcard or admin grants to system accounts --------------------------------------


def _wildcard_grants(workspace: Workspace) -> Iterator[LintFinding]:
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
        yield _finding(
            "CH101",
            source.location,
            f"`{source.grant}` in role `{source.role}` {what}, and system accounts hold it: "
            f"{', '.join(sorted(bindings))}",
            f"replace `{source.grant}` with the {source.service} scopes the flows call; "
            "`connector-harness check` prints the least-privilege role of each binding",
        )


# -- CH102 credential lifetime and rotation -------------------------------------------------


def _credentials(workspace: Workspace) -> Iterator[LintFinding]:
    policy = workspace.policy
    longest = format_duration(policy.max_credential_lifetime_seconds)
    rotation_limit = format_duration(policy.max_rotation_seconds)
    for connector in workspace.connectors:
        credential = connector.credential
        what = f"connector `{connector.name}` ({credential.type})"
        if credential.lifetime_seconds > policy.max_credential_lifetime_seconds:
            yield _finding(
                "CH102",
                credential.lifetime_location or connector.location,
                f"{what}: credential lifetime {format_duration(credential.lifetime_seconds)} "
                f"is above the policy maximum of {longest}",
                f"set `credential.lifetime` to {longest} or less (a short-lived token type such "
                "as oauth2-client-credentials), or raise `policy.max_credential_lifetime`",
            )
        rotation = credential.rotation_seconds
        if rotation is not None and rotation > policy.max_rotation_seconds:
            yield _finding(
                "CH102",
                credential.rotation_location or connector.location,
                f"{what}: the secret is rotated every {format_duration(rotation)}, above "
                f"the policy maximum of {rotation_limit}",
                f"set `credential.rotation` to {rotation_limit} or less",
            )
        elif rotation is None and credential.type in LONG_LIVED_SECRETS:
            yield _finding(
                "CH102",
                credential.rotation_location or connector.location,
                f"{what}: a long-lived secret with no `rotation`",
                f"add `rotation: {rotation_limit}` (at most `policy.max_rotation`) "
                "under `credential:`",
            )


# -- CH103 prod bindings without expiry, CH108 prod bindings no flow exercises ---------------


def _is_prod(workspace: Workspace, binding: Binding) -> bool:
    return binding.env in workspace.policy.prod_environments


def _prod_expiry(workspace: Workspace, today: date) -> Iterator[LintFinding]:
    suggested = _add_year(today)
    for binding in workspace.bindings:
        if _is_prod(workspace, binding) and binding.expires_at is None:
            yield _finding(
                "CH103",
                binding.location,
                f"prod binding {binding.name} has no `expires:`, so its access never lapses",
                f"add `expires: {suggested}` (or sooner), the date by which it must be re-approved",
            )


def _add_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day + timedelta(days=365)


def _untested(workspace: Workspace) -> Iterator[LintFinding]:
    for binding in workspace.bindings:
        if _is_prod(workspace, binding) and not workspace.flows_of(binding.connector):
            yield _finding(
                "CH108",
                binding.location,
                f"prod binding {binding.name} is exercised by no flow: connector "
                f"`{binding.connector}` has none, so nothing shows its roles are least privilege",
                f"record a flow with `connector: {binding.connector}`, or remove the binding",
            )


# -- CH109 legacy scopes -------------------------------------------------------------------


def _legacy(workspace: Workspace) -> Iterator[LintFinding]:
    holders: dict[tuple[GrantSource, str], list[str]] = {}
    for binding in workspace.bindings:
        for source in workspace.binding_grants(binding):
            view = service_for(workspace, binding.connector, source.service)
            current = dict(view.legacy).get(source.grant.scope)
            if current:
                holders.setdefault((source, current), []).append(binding.name)
    for (source, current), bindings in holders.items():
        narrowed = "@" + str(source.grant).split("@", 1)[1] if source.grant.narrowing else ""
        yield _finding(
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


def _owners(workspace: Workspace) -> Iterator[LintFinding]:
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
            yield _finding("CH104", location, f"{what} has no owner", fix)
        elif is_placeholder_owner(owner):
            yield _finding(
                "CH104", location, f"{what} has the placeholder owner `{owner.strip()}`", fix
            )


# -- CH105 reviews --------------------------------------------------------------------------


def _reviews(workspace: Workspace, today: date) -> Iterator[LintFinding]:
    for role in workspace.roles:
        if role.review_every_days is None:
            continue
        every = f"{role.review_every_days}d"
        if role.last_reviewed is None:
            yield _finding(
                "CH105",
                role.location,
                f"role `{role.name}` is to be reviewed every {every} but has no `last_reviewed`",
                f"review its grants, then add `last_reviewed: {today}`",
            )
            continue
        due = role.last_reviewed + timedelta(days=role.review_every_days)
        if due < today:
            late = (today - due).days
            yield _finding(
                "CH105",
                role.location,
                f"role `{role.name}` was due for review on {due} (last reviewed "
                f"{role.last_reviewed}, every {every}): {late} day{'s' if late != 1 else ''} "
                "overdue",
                f"review its grants, then set `last_reviewed: {today}`",
            )


# -- CH106 separation of duties -------------------------------------------------------------


def _duties(workspace: Workspace) -> Iterator[LintFinding]:
    policy = workspace.policy
    if policy.location is not None:
        approvers = {name.strip().lower() for name in policy.approvers}
        both = sorted({name for name in policy.deployers if name.strip().lower() in approvers})
        for name in both:
            yield _finding(
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
                (f"{service}:{scope}", _holders(workspace, sources, service, scope))
                for service, scope in conflict.scopes
            ]
            held = [(scope, via) for scope, via in held if via]
            if len(held) < 2:
                continue
            detail = "; ".join(f"{scope} through {', '.join(via)}" for scope, via in held)
            yield _finding(
                "CH106",
                binding.location,
                f"binding {binding.name} holds scopes that conflict under `{conflict.name}` "
                f"({conflict.location}): {detail}",
                "give these duties to separate connectors, or drop the grants from this "
                "binding's roles",
            )


def _holders(
    workspace: Workspace, sources: tuple[GrantSource, ...], service: str, scope: str
) -> list[str]:
    """The grants (`grant` of role `r`) among `sources` that satisfy `scope` of `service`."""
    universe = workspace.service(service).universe
    wanted = universe.expand(scope) or frozenset([scope])
    return sorted(
        {
            f"`{source.grant}` of role `{source.role}`"
            for source in sources
            if source.service == service and universe.closure(source.grant.scope) & wanted
        }
    )


# -- CH107 secrets --------------------------------------------------------------------------

# A hex digest under a key like these is a content hash (an ETag, a checksum), not a secret.
_DIGEST_KEY = re.compile(
    r"(?i)\b(?:e-?tag|if-(?:none-)?match|sha\d*|md5|checksum|digest|hash|crc32c?)"
    r"[\"']?\s*[:=]\s*[\"'\\]*$"
)

# Words joined by `_`, `-` or `.` (a file name, an identifier) are long, but not random.
_WORDS = re.compile(
    r"^(?:[A-Za-z][a-z]*[0-9]{0,3}|[0-9]{1,4})(?:[_.-](?:[A-Za-z][a-z]*[0-9]{0,3}|[0-9]{1,4}))+$"
)


# camelCase identifiers (`googleDriveOAuth2Api`): every segment after the first starts with a
# capital or is a short number, and a lower-case run never follows a digit, as in a token.
_CAMEL = re.compile(r"^[a-z]+(?:[A-Z][a-z]+|[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[0-9]{1,2}(?=[A-Z]|$))+$")


def _harmless(kind: str, value: str, before: str) -> bool:
    """A high-entropy match that is a content hash or joined words, hiding no known token."""
    if kind != "high-entropy string" or any(p.search(value) for _, p in KNOWN_FORMATS):
        return False
    return bool(_DIGEST_KEY.search(before) or _WORDS.match(value) or _CAMEL.match(value))


def _secrets(texts: dict[str, str]) -> Iterator[LintFinding]:
    for display, text in texts.items():
        # An n8n export is full of random-looking ids (instances, documents, credentials);
        # in it only known token formats are secrets.
        export = display.endswith(".n8n.json")
        for kind, start, end in find_secrets(text):
            if export and kind == "high-entropy string":
                continue
            value = text[start:end]
            line_start = text.rfind("\n", 0, start) + 1
            if _harmless(kind, value, text[line_start:start]):
                continue
            line, column = _position(text, start)
            article = "an" if kind[0].lower() in "aeiou" else "a"
            yield _finding(
                "CH107",
                Location(display, line, column),
                f"{article} {kind} is written in this file: {mask(value)}",
                "delete it and rotate the credential at its issuer (treat it as leaked); "
                "recordings keep `<secret-N>` handles instead, and a file of deliberate fake "
                f"keys takes `{_EXAMPLE_DISABLE}`",
            )


# -- CH110 values marked `# TODO` ----------------------------------------------------------

_TODO_MARK = re.compile(r"#\s*TODO\b(?P<note>.*)$")


def _todo_marks(
    texts: dict[str, str], policy_files: list[tuple[str, Path]]
) -> Iterator[LintFinding]:
    """A `# TODO` comment after a value in a policy document: the value awaits confirmation."""
    for display, _ in policy_files:
        if not _is_yaml(display):
            continue
        for number, line in enumerate(texts.get(display, "").splitlines(), start=1):
            found = _TODO_MARK.search(line)
            value = line[: found.start()].strip() if found else ""
            if found is None or not value or value.startswith("#"):
                continue
            note = found["note"].strip(" :-")
            yield _finding(
                "CH110",
                Location(display, number, found.start() + 1),
                f"`{value[:60]}` is marked `# TODO`" + (f": {note[:100]}" if note else ""),
                "confirm the value (correct it if needed), then delete the `# TODO` mark",
            )
