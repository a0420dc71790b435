"""The vendors' own SDKs, built as an automation builds them, with no network.

How each one is kept offline (everything ends in `Recorder.exchange`/`handle`, inside the
harness's interception, whose socket guard refuses any real connection):

- google-api-python-client: `build(..., http=...)` with the discovery documents the
  package ships (`static_discovery=True`); the `http` is google-auth's `AuthorizedHttp`
  (which adds the bearer token, as `credentials=` would) over an object with httplib2's
  `request()` signature that hands each call to the recorder.
- slack_sdk: its `WebClient` sends through `urllib.request.urlopen`; an opener whose
  HTTPS handler hands each call to the recorder is installed for the call.
- PyGithub: `requests`, intercepted by the harness (through `responses`).
- msgraph-sdk: `httpx` (async), intercepted by the harness at httpx's transports.
"""

from __future__ import annotations

import asyncio
import email.message
import inspect
import io
import urllib.request
import urllib.response
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .adapter import Recorder
from .case import Answer

# The answer an SDK gets when a case lists none: what the vendor returns for a bare success.
DEFAULT_ANSWER = {
    "slack": Answer(json={"ok": True}),
    "github": Answer(json={}),
    "gmail": Answer(json={}),
    "google-drive": Answer(json={}),
    "google-sheets": Answer(json={}),
    "msgraph": Answer(json={}),
}
GOOGLE_APIS = {
    "gmail": ("gmail", "v1"),
    "google-drive": ("drive", "v3"),
    "google-sheets": ("sheets", "v4"),
}


class _Httplib2Shim:
    """What google-api-python-client asks of an `httplib2.Http`: `request()`."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.connections: dict[str, Any] = {}
        self.timeout = None

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: dict[str, str] | None = None,
        redirections: int = 5,
        connection_type: Any = None,
    ) -> tuple[Any, bytes]:
        import httplib2

        if hasattr(body, "read"):  # a resumable upload sends each chunk as a stream slice
            body = body.read()
        payload = body.encode() if isinstance(body, str) else body
        status, answer_headers, content = self.recorder.exchange(
            method, uri, dict(headers or {}), payload
        )
        info = {key.lower(): value for key, value in answer_headers.items()}
        info["status"] = str(status)
        return httplib2.Response(info), content


def google(recorder: Recorder, service: str) -> Any:
    """A discovery-built client of `service` (gmail, google-drive, google-sheets)."""
    import google.oauth2.credentials
    import google_auth_httplib2
    from googleapiclient.discovery import build

    credentials = google.oauth2.credentials.Credentials(token="ya29.realism-sandbox")
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=_Httplib2Shim(recorder))
    name, version = GOOGLE_APIS[service]
    return build(name, version, http=http, static_discovery=True, cache_discovery=False)


class _SandboxHTTPS(urllib.request.HTTPSHandler):
    """urllib's HTTPS handler, replaced by the recorder (build_opener drops the default one)."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def https_open(self, req: urllib.request.Request) -> urllib.response.addinfourl:
        data = req.data if isinstance(req.data, bytes) else None
        status, headers, content = self.recorder.exchange(
            req.get_method(), req.full_url, dict(req.header_items()), data
        )
        message = email.message.Message()
        for key, value in headers.items():
            message[key] = value
        response = urllib.response.addinfourl(io.BytesIO(content), message, req.full_url, status)
        response.msg = "answered by the realism recorder"  # type: ignore[attr-defined]  # read by HTTPErrorProcessor
        return response


@contextmanager
def _urllib_through(recorder: Recorder) -> Iterator[None]:
    urllib.request.install_opener(urllib.request.build_opener(_SandboxHTTPS(recorder)))
    try:
        yield
    finally:
        urllib.request.install_opener(None)  # type: ignore[arg-type]  # None restores the default


def slack(recorder: Recorder) -> Any:
    from slack_sdk import WebClient

    return WebClient(token="xoxb-realism-sandbox")


def github(recorder: Recorder) -> Any:
    from github import Auth, Github

    return Github(auth=Auth.Token("ghs_realismsandbox"), lazy=True)


def msgraph(recorder: Recorder) -> Any:
    from kiota_abstractions.authentication import (
        AccessTokenProvider,
        AllowedHostsValidator,
        BaseBearerTokenAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient

    class StaticToken(AccessTokenProvider):  # type: ignore[misc]  # kiota is untyped
        async def get_authorization_token(
            self, uri: str, additional_authentication_context: dict[str, Any] | None = None
        ) -> str:
            return "eyJ0eXAiOiJKV1Qi.realism.sandbox"

        def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
            return AllowedHostsValidator(["graph.microsoft.com"])

    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken()))
    return GraphServiceClient(request_adapter=adapter)


def drive(service: str, call: Callable[[Any], Any]) -> Callable[[Recorder], object]:
    """The function that builds `service`'s SDK client and makes `call` with it."""

    def run(recorder: Recorder) -> object:
        if service in GOOGLE_APIS:
            return call(google(recorder, service))
        if service == "slack":
            with _urllib_through(recorder):
                return call(slack(recorder))
        if service == "github":
            return call(github(recorder))
        result = call(msgraph(recorder))
        return asyncio.run(result) if inspect.isawaitable(result) else result

    return run
