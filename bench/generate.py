"""Synthetic but realistic workspaces for the scale benchmark.

    python bench/generate.py OUTDIR --connectors N [--flows 5] [--calls 100] [--seed 0]

writes OUTDIR/connector-harness.yaml, OUTDIR/mocks/ (a copy of the bundled service
specs: the settings only accept directories inside the workspace) and
OUTDIR/scenarios/: one shared-roles file plus one policy document per connector
holding the connector, its one or two roles, its `dev` and `prod` bindings and its
flows (5 x 100 calls by default). Every call routes to a real operation of the
bundled specs.

Connectors cycle through five archetypes modelled on the bundled scenarios
(crm-export, deal-alerts, lead-intake, storage-backup, support-digest), and their
bindings through deliberate situations, so that the analysis has real work:

    clean       prod holds exactly what the flows need
    over-broad  prod holds an un-narrowed or write-level grant where less suffices
    excessive   prod also holds a role no call uses
    missing     prod lacks one of the connector's roles: calls are denied
    wildcard    prod holds crm.admin / storage.* instead of the narrow role

Every fourth connector's dev binding holds the wildcard role too ("dev
convenience"), every fifth connector has one flow calling a host outside its
allowed_hosts (egress), and flows that post to chat carry a guard-rail step
(`expect: denied`). Output is deterministic for given arguments.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BUNDLED_MOCKS = REPO / "mocks"

SITUATIONS = ("clean", "over-broad", "excessive", "missing", "wildcard", "clean")

SHARED_ROLES: dict[str, dict[str, list[str]]] = {
    "shared-crm-admin": {"crm": ["crm.admin"]},
    "shared-crm-contacts-editor": {"crm": ["crm.contacts.write"]},
    "shared-sheets-editor": {"sheets": ["sheets"]},
    "shared-chat-poster": {"chat": ["chat:write:bot"]},
    "shared-chat-file-uploader": {"chat": ["files:write"]},
    "shared-storage-full": {"storage": ["storage.*"]},
}

CRM = "https://api.crm.example"
CHAT = "https://api.chat.example"
SHEETS = "https://sheets.example"
STORAGE = "https://storage.eu.example"
STORAGE_US = "https://storage.us.example"
PARTNER = "https://hooks.partner.example"

PEOPLE = (
    ("Ada Lovelace", "ada@analytical.example"),
    ("Grace Hopper", "grace@cobol.example"),
    ("Alan Turing", "alan@bletchley.example"),
    ("Hedy Lamarr", "hedy@frequency-hopping.example"),
    ("Katherine Johnson", "katherine@nasa.example"),
    ("Edsger Dijkstra", "edsger@shortest-path.example"),
)
STAGES = ("new", "qualified", "proposal", "won", "lost")

Step = dict[str, Any]


@dataclass
class Context:
    """Per-connector values that the step templates draw from."""

    index: int
    rng: random.Random
    sheet: str
    channel: str
    bucket: str
    counter: int = 0

    def next(self) -> int:
        self.counter += 1
        return self.counter


@dataclass(frozen=True)
class Archetype:
    name: str
    kind: str
    credential: str
    lifetime: str
    audience: tuple[str, ...]
    allowed_hosts: tuple[str, ...]
    # role suffix -> service -> grants; {i} is replaced by the connector number
    roles: tuple[tuple[str, dict[str, list[str]]], ...]
    first: Callable[[Context], Step]  # the first step of every flow (captures values)
    steps: tuple[Callable[[Context], Step], ...]
    guard: Callable[[Context], Step] | None = None  # an `expect: denied` probe
    # situation -> prod roles (role suffixes or shared role names)
    situations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dev_wildcard: tuple[str, ...] = ()


def _person(ctx: Context) -> tuple[str, str]:
    return PEOPLE[ctx.rng.randrange(len(PEOPLE))]


# -- step templates: each returns one recorded call of a real operation ---------------------


def list_contacts(ctx: Context) -> Step:
    page = ctx.rng.randint(1, 9)
    return {
        "name": f"list contacts (page {page})",
        "method": "GET",
        "url": f"{CRM}/v1/contacts?limit=100&page={page}&sort=created_at",
        "response": {
            "status": 200,
            "json": {
                "items": [
                    {"id": "c_1", "name": "Ada Lovelace", "email": "ada@analytical.example"},
                    {"id": "c_2", "name": "Grace Hopper", "email": "grace@cobol.example"},
                ]
            },
        },
        "capture": {"contact": "response.json.items.0.id"},
    }


def get_contact(ctx: Context) -> Step:
    return {
        "name": "read the contact",
        "method": "GET",
        "url": f"{CRM}/v1/contacts/{{{{ contact }}}}",
        "response": {"status": 200, "json": {"id": "c_1", "name": "Ada Lovelace"}},
    }


def get_seed_contact(ctx: Context) -> Step:
    number = ctx.rng.randint(1, 3)
    return {
        "name": f"read contact c_{number}",
        "method": "GET",
        "url": f"{CRM}/v1/contacts/c_{number}",
        "response": {"status": 200, "json": {"id": f"c_{number}"}},
    }


def list_deals(ctx: Context) -> Step:
    stage = ctx.rng.choice(STAGES)
    return {
        "name": f"list {stage} deals",
        "method": "GET",
        "url": f"{CRM}/v1/deals?stage={stage}&limit=50",
        "response": {"status": 200, "json": {"items": [{"id": "d_1", "stage": stage}]}},
        "capture": {"deal": "response.json.items.0.id"},
    }


def get_deal(ctx: Context) -> Step:
    number = ctx.rng.randint(1, 2)
    return {
        "name": f"read deal d_{number}",
        "method": "GET",
        "url": f"{CRM}/v1/deals/d_{number}",
        "response": {"status": 200, "json": {"id": f"d_{number}", "amount": 48000}},
    }


def search_contacts(ctx: Context) -> Step:
    _, email = _person(ctx)
    return {
        "name": "search for an existing contact",
        "method": "POST",
        "url": f"{CRM}/v1/contacts/search",
        "json": {"filter": {"email": email}, "limit": 1},
        "response": {"status": 200, "json": {"items": [], "total": 0}},
    }


def create_contact(ctx: Context) -> Step:
    name, email = _person(ctx)
    return {
        "name": f"create contact {name}",
        "method": "POST",
        "url": f"{CRM}/v1/contacts",
        "json": {
            "name": name,
            "email": email,
            "company": "Example Ltd",
            "lifecycle_stage": "lead",
            "source": f"web-form:{ctx.next()}",
        },
        "response": {"status": 201, "json": {"id": "c_4", "name": name, "email": email}},
        "capture": {"lead": "response.json.id"},
    }


def update_lead(ctx: Context) -> Step:
    return {
        "name": "qualify the lead",
        "method": "PATCH",
        "url": f"{CRM}/v1/contacts/{{{{ lead }}}}",
        "json": {"lifecycle_stage": ctx.rng.choice(("lead", "opportunity", "customer"))},
        "response": {"status": 200, "json": {"id": "c_4"}},
    }


def create_deal(ctx: Context) -> Step:
    return {
        "name": "open a deal for the lead",
        "method": "POST",
        "url": f"{CRM}/v1/deals",
        "json": {
            "title": f"Inbound {ctx.next()}",
            "contact_id": "{{ lead }}",
            "amount": ctx.rng.randrange(1000, 90000, 500),
            "currency": "EUR",
            "stage": "new",
        },
        "response": {"status": 201, "json": {"id": "d_3", "stage": "new"}},
    }


def append_rows(ctx: Context) -> Step:
    row = ctx.rng.randint(2, 999)
    return {
        "name": f"append row {row}",
        "method": "POST",
        "url": f"{SHEETS}/v4/spreadsheets/{{{{ sheet }}}}/values:append?range=Data!A{row}&valueInputOption=RAW",
        "json": {"majorDimension": "ROWS", "values": [["{{ contact }}", "exported", row]]},
        "response": {"status": 200, "json": {"updates": {"updatedRows": 1}}},
    }


def update_range(ctx: Context) -> Step:
    row = ctx.rng.randint(2, 999)
    return {
        "name": f"overwrite row {row}",
        "method": "PUT",
        "url": f"{SHEETS}/v4/spreadsheets/{{{{ sheet }}}}/values/Data!A{row}:C{row}?valueInputOption=RAW",
        "json": {"values": [[row, "{{ contact }}", "updated"]]},
        "response": {"status": 200, "json": {"updatedCells": 3}},
    }


def clear_rows(ctx: Context) -> Step:
    return {
        "name": "clear old rows",
        "method": "POST",
        "url": f"{SHEETS}/v4/spreadsheets/{{{{ sheet }}}}/values:batchClear",
        "json": {"ranges": ["Data!A2:E"]},
        "response": {"status": 200, "json": {"clearedRanges": ["Data!A2:E1000"]}},
    }


def sheet_metadata(ctx: Context) -> Step:
    return {
        "name": "read spreadsheet metadata",
        "method": "GET",
        "url": f"{SHEETS}/v4/spreadsheets/{{{{ sheet }}}}?fields=sheets.properties",
        "response": {"status": 200, "json": {"sheets": [{"properties": {"title": "Data"}}]}},
        "capture": {"tab": "response.json.sheets.0.properties.title"},
    }


def read_values(ctx: Context) -> Step:
    end = ctx.rng.randint(10, 500)
    return {
        "name": f"read values A1:F{end}",
        "method": "GET",
        "url": f"{SHEETS}/v4/spreadsheets/{{{{ sheet }}}}/values/Ledger!A1:F{end}?majorDimension=ROWS",
        "response": {"status": 200, "json": {"values": [["date", "account", "balance"]]}},
    }


def post_message(ctx: Context) -> Step:
    return {
        "name": "post the alert",
        "method": "POST",
        "url": f"{CHAT}/api/chat.postMessage",
        "json": {"channel": "{{ channel }}", "text": f"Deal update #{ctx.next()}"},
        "response": {"status": 200, "json": {"ok": True, "ts": "1767225600.000100"}},
    }


def update_message(ctx: Context) -> Step:
    return {
        "name": "edit the alert",
        "method": "POST",
        "url": f"{CHAT}/api/chat.update",
        "json": {"channel": "{{ channel }}", "ts": "1767225600.000100", "text": "edited"},
        "response": {"status": 200, "json": {"ok": True}},
    }


def general_probe(ctx: Context) -> Step:
    return {
        "name": "guard rail: posting to #general must be refused",
        "method": "POST",
        "url": f"{CHAT}/api/chat.postMessage",
        "json": {"channel": "C0GENERAL", "text": "should never arrive"},
        "response": {"status": 403, "json": {"ok": False, "error": "missing_scope"}},
        "expect": "denied",
    }


def channel_history(ctx: Context) -> Step:
    return {
        "name": "read yesterday's messages",
        "method": "POST",
        "url": f"{CHAT}/api/conversations.history",
        "json": {"channel": "{{ channel }}", "oldest": "1767139200", "limit": 200},
        "response": {"status": 200, "json": {"ok": True, "messages": [{"user": "U01"}]}},
    }


def channel_info(ctx: Context) -> Step:
    return {
        "name": "look up the channel",
        "method": "GET",
        "url": f"{CHAT}/api/conversations.info?channel={{{{ channel }}}}",
        "response": {"status": 200, "json": {"ok": True, "channel": {"name": "support"}}},
    }


def list_users(ctx: Context) -> Step:
    return {
        "name": "list workspace members",
        "method": "GET",
        "url": f"{CHAT}/api/users.list?limit=200",
        "response": {"status": 200, "json": {"ok": True, "members": [{"id": "U01"}]}},
    }


def user_info(ctx: Context) -> Step:
    user = f"U0{ctx.rng.randint(1, 9)}"
    return {
        "name": f"look up {user}",
        "method": "GET",
        "url": f"{CHAT}/api/users.info?user={user}",
        "response": {"status": 200, "json": {"ok": True, "user": {"id": user}}},
    }


def list_objects(ctx: Context) -> Step:
    return {
        "name": "list existing backups",
        "method": "GET",
        "url": f"{STORAGE}/v1/buckets/{{{{ bucket }}}}/objects?prefix=ledger-&maxKeys=10",
        "response": {"status": 200, "json": {"items": [{"key": "ledger-0001.json"}]}},
    }


def put_object(ctx: Context) -> Step:
    number = ctx.next()
    return {
        "name": f"upload snapshot {number}",
        "method": "PUT",
        "url": f"{STORAGE}/v1/buckets/{{{{ bucket }}}}/objects/ledger-{number:04d}.json",
        "headers": {"Content-Type": "application/json"},
        "json": {"spreadsheet": "{{ sheet }}", "rows": ctx.rng.randint(10, 500)},
        "response": {"status": 200, "headers": {"ETag": f'"e{number}"'}, "json": {"size": 2048}},
    }


def get_object(ctx: Context) -> Step:
    number = max(ctx.counter, 1)
    return {
        "name": f"verify snapshot {number}",
        "method": "GET",
        "url": f"{STORAGE}/v1/buckets/{{{{ bucket }}}}/objects/ledger-{number:04d}.json",
        "response": {"status": 200, "json": {"rows": 42}},
    }


def egress_webhook(ctx: Context) -> Step:
    return {
        "name": "notify the partner webhook",
        "method": "POST",
        "url": f"{PARTNER}/v1/events",
        "json": {"event": "sync.completed", "sequence": ctx.next()},
        "response": {"status": 202, "json": {"accepted": True}},
    }


def egress_us_bucket(ctx: Context) -> Step:
    return {
        "name": "mirror to the US bucket",
        "method": "GET",
        "url": f"{STORAGE_US}/v1/buckets/{{{{ bucket }}}}/objects?prefix=ledger-",
        "response": {"status": 200, "json": {"items": []}},
    }


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        name="crm-export",
        kind="service-account",
        credential="oauth2-client-credentials",
        lifetime="1h",
        audience=("crm", "sheets"),
        allowed_hosts=("api.crm.example", "sheets.example"),
        roles=(
            ("crm-reader", {"crm": ["crm.contacts.read", "crm.deals.read"]}),
            ("sheet-editor", {"sheets": ["sheets@spreadsheet=S-{i}"]}),
        ),
        first=list_contacts,
        steps=(
            list_contacts,
            get_contact,
            get_seed_contact,
            list_deals,
            get_deal,
            sheet_metadata,
            append_rows,
            update_range,
            clear_rows,
        ),
        situations={
            "over-broad": ("shared-crm-contacts-editor", "shared-sheets-editor"),
            "excessive": ("crm-reader", "sheet-editor", "shared-chat-file-uploader"),
            "missing": ("crm-reader",),
            "wildcard": ("shared-crm-admin", "sheet-editor"),
        },
        dev_wildcard=("shared-crm-admin", "sheet-editor"),
    ),
    Archetype(
        name="deal-alerts",
        kind="bot",
        credential="bot-token",
        lifetime="12h",
        audience=("crm", "chat"),
        allowed_hosts=("api.crm.example", "api.chat.example"),
        roles=(
            ("deal-reader", {"crm": ["crm.deals.read", "crm.contacts.read"]}),
            ("chat-poster", {"chat": ["chat:write:bot@channel={channel}"]}),
        ),
        first=list_deals,
        steps=(list_deals, get_deal, get_seed_contact, post_message, update_message),
        guard=general_probe,
        situations={
            "over-broad": ("deal-reader", "shared-chat-poster"),
            "excessive": ("deal-reader", "chat-poster", "shared-chat-file-uploader"),
            "missing": ("chat-poster",),
            "wildcard": ("shared-crm-admin", "chat-poster"),
        },
        dev_wildcard=("shared-crm-admin", "shared-chat-poster"),
    ),
    Archetype(
        name="lead-intake",
        kind="api-key",
        credential="api-key",
        lifetime="365d",
        audience=("crm",),
        allowed_hosts=("api.crm.example",),
        roles=(("lead-writer", {"crm": ["crm.contacts.write", "crm.deals.write"]}),),
        first=create_contact,
        steps=(search_contacts, create_contact, update_lead, create_deal, list_contacts),
        situations={
            "over-broad": ("shared-crm-admin",),
            "excessive": ("lead-writer", "shared-chat-file-uploader"),
            "missing": ("shared-crm-contacts-editor",),
            "wildcard": ("shared-crm-admin",),
        },
        dev_wildcard=("shared-crm-admin",),
    ),
    Archetype(
        name="storage-backup",
        kind="service-account",
        credential="oauth2-client-credentials",
        lifetime="1h",
        audience=("sheets", "storage"),
        allowed_hosts=("sheets.example", "storage.eu.example"),
        roles=(
            ("ledger-reader", {"sheets": ["sheets.readonly@spreadsheet=S-{i}"]}),
            ("backup-writer", {"storage": ["storage.objects.write@bucket={bucket}"]}),
        ),
        first=read_values,
        steps=(read_values, list_objects, put_object, get_object),
        situations={
            "over-broad": ("shared-sheets-editor", "backup-writer"),
            "excessive": ("ledger-reader", "backup-writer", "shared-chat-file-uploader"),
            "missing": ("ledger-reader",),
            "wildcard": ("ledger-reader", "shared-storage-full"),
        },
        dev_wildcard=("ledger-reader", "shared-storage-full"),
    ),
    Archetype(
        name="support-digest",
        kind="user-delegated",
        credential="oauth2-refresh-token",
        lifetime="12h",
        audience=("chat",),
        allowed_hosts=("api.chat.example",),
        roles=(
            (
                "chat-digest",
                {
                    "chat": [
                        "channels:read@channel={channel}",
                        "channels:history@channel={channel}",
                        "users:read",
                        "chat:write:bot@channel={channel}",
                    ]
                },
            ),
        ),
        first=channel_info,
        steps=(channel_history, channel_info, list_users, user_info, post_message),
        guard=general_probe,
        situations={
            "over-broad": ("chat-digest", "shared-chat-poster"),
            "excessive": ("chat-digest", "shared-chat-file-uploader"),
            "missing": ("shared-chat-poster",),
            "wildcard": ("shared-chat-poster", "chat-digest"),
        },
        dev_wildcard=("chat-digest", "shared-chat-poster"),
    ),
)


# -- YAML emission (by hand: PyYAML's emitter is far slower than we need) -------------------


def _q(value: Any) -> str:
    """A YAML scalar or flow collection; JSON is valid YAML flow syntax."""
    return json.dumps(value)


def _step_yaml(step: Step) -> list[str]:
    lines = [f"      - name: {_q(step['name'])}"]
    if "wait" in step:
        lines.append(f"        wait: {step['wait']}")
    if "expect" in step:
        lines.append(f"        expect: {step['expect']}")
    lines += [
        "        request:",
        f"          method: {step['method']}",
        f"          url: {_q(step['url'])}",
    ]
    if "headers" in step:
        lines.append(f"          headers: {_q(step['headers'])}")
    if "json" in step:
        lines.append(f"          json: {_q(step['json'])}")
    response = step.get("response")
    if response:
        lines.append("        response:")
        lines.append(f"          status: {response['status']}")
        if "headers" in response:
            lines.append(f"          headers: {_q(response['headers'])}")
        if "json" in response:
            lines.append(f"          json: {_q(response['json'])}")
    if step.get("capture"):
        lines.append("        capture:")
        lines += [f"          {name}: {path}" for name, path in step["capture"].items()]
    return lines


def _role_name(connector: str, role: str) -> str:
    return role if role.startswith("shared-") else f"{connector}-{role}"


def _connector_document(index: int, flows: int, calls: int, seed: int) -> tuple[str, int]:
    """The policy document of connector `index`, and the number of steps it holds."""
    archetype = ARCHETYPES[index % len(ARCHETYPES)]
    name = f"c{index:04d}-{archetype.name}"
    rng = random.Random(f"{seed}:{index}")
    ctx = Context(
        index=index, rng=rng, sheet=f"S-{index}", channel=f"C{index:04d}", bucket=f"backups-{index}"
    )
    situation = SITUATIONS[index % len(SITUATIONS)]
    egress = index % 5 == 4
    dev_roles = (
        archetype.dev_wildcard if index % 4 == 2 else tuple(suffix for suffix, _ in archetype.roles)
    )
    prod_roles = archetype.situations.get(situation, tuple(suffix for suffix, _ in archetype.roles))

    out = [
        f"# {name}: synthetic {archetype.name} connector; prod situation: {situation}"
        + ("; dev holds a wildcard role" if index % 4 == 2 else "")
        + ("; one flow calls a host outside allowed_hosts" if egress else ""),
        "connectors:",
        f"  - name: {name}",
        f"    description: {_q(f'Synthetic {archetype.name} connector number {index}')}",
        f"    owner: team-{index % 17}@example.com",
        f"    kind: {archetype.kind}",
        "    credential:",
        f"      type: {archetype.credential}",
        f"      lifetime: {archetype.lifetime}",
        f"      audience: {_q(list(archetype.audience))}",
        "      rotation: 90d",
        f"    allowed_hosts: {_q(list(archetype.allowed_hosts))}",
        "    regions: [eu]",
        "",
        "roles:",
    ]
    for suffix, grants in archetype.roles:
        out += [
            f"  - name: {name}-{suffix}",
            f"    description: {_q(f'{suffix} role of {name}')}",
            f"    owner: team-{index % 17}@example.com",
            "    review_every: 180d",
            "    last_reviewed: 2025-10-01",
            "    grants:",
        ]
        for service, scopes in grants.items():
            filled = [
                s.format(i=index, channel=ctx.channel, bucket=ctx.bucket, sheet=ctx.sheet)
                for s in scopes
            ]
            out.append(f"      {service}: {_q(filled)}")
    out += ["", "bindings:"]
    for env, roles in (("dev", dev_roles), ("prod", prod_roles)):
        out += [
            f"  - connector: {name}",
            f"    env: {env}",
            f"    roles: {_q([_role_name(name, r) for r in roles])}",
        ]
    out += ["", "flows:"]
    steps_written = 0
    for number in range(flows):
        out += [
            f"  - name: {name}-flow-{number + 1}",
            f"    connector: {name}",
            f"    description: {_q(f'Recorded run {number + 1} of {name}')}",
            "    marks: [synthetic]",
            "    vars:",
            f"      sheet: {ctx.sheet}",
            f"      channel: {ctx.channel}",
            f"      bucket: {ctx.bucket}",
            "      contact: c_1",
            "      lead: c_1",
            "    steps:",
        ]
        steps = [archetype.first(ctx)]
        specials: list[Step] = []
        if archetype.guard is not None:
            specials.append(archetype.guard(ctx))
        if egress and number == flows - 1:
            specials.append(
                egress_us_bucket(ctx) if archetype.name == "storage-backup" else egress_webhook(ctx)
            )
        while len(steps) < calls - len(specials):
            steps.append(rng.choice(archetype.steps)(ctx))
        for special in specials:
            steps.insert(rng.randint(1, len(steps)), special)
        for position, step in enumerate(steps[:calls]):
            if position and rng.random() < 0.05:
                step["wait"] = f"{rng.randint(1, 30)}s"
            out += _step_yaml(step)
        steps_written += min(len(steps), calls)
    return "\n".join(out) + "\n", steps_written


def _shared_roles_document() -> str:
    out = [
        "# Shared, broad roles: the building blocks of the synthetic flaws.",
        "roles:",
    ]
    for role, grants in SHARED_ROLES.items():
        out += [
            f"  - name: {role}",
            f"    description: {_q(f'shared role {role}')}",
            "    owner: platform@example.com",
            "    review_every: 90d",
            "    last_reviewed: 2025-12-01",
            "    grants:",
        ]
        out += [f"      {service}: {_q(scopes)}" for service, scopes in grants.items()]
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Generated:
    root: Path
    connectors: int
    bindings: int
    flows: int
    steps: int
    files: int
    bytes: int


def generate_workspace(
    outdir: Path | str,
    connectors: int,
    *,
    flows: int = 5,
    calls: int = 100,
    seed: int = 0,
) -> Generated:
    """Write a synthetic workspace into `outdir` (created; existing scenarios are replaced)."""
    if connectors < 1 or flows < 1 or calls < 2:
        raise ValueError("need at least 1 connector, 1 flow and 2 calls per flow")
    root = Path(outdir)
    root.mkdir(parents=True, exist_ok=True)
    scenarios = root / "scenarios"
    if scenarios.exists():
        shutil.rmtree(scenarios)
    scenarios.mkdir()
    mocks = root / "mocks"
    if mocks.exists():
        shutil.rmtree(mocks)
    shutil.copytree(BUNDLED_MOCKS, mocks)
    (root / "connector-harness.yaml").write_text(
        "# Synthetic workspace written by bench/generate.py\n"
        "mocks: [mocks]\n"
        "scenarios: [scenarios]\n"
        'clock: "2026-01-01T00:00:00Z"\n',
        "utf-8",
    )
    total_bytes = 0
    shared = _shared_roles_document()
    (scenarios / "shared-roles.yaml").write_text(shared, "utf-8")
    total_bytes += len(shared)
    steps = 0
    for index in range(connectors):
        text, written = _connector_document(index, flows, calls, seed)
        archetype = ARCHETYPES[index % len(ARCHETYPES)]
        (scenarios / f"c{index:04d}-{archetype.name}.yaml").write_text(text, "utf-8")
        total_bytes += len(text)
        steps += written
    return Generated(
        root=root,
        connectors=connectors,
        bindings=2 * connectors,
        flows=flows * connectors,
        steps=steps,
        files=connectors + 1,
        bytes=total_bytes,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic connector-harness workspace.")
    parser.add_argument("outdir", type=Path, help="directory to write (created if missing)")
    parser.add_argument("--connectors", type=int, required=True, metavar="N")
    parser.add_argument("--flows", type=int, default=5, help="flows per connector (default 5)")
    parser.add_argument("--calls", type=int, default=100, help="calls per flow (default 100)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    made = generate_workspace(
        args.outdir,
        args.connectors,
        flows=args.flows,
        calls=args.calls,
        seed=args.seed,
    )
    print(
        f"wrote {made.root}: {made.connectors} connectors, {made.bindings} bindings, "
        f"{made.flows} flows, {made.steps} steps ({made.steps * 2} calls to replay), "
        f"{made.files} policy files, {made.bytes / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
