"""`connector-harness packs`: the bundled vendor packs, and which a workspace uses."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.commands._common import EXIT_PASS
from harness.errors import InputError
from harness.render.style import Style, plural, table, wants_colour
from harness.workspace.pack_catalog import bundled_packs
from harness.workspace.settings import load_settings
from harness.workspace.yaml_source import load_yaml


def _workspace_use(root: Path) -> dict[str, str]:
    """Pack name -> how the workspace at `root` uses it (listed, pinned, extended, replaced)."""
    settings = load_settings(root)
    use = {name: f"pinned {version}" if version else "used" for name, version in settings.packs}
    for directory in settings.mocks:
        for path in (
            sorted((root / directory).rglob("*.y*ml")) if (root / directory).is_dir() else ()
        ):
            try:
                data = load_yaml(path, max_bytes=settings.max_file_bytes).data
            except InputError:  # `check` reports unreadable files; the listing goes on
                continue
            if not isinstance(data, dict):
                continue
            if "extends" in data:
                use[str(data["extends"])] = f"extended by {path.relative_to(root)}"
            elif data.get("service") in use:
                use[str(data["service"])] = f"replaced by {path.relative_to(root)}"
    return use


class PacksCommand:
    name = "packs"
    help = (
        "list the bundled vendor packs: version, source, date, models, and which a workspace uses"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "workspace",
            nargs="?",
            help="also say how this workspace uses each pack (its `packs:` setting and mocks/)",
        )
        parser.add_argument(
            "--format", choices=("text", "json"), default="text", help="output format"
        )

    def run(self, args: argparse.Namespace) -> int:
        packs = bundled_packs()
        use = _workspace_use(Path(args.workspace)) if args.workspace else {}
        if args.format == "json":
            data = [
                {**pack.to_data(), **({"use": use.get(pack.name, "")} if args.workspace else {})}
                for pack in packs
            ]
            print(json.dumps({"packs": data}, indent=2, sort_keys=True))
            return EXIT_PASS
        style = Style(wants_colour(sys.stdout))
        header = ["pack", "version", "operations", "scopes", "models", "data from", "date"]
        if args.workspace:
            header.append("in this workspace")
        rows = [[style(cell, "bold") for cell in header]]
        for pack in packs:
            row = [
                pack.name,
                pack.version,
                str(pack.operations),
                str(pack.scopes),
                ", ".join(pack.models) or "-",
                pack.source,
                pack.date,
            ]
            if args.workspace:
                row.append(use.get(pack.name, "-"))
            rows.append(row)
        for line in table(rows, align_right=(2, 3)):
            print(line)
        used = [name for name in use if any(p.name == name for p in packs)]
        if args.workspace:
            print(
                f"\n{plural(len(packs), 'pack')} bundled; this workspace uses "
                f"{len(used)}. Name them in `packs:` (connector-harness.yaml), e.g. "
                f"`packs: [{', '.join(p.name for p in packs[:2])}]`, pinned as NAME@VERSION."
            )
        else:
            print(
                f"\n{plural(len(packs), 'pack')} bundled. Use one by naming it in a workspace's "
                "`packs:` setting, pinned as NAME@VERSION if you want a change to be reviewed."
            )
        return EXIT_PASS
