"""The workspace that strategies and helpers use by default: the pytest session's.

Kept apart from `harness.strategies` so the plugin can register the session's
workspace without importing Hypothesis (an optional extra, slow to import).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.model import Workspace

_ACTIVE: list[Callable[[], Workspace | None]] = []


def use_workspace(workspace: Workspace) -> None:
    """Make `workspace` the default for strategies created without `workspace=`."""
    _ACTIVE[:] = [lambda: workspace]


def use_workspace_from(load: Callable[[], Workspace | None]) -> None:
    """Like use_workspace, loading it only when first needed (the plugin's way)."""
    _ACTIVE[:] = [load]


def active_workspace() -> Workspace | None:
    return _ACTIVE[0]() if _ACTIVE else None
