"""Synthetic n8n workflow exports for the import benchmark (bench/n8n.py).

Each workflow is a trigger followed by service nodes of the most used n8n integrations,
their parameters filled from n8n's own node descriptions (the fetched n8n-nodes-base):
the resource and operation chosen, every required parameter that the choice displays
given a plausible value, about one in three as an expression on the input item. So the
generated exports look like real ones without copying any, and exercise node code the
examples do not.

    python bench/n8n_generate.py OUTDIR --workflows 300 --nodes 10 [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
from pathlib import Path
from typing import Any

from harness.n8n.packages import ensure_packages

# node type -> (resource, operation) preferred; None: the description's defaults
SERVICE_NODES: dict[str, tuple[str | None, str | None]] = {
    "airtable": ("record", "create"),
    "asana": ("task", "create"),
    "box": ("file", "get"),
    "clickUp": ("task", "create"),
    "discord": ("message", "send"),
    "dropbox": ("file", "download"),
    "github": ("issue", "create"),
    "gitlab": ("issue", "create"),
    "gmail": ("message", "send"),
    "googleCalendar": ("event", "create"),
    "googleDocs": ("document", "get"),
    "googleDrive": ("file", "download"),
    "googleSheets": ("sheet", "append"),
    "googleTasks": ("task", "create"),
    "hubspot": ("contact", "upsert"),
    "jira": ("issue", "create"),
    "linear": ("issue", "create"),
    "mailchimp": ("member", "create"),
    "mattermost": ("message", "post"),
    "microsoftExcel": ("worksheet", "getAll"),
    "microsoftOneDrive": ("file", "get"),
    "microsoftOutlook": ("message", "send"),
    "microsoftTeams": ("channelMessage", "create"),
    "microsoftToDo": ("task", "create"),
    "mondayCom": ("boardItem", "create"),
    "notion": ("page", "create"),
    "salesforce": ("lead", "create"),
    "sendGrid": ("mail", "send"),
    "shopify": ("order", "get"),
    "slack": ("message", "post"),
    "stripe": ("customer", "create"),
    "telegram": ("message", "sendMessage"),
    "todoist": ("task", "create"),
    "trello": ("card", "create"),
    "twilio": ("sms", "send"),
    "webflow": ("item", "create"),
    "wordpress": ("post", "create"),
    "youTube": ("playlist", "create"),
    "zendesk": ("ticket", "create"),
    "zoom": ("meeting", "create"),
}
TRIGGERS = (
    "n8n-nodes-base.webhook",
    "n8n-nodes-base.scheduleTrigger",
    "n8n-nodes-base.manualTrigger",
)
CREDENTIALS_PER_TYPE = 3  # credentials shared between workflows, as in one n8n instance


def _descriptions() -> dict[str, dict[str, Any]]:
    """The latest description of each node type of the fetched n8n-nodes-base."""
    data = json.loads(
        (ensure_packages() / "n8n-nodes-base" / "dist" / "types" / "nodes.json").read_text("utf-8")
    )
    latest: dict[str, tuple[float, dict[str, Any]]] = {}
    for description in data:
        versions = (
            description["version"]
            if isinstance(description["version"], list)
            else [description["version"]]
        )
        version = max(float(v) for v in versions)
        if description["name"] not in latest or version > latest[description["name"]][0]:
            latest[description["name"]] = (version, description)
    return {name: {**d, "_version": v} for name, (v, d) in latest.items()}


def _shown(prop: dict[str, Any], values: dict[str, Any]) -> bool:
    options = prop.get("displayOptions") or {}
    for key, wanted in (options.get("show") or {}).items():
        if key.startswith("@") or key.startswith("/"):
            continue
        if values.get(key) not in wanted:
            return False
    for key, unwanted in (options.get("hide") or {}).items():
        if not key.startswith(("@", "/")) and values.get(key) in unwanted:
            return False
    return True


def _value(prop: dict[str, Any], rng: random.Random) -> Any:
    kind = prop.get("type")
    name = prop["name"]
    dynamic = rng.random() < 0.35
    if kind == "options":
        choices = [o["value"] for o in prop.get("options", []) if "value" in o]
        return (
            prop.get("default")
            if prop.get("default") not in (None, "")
            else (choices[0] if choices else "")
        )
    if kind == "number":
        return 1
    if kind == "boolean":
        return bool(prop.get("default", False))
    if kind == "resourceLocator":
        modes = [m["name"] for m in prop.get("modes", [])]
        mode = (
            "list"
            if "list" in modes
            else ("id" if "id" in modes else (modes[-1] if modes else "id"))
        )
        value = f"={{{{ $json.{name} }}}}" if dynamic else f"{name}-{rng.randrange(1000, 9999)}"
        return {"__rl": True, "mode": mode, "value": value}
    if kind in ("collection", "fixedCollection"):
        return {}
    if kind == "json":
        return "{}"
    if kind == "multiOptions":
        choices = [o["value"] for o in prop.get("options", []) if "value" in o]
        return choices[:1]
    if kind == "dateTime":
        return "2026-01-01T09:00:00"
    if "mail" in name.lower() or name in ("to", "sendTo", "toRecipients"):
        return "={{ $json.email }}" if dynamic else "team@example.com"
    return f"={{{{ $json.{name} }}}}" if dynamic else f"example {name}"


def _parameters(
    description: dict[str, Any], wanted: tuple[str | None, str | None], rng: random.Random
) -> dict[str, Any]:
    resource, operation = wanted
    values: dict[str, Any] = {}
    properties = description.get("properties", [])
    for prop in properties:
        options = [o.get("value") for o in prop.get("options", [])]
        if prop["name"] == "resource" and resource is not None and resource in options:
            values["resource"] = resource
    defaults = _defaults(description)
    for prop in properties:
        if prop["name"] == "operation" and _shown(prop, {**defaults, **values}):
            choices = [o.get("value") for o in prop.get("options", []) if o.get("value")]
            if rng.random() < 0.5 and choices:  # half the time another operation of the resource
                values["operation"] = rng.choice(choices)
            else:
                values["operation"] = operation if operation in choices else prop.get("default")
            break
    for prop in properties:
        if (
            prop["name"] in values
            or not prop.get("required")
            or not _shown(prop, {**defaults, **values})
        ):
            continue
        default = prop.get("default")
        if default not in (None, "", {}, []) and prop.get("type") != "resourceLocator":
            continue
        if isinstance(default, dict) and default.get("value") not in (None, ""):
            continue
        values[prop["name"]] = _value(prop, rng)
    return values


def _credential(
    description: dict[str, Any], parameters: dict[str, Any], rng: random.Random
) -> dict[str, Any]:
    for credential in description.get("credentials", []):
        if _shown(credential, {**_defaults(description), **parameters}):
            number = rng.randrange(CREDENTIALS_PER_TYPE) + 1
            return {
                credential["name"]: {
                    "id": f"{credential['name'][:10]}{number:06d}",
                    "name": f"{description['displayName']} account {number}",
                }
            }
    return {}


def _defaults(description: dict[str, Any]) -> dict[str, Any]:
    return {
        p["name"]: p.get("default") for p in description.get("properties", []) if "default" in p
    }


def generate_workflows(outdir: Path, workflows: int, nodes: int = 10, seed: int = 0) -> list[Path]:
    """Write `workflows` exports of a trigger and `nodes` service nodes into `outdir`."""
    rng = random.Random(seed)
    descriptions = _descriptions()
    available = [name for name in SERVICE_NODES if name in descriptions]
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for number in range(workflows):
        trigger = rng.choice(TRIGGERS)
        entries = [
            {
                "parameters": {},
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "name": "Start",
                "type": trigger,
                "typeVersion": 1,
                "position": [0, 0],
            }
        ]
        previous = "Start"
        connections: dict[str, Any] = {}
        for index in range(nodes):
            name = rng.choice(available)
            description = descriptions[name]
            parameters = _parameters(description, SERVICE_NODES[name], rng)
            node_name = f"{description['displayName']} {index + 1}"
            version = description["_version"]
            entries.append(
                {
                    "parameters": parameters,
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "name": node_name,
                    "type": f"n8n-nodes-base.{name}",
                    "typeVersion": int(version) if version.is_integer() else version,
                    "position": [220 * (index + 1), 0],
                    "credentials": _credential(description, parameters, rng),
                }
            )
            connections[previous] = {"main": [[{"node": node_name, "type": "main", "index": 0}]]}
            previous = node_name
        export = {
            "name": f"Generated workflow {number + 1}",
            "id": f"bench{number:011d}",
            "nodes": entries,
            "connections": connections,
            "settings": {"executionOrder": "v1"},
        }
        path = outdir / f"workflow-{number + 1:04d}.n8n.json"
        path.write_text(json.dumps(export, indent=1), "utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--workflows", type=int, default=300)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    paths = generate_workflows(args.outdir, args.workflows, args.nodes, args.seed)
    print(f"wrote {len(paths)} workflows to {args.outdir}")


if __name__ == "__main__":
    main()
