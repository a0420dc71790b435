"""`connector-harness import-flow`: a flow from a HAR file or a VCR.py cassette."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from harness.commands._common import EXIT_INPUT, EXIT_PASS, emit
from harness.errors import HarnessError, InputError, Location
from harness.importers.har import har_calls
from harness.importers.spec import Skipped
from harness.importers.traffic import FlowImport, RecordedCall, import_calls, render_flow
from harness.importers.vcr import vcr_calls
from harness.workspace.loader import load_workspace
from harness.workspace.source_document import read_document


def detect_format(path: Path) -> str:
    """`har` for a .har file or JSON with `log`, else `vcr` (cassettes are YAML or JSON)."""
    if path.suffix.lower() == ".har":
        return "har"
    try:
        if not path.is_file():  # a device or pipe: the reader refuses it with its reason
            return "vcr"
        with path.open("rb") as source:
            head = source.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return "vcr"
    return "har" if re.search(r'^\s*\{\s*"log"\s*:', head) else "vcr"


def read_calls(path: Path, format: str, name: str) -> tuple[list[RecordedCall], list[Skipped]]:
    """The recorded calls of a HAR file or cassette, and the entries that were unusable."""
    if format == "har":
        return har_calls(read_document(path, name=name))
    return vcr_calls(path, name)


def connector_stub(name: str, imported: FlowImport) -> dict[str, Any]:
    """A connector allowed exactly the hosts and services the flow calls (fill in the owner)."""
    services = sorted({s for names in imported.hosts.values() for s in names})
    return {
        "name": name,
        "description": "Imported with connector-harness import-flow; describe what it automates",
        "owner": "owner@example.com",
        "kind": "service-account",
        "credential": {"type": "oauth2-refresh-token", "lifetime": "1h", "audience": services},
        "allowed_hosts": sorted(imported.hosts),
    }


class ImportFlowCommand:
    name = "import-flow"
    help = "write a flow from a HAR 1.2 file or a VCR.py / pytest-recording cassette"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", help="the recording (.har, or a cassette .yaml/.json)")
        parser.add_argument("--connector", required=True, help="the connector that runs the flow")
        parser.add_argument("--name", help="flow name (default: the file name)")
        parser.add_argument("--description", default="", help="what the flow does")
        parser.add_argument(
            "--workspace",
            default=".",
            help="the workspace whose services the calls are matched to (default: .)",
        )
        parser.add_argument("--format", choices=("auto", "har", "vcr"), default="auto")
        parser.add_argument(
            "--keep-unknown-hosts",
            action="store_true",
            help="keep calls to hosts no service covers (check reports them as egress)",
        )
        parser.add_argument(
            "--with-connector",
            action="store_true",
            help="also write a connector allowed exactly the hosts the flow calls",
        )
        parser.add_argument(
            "--output", "-o", help="write the policy document here (and bodies beside it)"
        )

    def run(self, args: argparse.Namespace) -> int:
        path = Path(args.file)
        format = detect_format(path) if args.format == "auto" else args.format
        services = load_workspace(Path(args.workspace)).services
        calls, unusable = read_calls(path, format, args.file)
        stem = re.sub(r"[^a-z0-9-]+", "-", path.stem.lower()).strip("-") or "imported"
        output = Path(args.output) if args.output else None
        sidecar_dir = f"{output.stem if output else stem}.bodies"
        imported = import_calls(
            calls,
            services,
            name=args.name or stem,
            connector=args.connector,
            description=args.description,
            sidecar_dir=sidecar_dir,
            keep_unknown_hosts=args.keep_unknown_hosts,
        )
        imported.skipped[:0] = unusable
        for item in imported.skipped:
            print(item.render(), file=sys.stderr)
        for host, count in sorted(imported.unknown_hosts.items()):
            kept = "kept" if args.keep_unknown_hosts else "left out"
            print(
                f"{args.file}: no service covers host {host} ({count} call(s) {kept}); "
                "add a service spec for it, or import it as a pack",
                file=sys.stderr,
            )
        if not imported.flow["steps"]:
            raise InputError(
                Location(args.file),
                "no call of the recording matches a service of the workspace",
                f"services: {', '.join(s.name for s in services)}; add specs for the hosts above",
            )
        if imported.sidecars and output is None:
            raise HarnessError(
                f"{len(imported.sidecars)} body(ies) are not JSON and go to sidecar files; "
                "pass --output FILE so they can be written beside it"
            )
        connector = connector_stub(args.connector, imported) if args.with_connector else None
        text = render_flow(imported, source=path.name, connector=connector)
        emit(text, args.output)
        if output is not None:
            for relative, content in imported.sidecars.items():
                target = output.parent / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        print(
            f"{imported.flow['name']}: {len(imported.flow['steps'])} step(s), "
            f"{imported.secrets} secret(s) replaced, {len(imported.skipped)} skipped"
            + (f" -> {args.output}" if args.output else ""),
            file=sys.stderr,
        )
        return EXIT_INPUT if not imported.flow["steps"] else EXIT_PASS
