"""`connector-harness import-service`: a service spec from vendor permission data."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import yaml

from harness.commands._common import EXIT_INPUT, EXIT_PASS, emit
from harness.errors import HarnessError
from harness.importers.discovery import import_discovery, packaged_source
from harness.importers.github import import_github
from harness.importers.msgraph import import_msgraph
from harness.importers.openapi import import_openapi
from harness.importers.spec import ImportedService, ImportSettings, render_service
from harness.workspace.loader import workspace_from_data
from harness.workspace.source_document import read_document

FORMATS = ("openapi", "discovery", "github", "msgraph")


def import_service(
    format: str, path: Path, settings: ImportSettings, context: tuple[Path, ...] = ()
) -> ImportedService:
    """Read `path` in `format` and build its service spec (InputError on bad input)."""
    document = read_document(path)
    if format == "discovery":
        if settings.source is None:
            packaged = packaged_source(path)
            if packaged is not None:
                settings = replace(settings, source=packaged)
        return import_discovery(document, settings, [read_document(p) for p in context])
    if context:
        raise HarnessError("--context is only for `discovery` imports")
    if format == "github":
        return import_github(document, settings)
    if format == "msgraph":
        return import_msgraph(document, settings)
    return import_openapi(document, settings)


def check_loads(service: ImportedService, text: str) -> None:
    """Load the rendered spec as the workspace loader would (an importer bug raises here)."""
    workspace_from_data([yaml.safe_load(text)], [])


class ImportServiceCommand:
    name = "import-service"
    help = (
        "write a service spec (mocks/ format) from OpenAPI, Discovery, GitHub or Microsoft "
        "Graph permission data"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("format", choices=FORMATS, help="the kind of vendor document")
        parser.add_argument("file", help="the vendor document (JSON, or YAML for OpenAPI)")
        parser.add_argument("--service", help="service name (default: from the document)")
        parser.add_argument("--title", help="service title (default: from the document)")
        parser.add_argument(
            "--host",
            action="append",
            default=[],
            metavar="HOST",
            help="a host the service answers on (repeat; default: from the document)",
        )
        parser.add_argument("--base-path", help="OpenAPI: replace the document's base path")
        parser.add_argument(
            "--scopes",
            choices=("all-of", "any-of"),
            default="all-of",
            help="OpenAPI: read a security requirement's scope list as all-of (the standard) "
            "or any-of (Slack's meaning)",
        )
        parser.add_argument(
            "--operation-ids",
            choices=("operationId", "path"),
            default="operationId",
            help="OpenAPI: ids from operationId, or from the path (RPC-style APIs)",
        )
        parser.add_argument(
            "--context",
            action="append",
            default=[],
            metavar="FILE",
            help="discovery: another API's document whose methods count when inferring "
            "which scope is broader (repeat)",
        )
        parser.add_argument(
            "--exclude-scope",
            action="append",
            default=[],
            metavar="GLOB",
            help="leave out scopes a connector cannot hold (e.g. add-on-only scopes; repeat)",
        )
        parser.add_argument(
            "--spanning-param",
            action="append",
            default=[],
            metavar="NAME",
            help="a path parameter whose values hold slashes, e.g. a file path: "
            "{NAME} becomes {+NAME} and matches several segments (repeat)",
        )
        parser.add_argument(
            "--token-param",
            action="append",
            metavar="NAME",
            help="a query or form parameter the API accepts the token in, instead of the "
            "Authorization header (repeat; default: access_token, as RFC 6750)",
        )
        parser.add_argument(
            "--oauth-model",
            action="store_true",
            help="github: also write the classic OAuth App scopes (repo, admin:org, ...) as "
            "permission model `oauth`, beside the app permissions (model `app`)",
        )
        parser.add_argument(
            "--also-method",
            action="append",
            default=[],
            metavar="METHOD",
            choices=("GET", "POST", "PUT", "PATCH", "DELETE"),
            help="every operation also answers this HTTP method (RPC-style APIs such as Slack's, "
            "whose every method accepts GET and POST; repeat)",
        )
        parser.add_argument("--source", help="provenance: where the document came from")
        parser.add_argument("--version", dest="source_version", help="provenance: its version")
        parser.add_argument("--commit", help="provenance: the commit it was taken from")
        parser.add_argument("--date", help="provenance: its date (YYYY-MM-DD)")
        parser.add_argument("--output", "-o", help="write the spec here instead of stdout")
        parser.add_argument(
            "--strict", action="store_true", help="fail (exit 2) when anything was skipped"
        )

    def run(self, args: argparse.Namespace) -> int:
        settings = ImportSettings(
            service=args.service,
            title=args.title,
            hosts=tuple(args.host),
            base_path=args.base_path,
            scopes=args.scopes,
            operation_ids=args.operation_ids,
            source=args.source,
            version=args.source_version,
            commit=args.commit,
            date=args.date,
            exclude_scopes=tuple(args.exclude_scope),
            spanning=tuple(args.spanning_param),
            token_params=tuple(args.token_param) if args.token_param else None,
            extra_methods=tuple(args.also_method),
            oauth_model=args.oauth_model,
        )
        service = import_service(
            args.format, Path(args.file), settings, tuple(Path(p) for p in args.context)
        )
        for item in service.skipped:
            print(item.render(), file=sys.stderr)
        for note in service.notes:
            print(f"note: {note}", file=sys.stderr)
        if args.strict and service.skipped:
            print(
                f"{len(service.skipped)} part(s) of {args.file} skipped; nothing written "
                "(--strict)",
                file=sys.stderr,
            )
            return EXIT_INPUT
        text = render_service(service)
        check_loads(service, text)
        emit(text, args.output)
        skipped = f", {len(service.skipped)} skipped" if service.skipped else ""
        print(
            f"{service.name}: {len(service.operations)} operations, {len(service.scopes)} "
            f"scopes{skipped}" + (f" -> {args.output}" if args.output else ""),
            file=sys.stderr,
        )
        return EXIT_PASS
