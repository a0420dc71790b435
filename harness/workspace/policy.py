"""Policy documents: connectors, roles, bindings, their grants, waivers and the policy."""

from __future__ import annotations

from functools import partial
from typing import Any

from harness.errors import Location
from harness.model import (
    Binding,
    Connector,
    Credential,
    GrantSource,
    Mark,
    Policy,
    Role,
    ScopeConflict,
    Service,
    Waiver,
)
from harness.permission_models import check_credential_models, grant_in_some_model
from harness.scopes import Grant, is_pattern
from harness.sql import SqlProblem, expand_grant
from harness.workspace.base import LoaderBase, suggest
from harness.workspace.units import parse_duration
from harness.workspace.yaml_source import YamlDocument


def _key_location(doc: YamlDocument, base: tuple[str | int, ...], key: str) -> Location:
    return doc.location((*base, key), key=True)


class PolicySection(LoaderBase):
    """Reads the policy documents: connectors, roles, bindings, waivers, the policy."""

    def _grants(
        self,
        doc: YamlDocument,
        base: tuple[str | int, ...],
        data: dict[str, list[str]],
        services: dict[str, Service],
        owner: str,
    ) -> list[tuple[str, Grant, Location]]:
        """`{service: [grants]}` of `owner` checked against the services' declared scopes."""
        found: list[tuple[str, Grant, Location]] = []
        for service_name, texts in data.items():
            service = services.get(service_name)
            if service is None:
                self._dangling(
                    "service",
                    doc.location((*base, service_name), key=True),
                    f"{owner} grants scopes of `{service_name}`, which is not a service",
                    suggest(service_name, services),
                    name=service_name,
                )
                continue
            for position, text in enumerate(texts):
                where = doc.location((*base, service_name, position))
                if service.kind == "postgres":
                    try:
                        expanded = expand_grant(text, {t.name: t for t in service.tables})
                    except SqlProblem as problem:
                        self._fail(where, problem.problem, problem.hint)
                        continue
                    found.extend((service_name, Grant(scope), where) for scope in expanded)
                    continue
                grant = Grant.parse(text)
                views = [service, *(v for v in self._model_views if v.name == service_name)]
                if not grant_in_some_model(views, grant):
                    kind = "pattern" if is_pattern(grant.scope) else "scope"
                    self._fail(
                        where,
                        f"{kind} `{grant.scope}` matches no scope of service `{service_name}`",
                        suggest(grant.scope, service.universe.names),
                    )
                    continue
                found.append((service_name, grant, where))
        return found

    def _waivers(
        self, documents: list[YamlDocument], services: dict[str, Service], bindings: set[str]
    ) -> list[Waiver]:
        waivers = []
        for doc, index, data in self._entries(documents, "waivers"):
            base = ("waivers", index)
            if data["binding"] not in bindings:
                self._dangling(
                    "policy",
                    doc.location((*base, "binding")),
                    f"waiver for binding `{data['binding']}`, which is not defined",
                    suggest(data["binding"], bindings),
                    name=data["binding"],
                )
            grants = self._grants(
                doc,
                (*base, "grants"),
                data["grants"],
                services,
                f"the waiver for {data['binding']}",
            )
            expires = self._date(doc, (*base, "expires"), data["expires"])
            if expires is None:
                continue
            waivers.append(
                Waiver(
                    binding=data["binding"],
                    grants=tuple(sorted((service, grant) for service, grant, _ in grants)),
                    reason=data["reason"],
                    owner=data["owner"],
                    ticket=data.get("ticket", ""),
                    approved_by=data["approved_by"],
                    expires=expires,
                    location=doc.location(base),
                )
            )
        return waivers

    def _policy(self, documents: list[YamlDocument], services: dict[str, Service]) -> Policy:
        sections = [doc for doc in documents if doc.data and "policy" in doc.data]
        for extra in sections[1:]:
            self._fail(
                extra.location(("policy",), key=True),
                f"a second `policy:` section (the first is in {sections[0].path})",
                "keep one policy section per workspace",
            )
        if not sections:
            return Policy()
        doc = sections[0]
        data: dict[str, Any] = doc.data["policy"]
        defaults = Policy()
        conflicts = []
        for index, entry in enumerate(data.get("conflicting_scopes", ())):
            scopes = []
            for position, text in enumerate(entry["scopes"]):
                service, _, scope = text.partition(":")
                where = doc.location(("policy", "conflicting_scopes", index, "scopes", position))
                if service not in services:
                    self._fail(
                        where,
                        f"`{service}` is not a service of this workspace",
                        suggest(service, services),
                    )
                elif services[service].universe.undeclared(scope):
                    self._fail(
                        where,
                        f"`{scope}` matches no scope of service `{service}`",
                        suggest(scope, services[service].universe.names),
                    )
                scopes.append((service, scope))
            conflicts.append(
                ScopeConflict(
                    entry["name"],
                    tuple(scopes),
                    doc.location(("policy", "conflicting_scopes", index)),
                )
            )
        duties = data.get("duties", {})
        volume = data.get("volume", {})
        lifetime = data.get("max_credential_lifetime")
        rotation = data.get("max_rotation")
        return Policy(
            max_credential_lifetime_seconds=parse_duration(lifetime)
            if lifetime
            else defaults.max_credential_lifetime_seconds,
            max_rotation_seconds=parse_duration(rotation)
            if rotation
            else defaults.max_rotation_seconds,
            prod_environments=tuple(data.get("prod_environments", defaults.prod_environments)),
            deployers=tuple(duties.get("deploy", ())),
            approvers=tuple(duties.get("approve", ())),
            conflicting_scopes=tuple(conflicts),
            max_calls_per_flow=volume.get("max_calls_per_flow", defaults.max_calls_per_flow),
            max_response_bytes=volume.get("max_response_bytes", defaults.max_response_bytes),
            location=doc.location(("policy",), key=True),
        )

    # -- services -------------------------------------------------------------------------

    def _connectors(
        self, documents: list[YamlDocument], services: dict[str, Service]
    ) -> dict[str, Connector]:
        connectors: dict[str, Connector] = {}
        seen: dict[str, Location] = {}
        for doc, index, data in self._entries(documents, "connectors"):
            base = ("connectors", index)
            if not self._unique(seen, data["name"], "connector", doc.location((*base, "name"))):
                continue
            credential = data["credential"]
            for position, audience in enumerate(credential.get("audience", ())):
                if audience not in services:
                    self._dangling(
                        "service",
                        doc.location((*base, "credential", "audience", position)),
                        f"audience `{audience}` is not a service of this workspace",
                        suggest(audience, services),
                        name=audience,
                    )
            models = {  # a service that failed to load is judged by nothing
                service: model
                for service, model in credential.get("models", {}).items()
                if service not in self.maybe_defined
            }
            if "service" not in self.unreadable:
                models_at = (*base, "credential", "models")
                self.errors.extend(
                    check_credential_models(
                        models, services, partial(_key_location, doc, models_at)
                    )
                )
            connectors[data["name"]] = Connector(
                name=data["name"],
                description=data.get("description", ""),
                owner=data["owner"],
                kind=data.get("kind", "service-account"),
                credential=Credential(
                    type=credential["type"],
                    lifetime_seconds=parse_duration(credential["lifetime"]),
                    audience=tuple(credential.get("audience", ())),
                    rotation_seconds=parse_duration(credential["rotation"])
                    if "rotation" in credential
                    else None,
                    lifetime_location=doc.location((*base, "credential", "lifetime")),
                    rotation_location=doc.location((*base, "credential", "rotation"))
                    if "rotation" in credential
                    else doc.location((*base, "credential"), key=True),
                    models=tuple(sorted(models.items())),
                    models_location=doc.location((*base, "credential", "models"))
                    if models
                    else None,
                ),
                allowed_hosts=tuple(host.lower() for host in data["allowed_hosts"]),
                regions=tuple(data.get("regions", ())),
                location=doc.location(base),
            )
        return connectors

    def _roles(
        self, documents: list[YamlDocument], services: dict[str, Service]
    ) -> dict[str, Role]:
        roles: dict[str, Role] = {}
        extends_at: dict[tuple[str, str], Location] = {}
        seen: dict[str, Location] = {}
        for doc, index, data in self._entries(documents, "roles"):
            base = ("roles", index)
            if not self._unique(seen, data["name"], "role", doc.location((*base, "name"))):
                continue
            for position, parent in enumerate(data.get("extends", ())):
                extends_at[(data["name"], parent)] = doc.location((*base, "extends", position))
            grants = [
                GrantSource(service, grant, data["name"], where)
                for service, grant, where in self._grants(
                    doc, (*base, "grants"), data["grants"], services, f"role `{data['name']}`"
                )
            ]
            review = data.get("review_every")
            roles[data["name"]] = Role(
                name=data["name"],
                description=data.get("description", ""),
                owner=data.get("owner", ""),
                review_every_days=parse_duration(review) // 86400 if review else None,
                last_reviewed=self._date(doc, (*base, "last_reviewed"), data.get("last_reviewed")),
                extends=tuple(data.get("extends", ())),
                grants=tuple(grants),
                location=doc.location(base),
                grants_location=doc.location((*base, "grants")),
            )
        for (name, parent), where in extends_at.items():
            if parent not in roles:
                self._dangling(
                    "policy",
                    where,
                    f"role `{name}` extends `{parent}`, which is not a role",
                    suggest(parent, roles),
                    name=parent,
                )
        self._check_cycles(roles)
        return roles

    def _check_cycles(self, roles: dict[str, Role]) -> None:
        """Report each inheritance cycle once; iterative, so a chain of thousands of roles
        needs no deep stack."""
        state: dict[str, str] = {}
        for start in sorted(roles):
            if state.get(start) == "done":
                continue
            trail: list[str] = [start]
            parents = [iter(roles[start].extends)]
            state[start] = "active"
            while parents:
                parent = next(parents[-1], None)
                if parent is None:
                    state[trail.pop()] = "done"
                    parents.pop()
                    continue
                if parent not in roles or state.get(parent) == "done":
                    continue
                if state.get(parent) == "active":
                    cycle = [*trail[trail.index(parent) :], parent]
                    shown = " -> ".join(cycle)
                    if len(cycle) > 8:  # a cycle of thousands of roles: its ends
                        shown = (
                            f"{' -> '.join(cycle[:4])} -> ... -> {' -> '.join(cycle[-3:])} "
                            f"({len(cycle) - 1} roles)"
                        )
                    self._fail(
                        roles[parent].location,
                        f"role inheritance cycle: {shown}",
                        f"remove one `extends` entry so that `{parent}` does not inherit "
                        "from itself",
                    )
                    continue
                state[parent] = "active"
                trail.append(parent)
                parents.append(iter(roles[parent].extends))

    def _bindings(
        self,
        documents: list[YamlDocument],
        connectors: dict[str, Connector],
        roles: dict[str, Role],
    ) -> list[Binding]:
        bindings: list[Binding] = []
        seen: dict[str, Location] = {}
        for doc, index, data in self._entries(documents, "bindings"):
            base = ("bindings", index)
            where = doc.location(base)
            ok = self._unique(seen, f"{data['connector']}@{data['env']}", "binding", where)
            if data["connector"] not in connectors:
                ok = False
                self._dangling(
                    "policy",
                    doc.location((*base, "connector")),
                    f"binding refers to connector `{data['connector']}`, which is not defined",
                    suggest(data["connector"], connectors),
                    name=data["connector"],
                )
            for position, role in enumerate(data["roles"]):
                if role not in roles:
                    ok = False
                    self._dangling(
                        "policy",
                        doc.location((*base, "roles", position)),
                        f"binding refers to role `{role}`, which is not defined",
                        suggest(role, roles),
                        name=role,
                    )
            expires = self._date(doc, (*base, "expires"), data.get("expires"))
            if ok:
                bindings.append(
                    Binding(
                        data["connector"],
                        data["env"],
                        tuple(data["roles"]),
                        expires,
                        where,
                        tuple(Mark.parse(mark) for mark in data.get("marks", ())),
                    )
                )
        return bindings
