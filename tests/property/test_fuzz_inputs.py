"""Fuzzing what the harness reads: the workspace loader and every importer get documents
shaped like their input but filled with arbitrary values, and arbitrary JSON besides.

The only exceptions allowed are the documented ones (HarnessError and its subclasses:
InputError, InputErrors, UsageError): anything else is a crash the CLI would report as an
internal error. `make test` runs FUZZ_EXAMPLES examples per target (a quick pass,
derandomized so that a run is repeatable); `make fuzz` runs 10,000 in total with a fresh
seed (docs/security.md).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import HarnessError
from harness.importers.discovery import import_discovery
from harness.importers.github import import_github
from harness.importers.har import har_calls
from harness.importers.msgraph import import_msgraph
from harness.importers.openapi import import_openapi
from harness.importers.spec import ImportSettings, render_service
from harness.importers.traffic import import_calls, render_flow
from harness.importers.vcr import vcr_calls
from harness.n8n.workflow import read_workflows
from harness.workspace.loader import load_workspace
from harness.workspace.source_document import read_document

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
TARGETS = 8  # the tests below: 10,000 examples in all under `make fuzz`
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- values -------------------------------------------------------------------------------

TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "\n",
            "1h\n",
            "GET",
            "https://api.crm.example/v1/contacts",
            "https://u:p@api.crm.example/v1/contacts?key=x\nbindings: []",
            "{+a}{+b}",
            "../../../etc/passwd",
            "xoxb-1111111111-2222222222-abcdefghij",
            "9" * 5000,
            "\x00",
            "\u2028",
        ]
    ),
)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON = st.recursive(
    SCALAR,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The strategy's value, or any JSON value in its place."""
    return st.one_of(strategy, JSON)


def shaped(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A mapping with some of `fields`, each filled with its own shape or any JSON."""
    return st.fixed_dictionaries({}, optional={k: maybe(v) for k, v in fields.items()})


# -- documents shaped like each input ---------------------------------------------------------

METHOD = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "get", "BREW"])
URL = st.one_of(
    st.sampled_from(
        [
            "https://api.crm.example/v1/contacts",
            "https://api.crm.example/v1/contacts?limit=1&key=secret",
            "https://user:pw@api.crm.example/v1/contacts",
            "https://elsewhere.example/x",
            "ftp://api.crm.example/",
            "https://[::1/x",
            "https://api.crm.example:99999/",
        ]
    ),
    TEXT,
)
HEADERS = st.lists(shaped(name=TEXT, value=TEXT), max_size=3)
HAR = shaped(
    log=shaped(
        entries=st.lists(
            shaped(
                request=shaped(
                    method=METHOD,
                    url=URL,
                    headers=HEADERS,
                    postData=shaped(
                        text=TEXT,
                        encoding=st.just("base64"),
                        params=st.lists(shaped(name=TEXT, value=TEXT), max_size=3),
                        size=st.integers(),
                    ),
                ),
                response=shaped(
                    status=st.integers(min_value=-1, max_value=600),
                    headers=HEADERS,
                    content=shaped(text=TEXT, encoding=st.just("base64")),
                ),
            ),
            max_size=4,
        )
    )
)
VCR = shaped(
    version=st.just(1),
    interactions=st.lists(
        shaped(
            request=shaped(
                method=METHOD,
                uri=URL,
                body=st.one_of(TEXT, shaped(string=TEXT)),
                headers=st.dictionaries(TEXT, st.lists(TEXT, max_size=2), max_size=3),
            ),
            response=shaped(
                status=st.one_of(st.integers(), shaped(code=st.integers(100, 599))),
                headers=st.dictionaries(
                    st.sampled_from(["Content-Encoding", "Content-Type", "X"]),
                    st.lists(st.sampled_from(["gzip", "deflate", "br", "json"]), max_size=2),
                ),
                body=shaped(string=st.one_of(TEXT, st.binary(max_size=40))),
            ),
        ),
        max_size=4,
    ),
)
SCOPES = st.dictionaries(TEXT, TEXT, max_size=3)
OPERATION = shaped(
    operationId=TEXT,
    security=st.lists(st.dictionaries(TEXT, st.lists(TEXT, max_size=2), max_size=2), max_size=2),
    parameters=st.lists(shaped(name=TEXT, **{"in": st.just("path")}), max_size=2),
)
OPENAPI = shaped(
    openapi=st.sampled_from(["3.0.0", "3.1.0"]),
    swagger=st.just("2.0"),
    info=shaped(title=TEXT, version=TEXT),
    host=TEXT,
    servers=st.lists(shaped(url=URL), max_size=2),
    securityDefinitions=st.dictionaries(
        TEXT, shaped(type=st.just("oauth2"), scopes=SCOPES), max_size=2
    ),
    components=shaped(
        securitySchemes=st.dictionaries(
            TEXT,
            shaped(type=st.just("oauth2"), flows=st.dictionaries(TEXT, shaped(scopes=SCOPES))),
            max_size=2,
        )
    ),
    paths=st.dictionaries(
        st.one_of(st.sampled_from(["/items", "/items/{id}", "/x/{+p}", "/{a}{b}"]), TEXT),
        st.dictionaries(st.sampled_from(["get", "post", "parameters", "x"]), OPERATION),
        max_size=3,
    ),
    security=st.lists(st.dictionaries(TEXT, st.lists(TEXT, max_size=2)), max_size=2),
)
DISCOVERY_METHOD = shaped(
    id=TEXT, httpMethod=METHOD, path=TEXT, flatPath=TEXT, scopes=st.lists(TEXT, max_size=3)
)
DISCOVERY = shaped(
    kind=st.just("discovery#restDescription"),
    name=TEXT,
    title=TEXT,
    rootUrl=URL,
    servicePath=TEXT,
    auth=shaped(oauth2=shaped(scopes=st.dictionaries(TEXT, shaped(description=TEXT)))),
    resources=st.dictionaries(
        TEXT,
        shaped(
            methods=st.dictionaries(TEXT, DISCOVERY_METHOD, max_size=2),
            resources=st.dictionaries(
                TEXT, shaped(methods=st.dictionaries(TEXT, DISCOVERY_METHOD, max_size=2))
            ),
        ),
        max_size=2,
    ),
    methods=st.dictionaries(TEXT, DISCOVERY_METHOD, max_size=2),
)
GITHUB = shaped(
    openapi=st.just("3.0.3"),
    info=shaped(title=TEXT, version=TEXT),
    servers=st.lists(shaped(url=URL), max_size=1),
    paths=st.dictionaries(
        st.sampled_from(["/repos/{owner}/{repo}/issues", "/user", "/orgs/{org}"]),
        st.dictionaries(
            st.sampled_from(["get", "post"]),
            shaped(
                operationId=TEXT,
                **{
                    "x-github": shaped(
                        permissions=st.dictionaries(
                            TEXT, st.sampled_from(["read", "write", "admin", "x"])
                        )
                    )
                },
            ),
        ),
        max_size=3,
    ),
)
GRAPH = st.one_of(
    st.dictionaries(
        st.sampled_from(["/me", "/users/{id}", "/me/messages", "/x"]),
        st.dictionaries(
            st.sampled_from(["GET", "POST", "get"]),
            st.dictionaries(
                st.sampled_from(["DelegatedWork", "Application", "DelegatedPersonal"]),
                st.dictionaries(
                    st.sampled_from(["least", "higher", "Least", "Higher"]),
                    st.lists(TEXT, max_size=2),
                ),
            ),
        ),
        max_size=3,
    ),
    shaped(
        permissions=st.dictionaries(
            TEXT,
            shaped(
                schemes=st.dictionaries(
                    st.sampled_from(["DelegatedWork", "Application"]),
                    shaped(requiresAdminConsent=st.booleans(), description=TEXT),
                ),
                pathSets=st.lists(
                    shaped(
                        methods=st.lists(METHOD, max_size=2),
                        paths=st.dictionaries(TEXT, TEXT, max_size=2),
                        schemeKeys=st.lists(TEXT, max_size=2),
                    ),
                    max_size=2,
                ),
            ),
            max_size=2,
        )
    ),
)
N8N = shaped(
    name=TEXT,
    id=TEXT,
    nodes=st.lists(
        shaped(
            name=TEXT,
            type=st.sampled_from(["n8n-nodes-base.slack", "n8n-nodes-base.httpRequest", "x"]),
            typeVersion=st.one_of(st.integers(-1, 5), st.floats()),
            parameters=JSON,
            credentials=st.dictionaries(TEXT, shaped(id=TEXT, name=TEXT), max_size=2),
            position=st.lists(st.integers(), max_size=2),
        ),
        max_size=4,
    ),
    connections=st.dictionaries(TEXT, JSON, max_size=2),
)
POLICY_STEP = shaped(
    name=TEXT,
    wait=st.sampled_from(["1h", "999999999w", "1h\n", "0s"]),
    expect=st.sampled_from(["allowed", "denied"]),
    request=shaped(method=METHOD, url=URL, headers=st.dictionaries(TEXT, TEXT), json=JSON),
    response=shaped(status=st.integers(100, 599), json=JSON),
)
POLICY = shaped(
    connectors=st.lists(
        shaped(
            name=TEXT,
            owner=TEXT,
            credential=shaped(
                type=st.just("oauth2-client-credentials"), lifetime=TEXT, audience=JSON
            ),
            allowed_hosts=st.lists(TEXT, max_size=2),
        ),
        max_size=2,
    ),
    roles=st.lists(
        shaped(
            name=TEXT,
            review_every=TEXT,
            last_reviewed=TEXT,
            extends=st.lists(TEXT, max_size=2),
            grants=st.dictionaries(TEXT, st.lists(TEXT, max_size=2), max_size=2),
        ),
        max_size=2,
    ),
    bindings=st.lists(shaped(connector=TEXT, env=TEXT, roles=st.lists(TEXT)), max_size=2),
    flows=st.lists(
        shaped(name=TEXT, connector=TEXT, vars=JSON, steps=st.lists(POLICY_STEP, max_size=3)),
        max_size=2,
    ),
)


# -- running the readers ------------------------------------------------------------------------


@contextmanager
def written(name: str, text: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_text(text, "utf-8", errors="surrogatepass")
        yield path


def documented(call: Callable[[], object]) -> None:
    """Run `call`; a HarnessError is a documented outcome, anything else fails the test."""
    with suppress(HarnessError):
        call()


def as_json(value: Any) -> str:
    """JSON text of `value`; bytes (which cassettes hold as !!binary) as latin-1 text."""

    def text(item: object) -> str:
        if isinstance(item, bytes):
            return item.decode("latin-1")
        raise TypeError(type(item).__name__)

    return json.dumps(value, ensure_ascii=False, allow_nan=True, default=text)


@pytest.fixture(scope="module")
def services() -> tuple[Any, ...]:
    return load_workspace(CORPUS / "_base").services


@FUZZ
@given(st.one_of(HAR, JSON))
def test_fuzz_har_import(services: tuple[Any, ...], data: Any) -> None:
    with written("r.har", as_json(data)) as path:

        def run() -> None:
            calls, _ = har_calls(read_document(path))
            imported = import_calls(
                calls, services, name="f", connector="c", description="", sidecar_dir="b"
            )
            yaml.safe_load(render_flow(imported, source="r.har"))

        documented(run)


@FUZZ
@given(st.one_of(VCR, JSON), st.booleans())
def test_fuzz_vcr_import(services: tuple[Any, ...], data: Any, as_yaml: bool) -> None:
    text = yaml.safe_dump(data) if as_yaml else as_json(data)
    with written("c.yaml" if as_yaml else "c.json", text) as path:

        def run() -> None:
            calls, _ = vcr_calls(path, path.name)
            imported = import_calls(
                calls, services, name="f", connector="c", description="", sidecar_dir="b"
            )
            yaml.safe_load(render_flow(imported, source=path.name))

        documented(run)


def _service_import(importer: Callable[..., Any], data: Any, name: str) -> None:
    with written(name, as_json(data)) as path:

        def run() -> None:
            service = importer(read_document(path), ImportSettings())
            yaml.safe_load(render_service(service, command="import-service"))

        documented(run)


@FUZZ
@given(st.one_of(OPENAPI, JSON))
def test_fuzz_openapi_import(data: Any) -> None:
    _service_import(import_openapi, data, "api.json")


@FUZZ
@given(st.one_of(DISCOVERY, JSON))
def test_fuzz_discovery_import(data: Any) -> None:
    _service_import(import_discovery, data, "discovery.json")


@FUZZ
@given(st.one_of(GITHUB, JSON))
def test_fuzz_github_import(data: Any) -> None:
    _service_import(import_github, data, "github.json")


@FUZZ
@given(st.one_of(GRAPH, JSON))
def test_fuzz_msgraph_import(data: Any) -> None:
    _service_import(import_msgraph, data, "graph.json")


@FUZZ
@given(st.one_of(N8N, st.lists(N8N, max_size=2), JSON))
def test_fuzz_n8n_export_reading(data: Any) -> None:
    with written("workflow.json", as_json(data)) as path:
        documented(lambda: read_workflows(path))


@FUZZ
@given(st.one_of(POLICY, JSON), st.sampled_from(["dump", "mutate"]), st.data())
def test_fuzz_workspace_loader(data: Any, how: str, draw: st.DataObject) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    if how == "mutate":  # a character inserted, replaced or removed somewhere
        at = draw.draw(st.integers(0, len(text)))
        text = text[:at] + draw.draw(st.text(max_size=3)) + text[at + 1 :]
    with tempfile.TemporaryDirectory() as directory:
        workspace = Path(directory) / "ws"
        shutil.copytree(CORPUS / "_base", workspace)
        (workspace / "scenarios" / "fuzzed.yaml").write_text(text, "utf-8", errors="surrogatepass")
        documented(lambda: load_workspace(workspace))
