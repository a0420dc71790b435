"""The import direction of docs/architecture.md: each layer imports only its own and the
layers below it, the engine imports no pytest, and the two adapters stay apart.

Every import counts, at module level or inside a function, and also those only for type
checking: a layer that needs a name from above for its annotations has an arrow pointing
the wrong way all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "harness"

# Bottom to top: a module may import modules of its own layer and of the layers below.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "values",
        (
            "harness.errors",
            "harness.pickling",
            "harness.scopes",
            "harness.sql",
            "harness.model",
            "harness.calls",
            "harness.placeholders",
            "harness.routing",
            "harness.tokens",
            "harness.secrets",
            "harness.paths",
            "harness.yaml_text",
            "harness.findings",
            "harness.arguments",
            "harness.conditions",
            "harness.permission_models",
            "harness.breadth",
            "harness.route_index",
            # plain text of values, which any layer may write
            "harness.render.style",
            "harness.render.suggestions",
        ),
    ),
    # harness.n8n: exported n8n workflows are workspace files too, read into policy documents
    # by the loader (import-n8n writes the same documents out)
    ("workspace", ("harness.workspace", "harness.n8n")),
    (
        "sandbox",
        (
            "harness.decisions",
            "harness.authorization",
            "harness.call_requirements",
            "harness.replay_state",
            "harness.mock_answers",
            "harness.sandbox",
            "harness.replay",
            "harness.interception",
            "harness.egress_guard",
            "harness.transports",
            "harness.recording",
        ),
    ),
    (
        "analysis",
        (
            "harness.cover",
            "harness.analysis",
            "harness.fixes",
            "harness.settlement",
            "harness.cells",
            "harness.gate",
            "harness.baseline",
            "harness.audit",
            "harness.explore",
            "harness.engine",
            "harness.inventory",
            "harness.report",
            "harness.sharding",
            "harness.lint",
        ),
    ),
    ("render", ("harness.render",)),
    (
        "api",
        (
            "harness.live",
            "harness.boundary",
            "harness.importers",
            "harness.strategies",
            "harness.options",
        ),
    ),
    ("adapters", ("harness.cli", "harness.commands", "harness.demo", "harness.pytest_plugin")),
)
ADAPTERS = ("harness.commands", "harness.cli", "harness.demo"), ("harness.pytest_plugin",)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports (absolute names), wherever the import statement is."""
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            # `from harness.workspace import cache` imports the module harness.workspace.cache
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def _owns(prefix: str, module: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _layer(module: str) -> int | None:
    """The layer index of a harness module (the most specific prefix decides)."""
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if _owns(prefix, module) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def _upward(module: str, imports: set[str]) -> list[str]:
    """The imports of `module` that point at a layer above its own."""
    own = _layer(module)
    assert own is not None, f"{module} belongs to no layer"
    return sorted(
        f"{module} ({LAYERS[own][0]}) imports {name} ({LAYERS[layer][0]})"
        for name in imports
        if name.startswith("harness.") and (layer := _layer(name)) is not None and layer > own
    )


def test_every_module_belongs_to_a_layer() -> None:
    unplaced = [module for module in MODULES if module != "harness" and _layer(module) is None]
    assert unplaced == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "harness"))
def test_a_module_imports_only_its_own_layer_and_those_below(module: str) -> None:
    assert _upward(module, MODULES[module]) == []


def test_the_engine_imports_no_pytest() -> None:
    engine = [m for m in MODULES if not _owns("harness.pytest_plugin", m)]
    offenders = sorted(
        f"{module} imports {name}"
        for module in engine
        for name in MODULES[module]
        if name.split(".")[0] in ("pytest", "_pytest")
    )
    assert offenders == []


def test_the_cli_and_the_pytest_plugin_do_not_import_each_other() -> None:
    for this, other in (ADAPTERS, ADAPTERS[::-1]):
        offenders = sorted(
            f"{module} imports {name}"
            for module in MODULES
            if any(_owns(prefix, module) for prefix in this)
            for name in MODULES[module]
            if any(_owns(prefix, name) for prefix in other)
        )
        assert offenders == []


def test_hypothesis_is_imported_only_by_the_strategies() -> None:
    """An optional extra: the rest of the harness must work without it."""
    users = sorted(m for m in MODULES if any(n.split(".")[0] == "hypothesis" for n in MODULES[m]))
    assert users == ["harness.strategies"]


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The rules above can fail: the workspace layer importing from the render layer."""
    source = tmp_path / "loader.py"
    source.write_text("def f():\n    from harness.render.text import render_text\n", "utf-8")
    assert _upward("harness.workspace.loader", _imports(source)) == [
        "harness.workspace.loader (workspace) imports harness.render.text (render)",
        "harness.workspace.loader (workspace) imports harness.render.text.render_text (render)",
    ]
