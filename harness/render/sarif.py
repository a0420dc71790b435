"""The check report as SARIF 2.1.0, for code scanning: one result per finding at its YAML line.

Each finding kind is one rule. A result's location is the grant or step the
finding points at, relative to the workspace root (`uriBaseId: WORKSPACE`);
the YAML to write instead travels in the markdown message and the result's
properties rather than as a SARIF `fix`, because a fix must name the exact
region it replaces and the analysis knows only where that region starts.
Waived findings are reported as externally suppressed, so code scanning shows
them as dismissed instead of open.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from typing import Any
from urllib.parse import quote

from harness import __version__
from harness.cells import report_cells
from harness.findings import (
    CREDENTIAL,
    CROSS_REGION,
    EGRESS,
    ESCALATION,
    EXCESSIVE,
    KINDS,
    MISSING,
    OVER_BROAD,
    TOKEN_LIFETIME,
    UNEXPECTED_ALLOW,
    UNROUTABLE,
    VOLUME,
    WAIVER,
    Finding,
    split_location,
)
from harness.render.jsonfmt import render_json
from harness.report import Report

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
BASE_ID = "WORKSPACE"
FINGERPRINT = "connectorHarnessFinding/v1"

# kind -> (rule name, short description, help: what it means and what to do)
RULES: dict[str, tuple[str, str, str]] = {
    MISSING: (
        "MissingGrant",
        "A call of a flow was denied: the binding lacks a grant it needs.",
        "The connector's flow made a call its binding's roles do not allow, so the "
        "flow would fail in production. Add the least broad grant named in the result "
        "to the role shown in 'write instead'.",
    ),
    EXCESSIVE: (
        "ExcessiveGrant",
        "A grant that no call of the binding's flows needed.",
        "The binding holds a grant that its flows never use, or whose every use is "
        "also covered by a narrower kept grant. Remove it from the role.",
    ),
    OVER_BROAD: (
        "OverBroadGrant",
        "A grant broader than the calls it serves: a narrower scope or resource narrowing would do.",
        "The grant is used, but a narrower scope, or the same scope narrowed to the "
        "resources the calls touch, allows every call it is used for. Replace it with "
        "the grants named in the result.",
    ),
    EGRESS: (
        "BlockedEgress",
        "A call to a host outside the connector's allowlist was blocked.",
        "The flow called a host that is not in the connector's `allowed_hosts`, or that "
        "no mocked service answers. Add the host to `allowed_hosts` only if the call is intended.",
    ),
    CROSS_REGION: (
        "CrossRegionCall",
        "A call to a host of a region the connector may not use was blocked.",
        "Call a host of an allowed region, or add the region to the connector's `regions:`.",
    ),
    CREDENTIAL: (
        "CredentialRefused",
        "A call was refused for its token: expired, wrong audience or revoked.",
        "Fix the connector's credential (lifetime, audience, rotation) or the flow's "
        "token steps so that the call carries a valid token.",
    ),
    UNEXPECTED_ALLOW: (
        "UnexpectedAllow",
        "A step the flow expects to be denied was allowed.",
        "The binding allows a call its flow asserts must be refused. Remove the grant "
        "that allows it (named in the result).",
    ),
    ESCALATION: (
        "BaselineEscalation",
        "A grant that is not in the binding's approved baseline.",
        "Remove the grant, or approve it by adding it to the baseline lockfile in a reviewed change.",
    ),
    TOKEN_LIFETIME: (
        "TokenOutlivesPolicy",
        "A flow passes only because its tokens live longer than the policy allows.",
        "Add a refresh step before the refused step, or shorten the flow; then lower "
        "the connector's credential lifetime to the policy maximum.",
    ),
    VOLUME: (
        "UnusualVolume",
        "A flow moves more calls or data than the policy expects.",
        "Check that the flow does not export more than it should; raise `policy.volume` if intended.",
    ),
    WAIVER: (
        "InvalidWaiver",
        "A waiver that expired, or that the connector's own owner approved.",
        "Remove the excess the waiver covered, or renew the waiver with a new expiry "
        "approved by someone other than the connector's owner.",
    ),
    UNROUTABLE: (
        "UnroutableCall",
        "A call that no operation of the host's service accepts as sent.",
        "No operation of the service matches the step's method and path (the nearest are "
        "named in the result), or an argument has a value the vendor refuses. Fix the "
        "recorded step, or add the operation to the service spec; the call cannot be judged.",
    ),
}


def render_sarif(report: Report) -> str:
    return render_json(sarif_log(report))


def sarif_log(report: Report) -> dict[str, Any]:
    """The SARIF log: one run, every finding kind as a rule, one result per finding."""
    failing: set[str] = set(report.workspace.settings.fail_on)
    root = report.workspace.root
    results = [
        _result(finding, root, failing)
        for binding in report.results
        for finding in binding.findings
    ]
    data = report.to_data()
    return sarif_document(
        [_rule(kind, failing) for kind in KINDS],
        results,
        root,
        exit_code=0 if report.passed else 1,
        properties={
            "passed": report.passed,
            "filters": data["filters"],
            "baseline": data["baseline"],
            "summary": data["summary"],
            "cells": [cell.to_data() for cell in report_cells(report.results)],
        },
    )


def sarif_document(
    rules: list[dict[str, Any]],
    results: list[dict[str, Any]],
    workspace: str,
    *,
    exit_code: int,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A SARIF log of one connector-harness run (check or lint): its rules and results, with
    locations relative to the workspace."""
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "connector-harness",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "invocations": [{"executionSuccessful": True, "exitCode": exit_code}],
        "originalUriBaseIds": {BASE_ID: workspace_base(workspace)},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if properties is not None:
        run["properties"] = properties
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


# GitHub code scanning shows a rule's `security-severity` (CVSS-like, 0.1-10) as Critical
# (9.0+), High (7.0-8.9), Medium (4.0-6.9) or Low. Why each kind sits where it does is in
# docs/report.md, "Severity".
SECURITY_SEVERITY: dict[str, str] = {
    UNEXPECTED_ALLOW: "9.1",  # a call the flow asserts must be refused is allowed
    ESCALATION: "9.0",  # a grant nobody approved
    EXCESSIVE: "8.0",  # standing privilege that nothing uses
    EGRESS: "8.0",  # a way out of the allowlist
    OVER_BROAD: "7.0",  # more reach than the calls need
    CROSS_REGION: "7.0",  # data leaving its allowed regions
    WAIVER: "6.5",  # accepted excess with a lapsed or self-approved waiver
    TOKEN_LIFETIME: "6.0",  # tokens outliving the policy
    VOLUME: "5.5",  # more data moved than the policy expects
    CREDENTIAL: "5.0",  # a token refused: expired, wrong audience, revoked
    UNROUTABLE: "4.0",  # a call that cannot be judged, hiding the excess of its service
    MISSING: "3.0",  # the flow breaks; no privilege is exposed
}
DOCS_URL = "https://connector-harness.dev/docs/"  # docs/ as published; anchors are stable


def help_uri(page: str, anchor: str) -> str:
    """The published page of docs/`page`.md at `anchor`."""
    return f"{DOCS_URL}{page}.html#{anchor}"


def _level(kind: str, failing: set[str]) -> str:
    return "error" if kind in failing else "warning"


def _rule(kind: str, failing: set[str]) -> dict[str, Any]:
    name, short, help_text = RULES[kind]
    return {
        "id": kind,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": f"{short} {help_text}"},
        "helpUri": help_uri("report", f"finding-{kind}"),
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": _level(kind, failing)},
        "properties": {
            "tags": ["security", "least-privilege"],
            "security-severity": SECURITY_SEVERITY[kind],
            "precision": "high",
        },
    }


def workspace_base(root: str) -> dict[str, Any]:
    """Where WORKSPACE points: the workspace directory; a relative one is relative to SRCROOT,
    the directory the check ran in (the repository root in CI)."""
    description = {"text": "The connector-harness workspace directory."}
    if os.path.isabs(root):
        return {"uri": "file://" + uri_path(root.rstrip("/") + "/"), "description": description}
    relative = posixpath.normpath(root.replace(os.sep, "/"))
    return {
        "uri": "./" if relative == "." else uri_path(relative) + "/",
        "uriBaseId": "SRCROOT",
        "description": description,
    }


def uri_path(path: str) -> str:
    return quote(path.replace(os.sep, "/"), safe="/")


def _physical(location: str, root: str) -> dict[str, Any] | None:
    file, line, column = split_location(location)
    if not file:
        return None
    # Locations are relative to the directory the check ran in, like a relative root.
    relative = os.path.relpath(file, root)
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": uri_path(relative), "uriBaseId": BASE_ID}
    }
    if line:
        region: dict[str, int] = {"startLine": line}
        if column:
            region["startColumn"] = column
        physical["region"] = region
    return physical


def _message(finding: Finding) -> dict[str, str]:
    markdown = finding.message
    if finding.instead:
        markdown += "\n\nWrite instead:\n\n```yaml\n" + finding.instead + "\n```"
    return {"text": finding.message, "markdown": markdown}


def _result(finding: Finding, root: str, failing: set[str]) -> dict[str, Any]:
    physical = _physical(finding.location, root)
    locations: list[dict[str, Any]] = [
        {
            "physicalLocation": physical,
            "logicalLocations": [{"name": finding.binding, "kind": "resource"}],
        }
        if physical
        else {"logicalLocations": [{"name": finding.binding, "kind": "resource"}]}
    ]
    identity = "\n".join((finding.kind, finding.binding, finding.service, finding.subject))
    result: dict[str, Any] = {
        "ruleId": finding.kind,
        "ruleIndex": KINDS.index(finding.kind),
        "level": _level(finding.kind, failing),
        "message": _message(finding),
        "locations": locations,
        "partialFingerprints": {FINGERPRINT: hashlib.sha256(identity.encode()).hexdigest()},
        "properties": {
            "binding": finding.binding,
            "service": finding.service,
            "subject": finding.subject,
            "instead": finding.instead,
            "replacement": list(finding.replacement),
            "evidence": list(finding.evidence),
        },
    }
    if finding.waived_by:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": finding.waived_by}
        ]
    return result
