"""Reading an exported n8n workflow: its nodes, their credentials, the order they run in.

An export (`n8n export:workflow`, or "Download" in the editor) is JSON: one workflow
object, or a list of them (`--all` without `--separate`). Each node names its `type`
(`n8n-nodes-base.googleSheets`), `typeVersion`, `parameters` and `credentials`
(`{credentialType: {id, name}}`); `connections` say which node feeds which. Every file
is treated as hostile: sizes are bounded, every field is type-checked, and a bad node is
one skip with its position, never the end of the import.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError, Location
from harness.workspace.source_document import SourceDocument, describe_path, read_document

MAX_WORKFLOW_BYTES = 16 * 1024 * 1024
MAX_NODES = 2_000
MAX_NAME = 200
_TRIGGER_TYPES = frozenset(
    {
        "n8n-nodes-base.start",
        "n8n-nodes-base.webhook",
        "n8n-nodes-base.cron",
        "n8n-nodes-base.interval",
    }
)


@dataclass(frozen=True, slots=True)
class CredentialRef:
    """A credential a node uses, as the export names it (never its secret data)."""

    type: str
    id: str
    name: str

    @property
    def key(self) -> str:
        """What identifies the credential across exports: its id, else its type and name."""
        return self.id or f"{self.type}:{self.name}"


@dataclass(frozen=True, slots=True)
class WorkflowNode:
    name: str
    type: str
    type_version: float
    parameters: dict[str, Any]
    credentials: tuple[CredentialRef, ...]
    disabled: bool
    position: tuple[float, float]
    location: Location
    raw_id: str = ""

    def as_runner_node(self) -> dict[str, Any]:
        """The node as the runner gets it: what n8n's engine hands node code."""
        return {
            "id": self.raw_id,
            "name": self.name,
            "type": self.type,
            "typeVersion": self.type_version,
            "parameters": self.parameters,
            "credentials": {c.type: {"id": c.id, "name": c.name} for c in self.credentials},
        }


@dataclass(frozen=True, slots=True)
class Skip:
    """A part of the export that could not be read: where, what, and what to do."""

    location: Location
    node: str  # the node's name, or "" for the workflow itself
    problem: str
    fix: str = ""

    def render(self) -> str:
        what = f"node {self.node!r}: " if self.node else ""
        return f"{self.location}: {what}{self.problem}" + (f"; {self.fix}" if self.fix else "")


@dataclass(frozen=True, slots=True)
class Workflow:
    """One workflow of an export, its nodes in the order n8n runs them."""

    source: str  # the file as shown in messages
    id: str
    name: str
    nodes: tuple[WorkflowNode, ...]  # in run order; nodes no trigger reaches come last
    unreached: tuple[str, ...]  # names of nodes no trigger reaches
    location: Location
    skipped: tuple[Skip, ...] = ()

    @property
    def label(self) -> str:
        return self.name or self.id or Path(self.source).stem


def read_workflows(path: Path, shown: str | None = None) -> list[Workflow]:
    """The workflows of one export file; InputError when it is no workflow export at all."""
    document = _read(path, shown or str(path))
    data = document.data
    if isinstance(data, list) and data and _is_credentials(data):
        raise _credentials_export(document)
    if isinstance(data, list):
        workflows = [
            _workflow(document, item, (index,)) for index, item in enumerate(data) if _looks(item)
        ]
        if not workflows:
            raise _not_a_workflow(document, "a list with no workflow in it")
        return workflows
    if not _looks(data):
        if _is_credentials(data):
            raise _credentials_export(document)
        raise _not_a_workflow(document, _kind(data))
    return [_workflow(document, data, ())]


def _read(path: Path, shown: str) -> SourceDocument:
    """The export as JSON. A syntax error names its position only: an export may hold a
    token typed into a parameter, and no text of the file is echoed."""
    if path.suffix.lower() in (".yaml", ".yml"):
        return read_document(path, name=shown, max_bytes=MAX_WORKFLOW_BYTES)
    try:
        return read_document(path, name=shown, max_bytes=MAX_WORKFLOW_BYTES)
    except InputError as error:
        if "JSON" not in error.problem:
            raise
        raise InputError(
            error.location,
            error.problem.split(" (")[0],
            "export the workflow again from n8n; the file is not complete, valid JSON",
        ) from None


def _credentials_export(document: SourceDocument) -> InputError:
    return InputError(
        document.location(),
        "this is not an n8n workflow export: it is a credentials export",
        "pass it with --credentials (its scopes are read, its secrets never), "
        "and the workflows that use it as arguments",
    )


def _looks(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("nodes"), list)


def _is_credentials(data: Any) -> bool:
    items = data if isinstance(data, list) else [data]
    return bool(items) and all(isinstance(i, dict) and "type" in i and "data" in i for i in items)


def _kind(data: Any) -> str:
    if isinstance(data, dict):
        keys = ", ".join(sorted(str(k) for k in list(data)[:6]))
        return f"an object with {keys or 'no keys'} but no `nodes` list"
    return f"a JSON {type(data).__name__.replace('str', 'string').replace('NoneType', 'null')}"


def _not_a_workflow(document: SourceDocument, what: str) -> InputError:
    return InputError(
        document.location(),
        f"this is not an n8n workflow export: it is {what}",
        "export the workflow from n8n (`n8n export:workflow --id=ID --output=FILE`, or "
        "Download in the editor); an export is an object with `nodes` and `connections`",
    )


def _text(value: Any, limit: int = MAX_NAME) -> str | None:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        text = str(value)
        return text if len(text) <= limit else None
    return None


def _workflow(
    document: SourceDocument, data: dict[str, Any], base: tuple[str | int, ...]
) -> Workflow:
    where = document.location(base)
    skipped: list[Skip] = []
    raw_nodes: list[Any] = data["nodes"]
    if len(raw_nodes) > MAX_NODES:
        skipped.append(
            Skip(
                where,
                "",
                f"the workflow has {len(raw_nodes)} nodes; only the first {MAX_NODES} are read",
            )
        )
        raw_nodes = raw_nodes[:MAX_NODES]
    nodes: dict[str, WorkflowNode] = {}
    for index, raw in enumerate(raw_nodes):
        node_path = (*base, "nodes", index)
        node = _node(document, raw, node_path, skipped)
        if node is None:
            continue
        if node.name in nodes:
            skipped.append(
                Skip(
                    node.location,
                    node.name,
                    "a second node with this name (n8n requires unique names); it is left out",
                )
            )
            continue
        nodes[node.name] = node
    name = _text(data.get("name")) or ""
    workflow_id = _text(data.get("id"), 100) or ""
    settings = data.get("settings") if isinstance(data.get("settings"), dict) else {}
    order = str(settings.get("executionOrder", "v1")) if settings else "v1"
    edges = _edges(data.get("connections"), nodes, document, base, skipped)
    ordered, unreached = run_order(nodes, edges, breadth_first=order == "v0")
    return Workflow(
        source=document.name,
        id=workflow_id,
        name=name,
        nodes=tuple(nodes[n] for n in ordered),
        unreached=tuple(unreached),
        location=where,
        skipped=tuple(skipped),
    )


def _node(
    document: SourceDocument, raw: Any, path: tuple[str | int, ...], skipped: list[Skip]
) -> WorkflowNode | None:
    where = document.location(path)
    if not isinstance(raw, dict):
        skipped.append(
            Skip(where, "", f"{describe_path(path)} is not a node object; it is left out")
        )
        return None
    name = _text(raw.get("name"))
    node_type = _text(raw.get("type"))
    if not name or not node_type:
        skipped.append(
            Skip(
                where,
                name or "",
                "the node has no `name` or `type` string; it is left out",
                "export the workflow again from n8n",
            )
        )
        return None
    version = raw.get("typeVersion", 1)
    if isinstance(version, bool) or not isinstance(version, (int, float)):
        skipped.append(Skip(where, name, "`typeVersion` is not a number; it is left out"))
        return None
    parameters = raw.get("parameters", {})
    if not isinstance(parameters, dict):
        skipped.append(Skip(where, name, "`parameters` is not an object; it is left out"))
        return None
    credentials: list[CredentialRef] = []
    raw_credentials = raw.get("credentials", {})
    if not isinstance(raw_credentials, dict):
        skipped.append(
            Skip(where, name, "`credentials` is not an object; the node's credentials are ignored")
        )
        raw_credentials = {}
    for credential_type, reference in raw_credentials.items():
        if not isinstance(reference, dict) or _text(credential_type) is None:
            skipped.append(
                Skip(
                    where,
                    name,
                    f"credential {str(credential_type)[:60]!r} is not an object with an id and a name",
                )
            )
            continue
        credentials.append(
            CredentialRef(
                type=str(credential_type),
                id=_text(reference.get("id"), 100) or "",
                name=_text(reference.get("name")) or "",
            )
        )
    position = raw.get("position")
    x, y = 0.0, 0.0
    if (
        isinstance(position, list)
        and len(position) == 2
        and all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in position)
    ):
        x, y = float(position[0]), float(position[1])
    return WorkflowNode(
        name=name,
        type=node_type,
        type_version=float(version) if not float(version).is_integer() else int(version),
        parameters=parameters,
        credentials=tuple(credentials),
        disabled=raw.get("disabled") is True,
        position=(x, y),
        location=where,
        raw_id=_text(raw.get("id"), 100) or "",
    )


def _edges(
    connections: Any,
    nodes: dict[str, WorkflowNode],
    document: SourceDocument,
    base: tuple[str | int, ...],
    skipped: list[Skip],
) -> dict[str, list[list[str]]]:
    """source -> its outputs, each the list of nodes it feeds (main connections first)."""
    edges: dict[str, list[list[str]]] = {}
    if connections is None:
        return edges
    if not isinstance(connections, dict):
        skipped.append(
            Skip(
                document.location((*base, "connections")),
                "",
                "`connections` is not an object; nodes run in canvas order",
            )
        )
        return edges
    for source, kinds in connections.items():
        if source not in nodes or not isinstance(kinds, dict):
            continue
        outputs: list[list[str]] = []
        for kind in sorted(kinds, key=lambda k: (k != "main", str(k))):
            groups = kinds[kind]
            if not isinstance(groups, list):
                continue
            for group in groups:
                targets = []
                for link in group if isinstance(group, list) else []:
                    target = link.get("node") if isinstance(link, dict) else None
                    if isinstance(target, str) and target in nodes:
                        targets.append(target)
                outputs.append(targets)
        edges[source] = outputs
    return edges


def _canvas(node: WorkflowNode) -> tuple[float, float, str]:
    return (node.position[1], node.position[0], node.name)


def _is_trigger(node: WorkflowNode) -> bool:
    return node.type in _TRIGGER_TYPES or "trigger" in node.type.rsplit(".", 1)[-1].lower()


def run_order(
    nodes: dict[str, WorkflowNode],
    edges: dict[str, list[list[str]]],
    *,
    breadth_first: bool = False,
) -> tuple[list[str], list[str]]:
    """The order n8n runs the nodes in, and the nodes no trigger reaches (appended last).

    n8n's v1 order runs one branch to its end before the next (depth first), branches
    of one output top to bottom on the canvas; the legacy v0 order goes breadth first.
    """
    fed = {target for outputs in edges.values() for group in outputs for target in group}
    starts = [n for n in nodes.values() if n.name not in fed and _is_trigger(n)]
    if not starts:
        starts = [n for n in nodes.values() if n.name not in fed]
    starts.sort(key=_canvas)
    seen: set[str] = set()
    order: list[str] = []

    def children(name: str) -> Iterable[str]:
        for group in edges.get(name, []):
            yield from sorted(group, key=lambda target: _canvas(nodes[target]))

    for start in starts:
        if start.name in seen:
            continue
        if breadth_first:
            waiting = deque([start.name])
            seen.add(start.name)
            while waiting:
                current = waiting.popleft()
                order.append(current)
                for child in children(current):
                    if child not in seen:
                        seen.add(child)
                        waiting.append(child)
        else:
            stack = [start.name]
            while stack:
                current = stack.pop()
                if current in seen:
                    continue
                seen.add(current)
                order.append(current)
                stack.extend(reversed([c for c in children(current) if c not in seen]))
    unreached = sorted((n for n in nodes.values() if n.name not in seen), key=_canvas)
    return order + [n.name for n in unreached], [n.name for n in unreached]
