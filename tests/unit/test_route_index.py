"""The route index: real request shapes route to their operation, however large the service."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from workspaces import build

from harness.route_index import FEW_TEMPLATES, RouteIndex
from harness.routing import Router, split_url

GRAPH = "graph.example"


def _service(operations: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "service": "svc",
        "hosts": [GRAPH],
        "scopes": {"read": None, "write": None},
        "operations": operations,
        **extra,
    }


def _op(op_id: str, path: str, method: Any = "GET") -> dict[str, Any]:
    return {"id": op_id, "method": method, "path": path, "requires": "read"}


def _route(router: Router, method: str, url: str) -> tuple[str, dict[str, str]] | None:
    host, path, _ = split_url(url)
    found = router.route(method, host, path)
    return None if found is None else (found.operation.id, found.params)


GRAPH_ROUTING = {
    "case_insensitive": True,
    "base_paths": ["/v1.0", "/beta"],
    "key_segments": True,
    "aliases": [["/me", "/users/{id}"]],
}


def _graph_router() -> Router:
    operations = [
        _op("me.messages", "/me/messages"),
        _op("user.messages.get", "/users/{id}/messages/{id_2}"),
        _op("user.events", "/users/{id}/events"),
        _op("folder.messages", "/me/mailfolders/{id}/messages"),
        _op("item.content", "/me/drive/root:/{+id}:/content"),
        _op("item", "/me/drive/root:/{+id}"),
        _op("range", "/me/drive/items/{id}/workbook/worksheets/{id_2}/range(address={value})"),
        _op("authority", "/devicemanagement/cloudcertificationauthority({id})", "POST"),
    ]
    workspace = build([_service(operations, routing=GRAPH_ROUTING)], [])
    return Router(workspace.services)


def test_graph_urls_route_whatever_their_case_version_and_key_form() -> None:
    router = _graph_router()
    base = f"https://{GRAPH}"
    assert _route(router, "GET", f"{base}/v1.0/me/messages?$select=subject&$top=10") == (
        "me.messages",
        {},
    )
    assert _route(router, "GET", f"{base}/beta/Me/Messages") == ("me.messages", {})
    assert _route(router, "GET", f"{base}/v1.0/users/ada@contoso.com/messages/AAMk=") == (
        "user.messages.get",
        {"id": "ada@contoso.com", "id_2": "AAMk="},
    )
    assert _route(router, "GET", f"{base}/v1.0/me/mailFolders('Inbox')/messages") == (
        "folder.messages",
        {"id": "Inbox"},
    )
    assert _route(router, "GET", f"{base}/me/messages") is None  # no version: not Graph


def test_an_alias_prefix_routes_when_only_its_twin_is_listed() -> None:
    router = _graph_router()
    assert _route(router, "GET", f"https://{GRAPH}/v1.0/me/events")[0] == "user.events"  # type: ignore[index]
    assert _route(router, "GET", f"https://{GRAPH}/v1.0/users/u1/messages")[0] == "me.messages"  # type: ignore[index]


def test_a_path_addressed_item_spans_segments_and_the_longer_template_wins() -> None:
    router = _graph_router()
    url = f"https://{GRAPH}/v1.0/me/drive/root:/Reports/2026/q1.xlsx:/content"
    assert _route(router, "GET", url) == ("item.content", {"id": "Reports/2026/q1.xlsx"})
    url = f"https://{GRAPH}/v1.0/me/drive/root:/Reports/q1.xlsx"
    assert _route(router, "GET", url) == ("item", {"id": "Reports/q1.xlsx"})


def test_function_parameters_and_parenthesised_keys_that_are_templates_route() -> None:
    router = _graph_router()
    url = (
        f"https://{GRAPH}/v1.0/me/drive/items/I1/workbook/worksheets/Sheet1/range(address='A1:B2')"
    )
    assert _route(router, "GET", url) == (
        "range",
        {"id": "I1", "id_2": "Sheet1", "value": "'A1:B2'"},
    )
    url = f"https://{GRAPH}/v1.0/deviceManagement/cloudCertificationAuthority(ca-1)"
    assert _route(router, "POST", url) == ("authority", {"id": "ca-1"})


def test_an_operation_answers_every_method_it_lists() -> None:
    workspace = build(
        [_service([_op("chat.postMessage", "/api/chat.postMessage", ["POST", "GET"])])], []
    )
    router = Router(workspace.services)
    for method in ("GET", "POST"):
        assert _route(router, method, f"https://{GRAPH}/api/chat.postMessage") == (
            "chat.postMessage",
            {},
        )
    assert _route(router, "PUT", f"https://{GRAPH}/api/chat.postMessage") is None


def test_the_nearest_operations_name_what_a_misspelled_call_meant() -> None:
    operations = [_op(f"op{n}", f"/api/thing{n}.list") for n in range(30)]
    operations.append(_op("chat.postMessage", "/api/chat.postMessage", "POST"))
    router = Router(build([_service(operations)], []).services)
    nearest = router.nearest("POST", GRAPH, "/api/chat.postMesage")
    assert nearest[0].id == "chat.postMessage"
    assert len(nearest) == 3


# -- the segment tree decides as the list of regular expressions does -----------------------

_SEGMENT = st.sampled_from(["a", "b", "items", "{x}", "{y}:run", "v({z})"])


@settings(max_examples=60, deadline=None)
@given(
    templates=st.lists(st.lists(_SEGMENT, min_size=1, max_size=4), min_size=1, max_size=12),
    paths=st.lists(
        st.lists(st.sampled_from(["a", "b", "items", "7", "k:run", "v(9)", ""]), max_size=4),
        min_size=1,
        max_size=10,
    ),
)
def test_the_segment_tree_and_the_regex_list_route_alike(
    templates: list[list[str]], paths: list[list[str]]
) -> None:
    operations, seen = [], set()
    for index, segments in enumerate(templates):
        names = iter(["p0", "p1", "p2", "p3"])

        def rename(_: re.Match[str], names: Any = names) -> str:
            return "{" + next(names) + "}"

        path = "/" + "/".join(re.sub(r"\{[a-z]\}", rename, segment) for segment in segments)
        shape = re.sub(r"\{[^}]*\}", "{}", path)
        if shape in seen:
            continue
        seen.add(shape)
        operations.append(_op(f"op{index}", path))
    service = build([_service(operations)], []).services[0]
    small = RouteIndex(service)  # at most 12 templates: the list of regular expressions
    padding = [_op(f"pad{n}", f"/zz{n}/{{q}}") for n in range(FEW_TEMPLATES + 1)]
    large = RouteIndex(build([_service([*operations, *padding])], []).services[0])
    for segments in paths:
        path = "/" + "/".join(segments)
        by_list = small.match("GET", path)
        by_tree = large.match("GET", path)
        assert (by_list and (by_list.operation.id, by_list.params)) == (
            by_tree and (by_tree.operation.id, by_tree.params)
        ), path
