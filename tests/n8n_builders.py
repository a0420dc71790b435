"""Building import results by hand, for the tests that need no Node.js."""

from __future__ import annotations

import base64
import json
from typing import Any

from harness.errors import Location
from harness.n8n.catalogue import CredentialType
from harness.n8n.importer import ImportRun, NodeResult
from harness.n8n.runner import RecordedCall
from harness.n8n.workflow import CredentialRef, Workflow, WorkflowNode

SHEETS_TYPE = CredentialType(
    "googleSheetsOAuth2Api",
    True,
    extends=("oAuth2Api", "googleOAuth2Api"),
    oauth2=True,
    scopes=(
        "https://www.googleapis.com/auth/drive.file",
        "https://www.googleapis.com/auth/spreadsheets",
        "https://www.googleapis.com/auth/drive.metadata",
    ),
    customizable=True,
    grant_type="authorizationCode",
)
GITHUB_TYPE = CredentialType(
    "githubOAuth2Api", True, extends=("oAuth2Api",), oauth2=True, scopes=("repo", "admin:org")
)
SLACK_BOT_TYPE = CredentialType("slackApi", True)
SERVICE_ACCOUNT_TYPE = CredentialType("googleApi", True)


def call(
    method: str, url: str, credential: str | None, body: Any = None, **extra: Any
) -> RecordedCall:
    kind = extra.pop("kind", "json" if body is not None else "none")
    return RecordedCall(
        helper="requestOAuth2",
        credential=credential,
        method=method,
        url=url,
        headers=tuple(extra.pop("headers", {}).items()),
        body_kind=kind,
        body=body,
        content_type="",
        token=extra.pop("token", False),
    )


def token_call(scopes: str) -> RecordedCall:
    claims = base64.urlsafe_b64encode(json.dumps({"scope": scopes}).encode()).decode().rstrip("=")
    body = f"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=eyJhbGciOiJSUzI1NiJ9.{claims}.c2ln"
    return call("POST", "https://oauth2.googleapis.com/token", None, body, kind="form", token=True)


def node(
    name: str, line: int, *credentials: CredentialRef, kind: str = "n8n-nodes-base.googleSheets"
) -> WorkflowNode:
    return WorkflowNode(
        name=name,
        type=kind,
        type_version=1,
        parameters={},
        credentials=credentials,
        disabled=False,
        position=(0.0, 0.0),
        location=Location("flows/demo.n8n.json", line, 5),
    )


def workflow(name: str, *nodes: WorkflowNode, identifier: str = "w1") -> Workflow:
    return Workflow(
        source="flows/demo.n8n.json",
        id=identifier,
        name=name,
        nodes=nodes,
        unreached=(),
        location=Location("flows/demo.n8n.json", 1, 1),
    )


def run(
    *results: tuple[Workflow, WorkflowNode, str, tuple[RecordedCall, ...]],
    types: tuple[CredentialType, ...] = (),
) -> ImportRun:
    made = ImportRun()
    for flow, item, status, calls in results:
        if flow not in made.workflows:
            made.workflows.append(flow)
        made.results.append(NodeResult(flow, item, status, calls))
    made.credential_types = {
        t.name: t for t in (SHEETS_TYPE, GITHUB_TYPE, SLACK_BOT_TYPE, SERVICE_ACCOUNT_TYPE, *types)
    }
    made.versions = {"n8n-nodes-base": "2.41.2", "n8n-workflow": "2.41.0"}
    return made
