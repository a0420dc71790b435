from __future__ import annotations

from workspaces import HOST, build, policy, service

from harness.routing import Router, split_url


def _router() -> Router:
    operations = [
        {"id": "items.list", "method": "GET", "path": "/items", "requires": "svc.read"},
        {"id": "items.get", "method": "GET", "path": "/items/{item}", "requires": "svc.read"},
        {"id": "items.search", "method": "GET", "path": "/items/search", "requires": "svc.read"},
        {
            "id": "values.append",
            "method": "POST",
            "path": "/sheets/{sheet}/values/{range}:append",
            "requires": "svc.write",
        },
    ]
    workspace = build([service(operations=operations)], [policy(["svc.read"], [("GET", "/items")])])
    return Router(workspace.services)


def test_literal_paths_win_over_templates() -> None:
    router = _router()
    route = router.route("GET", HOST, "/items/search")
    assert route is not None
    assert route.operation.id == "items.search"
    route = router.route("GET", HOST, "/items/42")
    assert route is not None
    assert (route.operation.id, route.params) == ("items.get", {"item": "42"})


def test_parameters_are_unquoted_and_a_trailing_slash_is_accepted() -> None:
    route = _router().route("POST", HOST, "/sheets/S1/values/A1%3AB2:append")
    assert route is not None
    assert route.params == {"sheet": "S1", "range": "A1:B2"}
    route = _router().route("GET", HOST, "/items/")
    assert route is not None
    assert route.operation.id == "items.list"


def test_a_plus_parameter_spans_segments_and_matches_after_one_segment_ones() -> None:
    operations = [
        {"id": "files.get", "method": "GET", "path": "/files/{+path}", "requires": "svc.read"},
        {
            "id": "files.meta",
            "method": "GET",
            "path": "/files/{+path}/meta",
            "requires": "svc.read",
        },
        {"id": "items.get", "method": "GET", "path": "/files/{item}", "requires": "svc.read"},
    ]
    workspace = build(
        [service(operations=operations)], [policy(["svc.read"], [("GET", "/files/a/b")])]
    )
    router = Router(workspace.services)

    def routed(path: str) -> tuple[str, dict[str, str]]:
        route = router.route("GET", HOST, path)
        assert route is not None, path
        return route.operation.id, route.params

    assert routed("/files/docs/guide/intro.md") == ("files.get", {"path": "docs/guide/intro.md"})
    assert routed("/files/docs/intro.md/meta") == ("files.meta", {"path": "docs/intro.md"})
    assert routed("/files/readme") == ("items.get", {"item": "readme"})  # one segment wins
    # an encoded slash routes and logs like a plain one inside the parameter
    assert routed("/files/docs%2Fintro.md") == ("items.get", {"item": "docs/intro.md"})


def test_unknown_method_path_or_host_has_no_route() -> None:
    router = _router()
    assert router.route("DELETE", HOST, "/items") is None
    assert router.route("GET", HOST, "/things") is None
    assert router.route("GET", "other.example", "/items") is None
    assert not router.knows_host("other.example")


def test_split_url_drops_default_ports_and_lowercases_hosts() -> None:
    assert split_url("https://API.Svc.example:443/a?b=1") == ("api.svc.example", "/a", "b=1")
    assert split_url("http://localhost:8080") == ("localhost:8080", "/", "")


def test_paths_are_canonically_encoded_so_every_client_routes_alike() -> None:
    raw = split_url("https://x.example/a/<secret-1>/b")
    encoded = split_url("https://x.example/a/%3Csecret-1%3E/b")
    assert raw == encoded == ("x.example", "/a/%3Csecret-1%3E/b", "")
    assert split_url("https://x/v/Ledger%21A1%3AF500")[1] == "/v/Ledger!A1:F500"
    assert (
        split_url("https://x/v/a%2Fb%20c")[1] == "/v/a%2Fb%20c"
    )  # an encoded slash stays one segment
