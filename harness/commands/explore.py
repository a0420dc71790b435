"""`connector-harness explore`: minimal grant sets found by replaying under subsets of grants."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness.commands._common import (
    EXIT_PASS,
    add_options,
    add_workspace_argument,
    command_options,
    write_outputs,
    written,
)
from harness.engine import Selection, select_bindings, with_settings
from harness.explore import Exploration, MinimalSet, explore
from harness.options import options_for, output_targets
from harness.render.jsonfmt import render_json
from harness.render.style import Style, plural
from harness.workspace.loader import load_workspace


class ExploreCommand:
    name = "explore"
    help = (
        "find minimal grant sets by experiment, treating services as opaque (allowed/denied only)"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_workspace_argument(parser)
        add_options(parser, options_for(self.name))

    def run(self, args: argparse.Namespace) -> int:
        options = command_options(args, self.name)
        workspace = load_workspace(options.workspace)
        selection = with_settings(workspace, Selection(options.env, options.binding))
        bindings = select_bindings(workspace, selection)
        explorations = [explore(workspace, binding) for binding in bindings]

        def render(kind: str, style: Style) -> str:
            if kind == "json":
                return render_json(
                    {
                        "schema": "connector-harness/exploration",
                        "version": 1,
                        "bindings": [_data(e, timing=False) for e in explorations],
                    }
                )
            replays = sum(e.replays for e in explorations)
            return "\n".join(_text(e, style) for e in explorations) + (
                f"\nExplored {plural(len(explorations), 'binding')} with "
                f"{plural(replays, 'replay')}. "
                "Next: grant the least broad set (or compare with `connector-harness check`).\n"
            )

        targets = output_targets(options, self.name)
        write_outputs(targets, render)
        if written(targets) and not options.quiet:
            print(f"exploration written to {written(targets)}", file=sys.stderr)
        return EXIT_PASS


def _grants(elements: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{service}:{grant}" for service, grant in elements) or "(nothing)"


def _text(exploration: Exploration, style: Style) -> str:
    lines = [
        style(f"{exploration.binding}", "bold")
        + f": {plural(len(exploration.granted), 'granted scope')} (breadth {exploration.granted_breadth}), "
        f"{plural(exploration.replays, 'replay')}, {exploration.seconds:.2f} s"
    ]
    for failure in exploration.failing_regardless:
        lines.append(f"  {style('refused whatever is granted', 'yellow')}: {failure}")
    least = exploration.least_broad
    for number, found in enumerate(exploration.sets, start=1):
        marker = style("  <- least broad", "green") if found is least else ""
        lines.append(f"  {number}. {_grants(found.grants)}  (breadth {found.breadth}){marker}")
        for element, step in found.proof:
            lines.append(f"       without {element[0]}:{element[1]}: {step}")
    if least is not None:
        lines.append("  " + _comparison(exploration, least))
    if not exploration.exhaustive:
        lines.append("  (stopped after the first sets; more minimal sets may exist)")
    return "\n".join(lines) + "\n"


def _comparison(exploration: Exploration, least: MinimalSet) -> str:
    dropped = sorted(set(exploration.granted) - set(least.grants))
    if not dropped:
        return "no grant can be dropped (1-minimal); `connector-harness check` also looks for narrower scopes"
    return (
        f"compared with the current grant (breadth {exploration.granted_breadth}): "
        f"breadth {least.breadth}, without {_grants(tuple(dropped))}"
    )


def _data(exploration: Exploration, *, timing: bool) -> dict[str, Any]:
    least = exploration.least_broad
    return {
        "binding": exploration.binding,
        "granted": [f"{s}:{g}" for s, g in exploration.granted],
        "granted_breadth": exploration.granted_breadth,
        "replays": exploration.replays,
        "exhaustive": exploration.exhaustive,
        "failing_regardless": list(exploration.failing_regardless),
        "sets": [
            {
                "grants": [f"{s}:{g}" for s, g in found.grants],
                "breadth": found.breadth,
                "least_broad": found is least,
                "proof": {f"{s}:{g}": step for (s, g), step in found.proof},
            }
            for found in exploration.sets
        ],
        **({"seconds": round(exploration.seconds, 3)} if timing else {}),
    }
