"""The bundled connector packs: how each file of `harness/packs/` is generated.

`make packs` runs `python -m harness.importers.packs`, which regenerates them and
their `index.json`; `--check` only compares and lists the stale ones (the test
suite does the same). Vendor files are read from `../shared/data/vendor/` beside
the repository, the Google Discovery documents from the installed
google-api-python-client. A pack's hand-written rules (permission models, current
scopes, conditions, each citing its vendor page) live in
`harness/importers/overlays/NAME.yaml` and are merged into what the data gives.
A pack's version is YEAR.MONTH of its newest input: the vendor data's date, or the
date its overlay was last `reviewed`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from harness.errors import HarnessError, InputError
from harness.importers.discovery import import_discovery, packaged_documents, packaged_source
from harness.importers.github import import_github
from harness.importers.msgraph import import_msgraph
from harness.importers.openapi import import_openapi
from harness.importers.spec import ImportedService, ImportSettings, render_service
from harness.workspace.pack_catalog import INDEX, PackInfo
from harness.workspace.source_document import read_document

PackFormat = Literal["openapi", "github", "discovery", "msgraph"]
REPOSITORY = Path(__file__).resolve().parents[2]
VENDOR = REPOSITORY.parent / "shared" / "data" / "vendor"
OUTPUT = Path(__file__).resolve().parents[1] / "packs"
OVERLAYS = Path(__file__).resolve().parent / "overlays"
REGENERATE = "make packs"


@dataclass(frozen=True, slots=True)
class PackRecipe:
    """One bundled pack: its file in mocks/, the importer and the vendor document it reads."""

    file: str
    format: PackFormat  # the importer that reads `document`
    document: str  # a file name in the vendor directory, or of a packaged Discovery document
    settings: ImportSettings
    context: tuple[str, ...] = ()  # other Discovery documents, for breadth

    @property
    def name(self) -> str:
        return self.file.removesuffix(".yaml")

    def overlay(self) -> dict[str, Any]:
        """The pack's hand-written rules (empty when it has none)."""
        path = OVERLAYS / self.file
        if not path.is_file():
            return {}
        data = yaml.safe_load(path.read_text("utf-8"))
        return data if isinstance(data, dict) else {}


GOOGLE = ("sheets.v4.json", "gmail.v1.json", "drive.v3.json")

PACKS: tuple[PackRecipe, ...] = (
    PackRecipe(
        "slack.yaml",
        "openapi",
        "slack_web_openapi_v2.json",
        ImportSettings(
            service="slack",
            title="Slack Web API",
            scopes="any-of",
            operation_ids="path",
            token_params=("token",),  # Slack takes the token as a `token` argument too
            # every method takes GET or POST (form-encoded or JSON): https://api.slack.com/web
            extra_methods=("GET", "POST"),
            source="slackapi/slack-api-specs: web-api/slack_web_openapi_v2_without_examples.json",
            commit="bc08db4",
            date="2021-09-03",
        ),
    ),
    PackRecipe(
        "github.yaml",
        "github",
        "github_app_permissions.json",
        ImportSettings(
            service="github",
            title="GitHub REST API",
            # a file path (contents API) and a Git ref (heads/main) hold slashes
            spanning=("path", "ref"),
            oauth_model=True,
            source="octokit/app-permissions: generated/api.github.com.json",
            commit="2449f19",
            date="2026-03-17",
        ),
    ),
    PackRecipe(
        "msgraph.yaml",
        "msgraph",
        "msgraph_permissions.json",
        ImportSettings(
            source="microsoftgraph/microsoft-graph-devx-content: permissions/new/permissions.json",
            commit="6cbd6bb",
            date="2026-08-07",
        ),
    ),
    PackRecipe(
        "google-sheets.yaml",
        "discovery",
        "sheets.v4.json",
        ImportSettings(service="google-sheets"),
        context=("drive.v3.json", "gmail.v1.json"),
    ),
    PackRecipe(
        "gmail.yaml",
        "discovery",
        "gmail.v1.json",
        # Gmail also answers on the legacy www.googleapis.com/gmail/v1/ (beside Drive).
        # Add-on scopes only reach the message open in a Gmail add-on: no connector holds them.
        ImportSettings(
            service="gmail",
            hosts=("gmail.googleapis.com", "www.googleapis.com"),
            exclude_scopes=("https://www.googleapis.com/auth/gmail.addons.*",),
        ),
        context=("drive.v3.json", "sheets.v4.json"),
    ),
    PackRecipe(
        "google-drive.yaml",
        "discovery",
        "drive.v3.json",
        ImportSettings(service="google-drive"),
        context=("gmail.v1.json", "sheets.v4.json"),
    ),
)


def _discovery_folder() -> Path:
    found = packaged_documents()
    if found is None:
        raise HarnessError(
            "google-api-python-client is not installed; it ships the Google Discovery "
            "documents (install the test extra: pip install -e '.[test]')"
        )
    return found[0]


def build_pack(recipe: PackRecipe, vendor: Path = VENDOR) -> ImportedService:
    """Import the recipe's vendor document (InputError/HarnessError when it is missing)."""
    if recipe.format == "discovery":
        folder = _discovery_folder()
        path = folder / recipe.document
        name = f"googleapiclient/discovery_cache/documents/{recipe.document}"
        settings = replace(recipe.settings, source=packaged_source(path) or name)
        context = [read_document(folder / other, name=other) for other in recipe.context]
        return import_discovery(read_document(path, name=name), settings, context)
    document = read_document(vendor / recipe.document, name=f"vendor/{recipe.document}")
    if recipe.format == "github":
        return import_github(document, recipe.settings)
    if recipe.format == "msgraph":
        return import_msgraph(document, recipe.settings)
    return import_openapi(document, recipe.settings)


def pack_version(service: ImportedService, overlay: dict[str, Any]) -> str:
    """YEAR.MONTH of the newest input: the vendor data's date or the overlay's review."""
    dates = [str(dict(service.provenance).get("date", ""))]
    if overlay.get("reviewed"):
        dates.append(str(overlay["reviewed"]))
    newest = max(date for date in dates if date) if any(dates) else "1970-01"
    return newest[:4] + "." + newest[5:7]


def render_pack(recipe: PackRecipe, vendor: Path = VENDOR) -> str:
    """The text of the recipe's file in harness/packs/."""
    return _render(recipe, build_pack(recipe, vendor))[0]


def _render(recipe: PackRecipe, service: ImportedService) -> tuple[str, PackInfo]:
    overlay = recipe.overlay()
    version = pack_version(service, overlay)
    text = render_service(
        service,
        command=REGENERATE,
        overlay=overlay,
        overlay_name=f"harness/importers/overlays/{recipe.file}" if overlay else "",
        version=version,
    )
    data = yaml.safe_load(text)
    scopes = set(data.get("scopes") or {})
    for model in (data.get("models") or {}).values():
        scopes |= set((model or {}).get("scopes") or {})
    provenance = data.get("provenance", {})
    info = PackInfo(
        name=recipe.name,
        file=recipe.file,
        version=version,
        title=str(data.get("title", recipe.name)),
        source=str(provenance.get("source", "")),
        date=str(provenance.get("date", "")),
        operations=len(data["operations"]),
        scopes=len(scopes),
        models=tuple(data.get("models") or ()),
        hosts=tuple(data.get("hosts", ())),
    )
    return text, info


def render_index(infos: list[PackInfo]) -> str:
    """`index.json`: what `connector-harness packs` lists, without reading the packs."""
    data = {"packs": [info.to_data() for info in sorted(infos, key=lambda i: i.name)]}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def generate(vendor: Path = VENDOR) -> dict[str, str]:
    """Every file of harness/packs/: file name -> text."""
    files: dict[str, str] = {}
    infos = []
    for recipe in PACKS:
        text, info = _render(recipe, build_pack(recipe, vendor))
        files[recipe.file] = text
        infos.append(info)
    files[INDEX] = render_index(infos)
    return files


def stale_packs(output: Path, vendor: Path = VENDOR) -> list[str]:
    """Files of `output` that differ from what their recipes generate now."""
    return [
        name
        for name, text in generate(vendor).items()
        if not (output / name).is_file() or (output / name).read_text("utf-8") != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.importers.packs",
        description="Regenerate the bundled connector packs from vendor data.",
    )
    parser.add_argument("--vendor", default=str(VENDOR), help="the vendor data directory")
    parser.add_argument("--output", default=str(OUTPUT), help="where packs go")
    parser.add_argument("--check", action="store_true", help="only list stale packs (exit 1)")
    args = parser.parse_args(argv)
    vendor, output = Path(args.vendor), Path(args.output)
    try:
        if args.check:
            stale = stale_packs(output, vendor)
            for name in stale:
                print(f"{output / name} is out of date; run `{REGENERATE}`", file=sys.stderr)
            return 1 if stale else 0
        files = generate(vendor)
        for name, text in files.items():
            (output / name).write_text(text, "utf-8")
        for info in bundled_from(files[INDEX]):
            print(
                f"{output / info.file}: {info.operations} operations, {info.scopes} scopes, "
                f"version {info.version}",
                file=sys.stderr,
            )
    except InputError as error:
        print(error.render(), file=sys.stderr)
        return 2
    except HarnessError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def bundled_from(index: str) -> list[PackInfo]:
    return [PackInfo.from_data(item) for item in json.loads(index)["packs"]]


if __name__ == "__main__":
    sys.exit(main())
