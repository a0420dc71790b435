"""The policy documents of a plan, as plain data: the same for files (import-n8n) and for
the workspace the loader builds from `*.n8n.json` files directly.

Files: `scenarios/n8n/connectors/<connector>.yaml` (the connector, its role, its
bindings) and `scenarios/n8n/flows/<workflow>.yaml` (the workflow's flows, one per
credential). Names are slugs, so a path is always inside the directories above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.errors import Location
from harness.n8n import targets
from harness.n8n.plan import ConnectorPlan, FlowPlan, Plan, step_data
from harness.secrets import SecretScrubber

CONNECTORS_DIR = "scenarios/n8n/connectors"
FLOWS_DIR = "scenarios/n8n/flows"
OWNER_PLACEHOLDER = "TODO"
# A token lifetime to confirm: Google and Microsoft access tokens live an hour
# (https://developers.google.com/identity/protocols/oauth2#expiration,
# https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#token-lifetime);
# other tokens and keys live until revoked, so a rotation cadence stands in for them.
HOURLY = ("google", "gmail", "gsuite", "youtube", "microsoft")


@dataclass(slots=True)
class Document:
    """One policy file: its data, the places its parts come from, the TODO marks to write."""

    path: str  # relative to the workspace
    data: dict[str, Any]
    sources: tuple[str, ...]  # export files it was generated from
    marks: dict[tuple[str | int, ...], Location] = field(default_factory=dict)
    todos: dict[tuple[str | int, ...], str] = field(default_factory=dict)  # path -> comment
    generated: dict[str, Any] = field(default_factory=dict)  # what a later import may replace


def lifetime_for(type_name: str) -> str:
    return "1h" if type_name.lower().startswith(HOURLY) else "90d"


def connector_document(connector: ConnectorPlan, plan: Plan) -> Document:
    reference = connector.credential
    kind, credential_type = connector.type.kind()
    credential: dict[str, Any] = {"type": credential_type, "lifetime": lifetime_for(reference.type)}
    granted = set() if connector.unbound else set(connector.grants)
    audience = sorted(connector.services | granted)
    if audience:
        credential["audience"] = audience
    models = targets.credential_models(connector.models, audience, plan.services)
    if models:
        credential["models"] = models
    name_part = f"'{reference.name}'" if reference.name else "(unnamed)"
    data: dict[str, Any] = {
        "connectors": [
            {
                "name": connector.name,
                "description": f"n8n credential {name_part} ({reference.type}"
                + (f", id {reference.id})" if reference.id else ")"),
                "owner": OWNER_PLACEHOLDER,
                "kind": kind,
                "credential": credential,
                "allowed_hosts": sorted(connector.hosts),
            }
        ]
    }
    document = Document(
        path=f"{CONNECTORS_DIR}/{connector.name}.yaml",
        data=data,
        sources=tuple(
            sorted({f.workflow.source for f in plan.flows if f.connector == connector.name})
        ),
    )
    base: tuple[str | int, ...] = ("connectors", 0)
    document.marks[base] = connector.location
    document.todos[(*base, "owner")] = "the team or person accountable for this credential"
    document.todos[(*base, "credential", "lifetime")] = "TODO: confirm how long its token lives"
    document.generated = {"allowed_hosts": sorted(connector.hosts), "grants": {}, "roles": []}
    if connector.unbound:
        return document
    grants = {service: list(scopes) for service, scopes in sorted(connector.grants.items())}
    held = connector.held
    data["roles"] = [
        {
            "name": connector.role,
            "description": f"What n8n's {reference.type} credential holds: "
            + (held.source if held is not None else "no scopes"),
            "grants": grants,
        }
    ]
    document.marks[("roles", 0)] = connector.location
    data["bindings"] = [
        {"connector": connector.name, "env": env, "roles": [connector.role]} for env in plan.envs
    ]
    for index in range(len(plan.envs)):
        document.marks[("bindings", index)] = connector.location
    document.generated["grants"] = grants
    document.generated["roles"] = [connector.role]
    return document


def flow_documents(plan: Plan) -> list[Document]:
    """One file per workflow, holding its flows (one per credential)."""
    by_workflow: dict[str, list[FlowPlan]] = {}
    for flow in plan.flows:
        by_workflow.setdefault(flow.name.rsplit(".", 1)[0], []).append(flow)
    documents = []
    for stem, flows in sorted(by_workflow.items()):
        entries = []
        marks: dict[tuple[str | int, ...], Location] = {}
        steps_by_flow: dict[str, Any] = {}
        for index, flow in enumerate(flows):
            scrubber = SecretScrubber()
            literals: dict[str, str] = {}
            steps = [step_data(step, scrubber, literals) for step in flow.steps]
            connector = plan.connector(flow.connector)
            label = f"'{flow.workflow.name}'" if flow.workflow.name else "(unnamed)"
            credential = connector.credential.name or connector.credential.type
            entry: dict[str, Any] = {
                "name": flow.name,
                "connector": flow.connector,
                "description": f"n8n workflow {label}: the calls made with credential '{credential}'",
            }
            if literals:
                entry["vars"] = dict(sorted(literals.items()))
            entry["steps"] = steps
            entries.append(entry)
            steps_by_flow[flow.name] = steps
            marks[("flows", index)] = flow.location
            for position, step in enumerate(flow.steps):
                marks[("flows", index, "steps", position)] = step.node.location
        documents.append(
            Document(
                path=f"{FLOWS_DIR}/{stem}.yaml",
                data={"flows": entries},
                sources=tuple(sorted({f.workflow.source for f in flows})),
                marks=marks,
                generated={"steps": steps_by_flow},
            )
        )
    return documents


def plan_documents(plan: Plan) -> list[Document]:
    """Every policy document of the plan, connectors first."""
    return [connector_document(c, plan) for c in plan.connectors] + flow_documents(plan)
