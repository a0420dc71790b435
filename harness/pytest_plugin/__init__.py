"""connector-harness as a pytest plugin; the hooks and fixtures live in `plugin`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.live import BindingHandle, LiveSandbox

__all__ = ["BindingHandle", "LiveSandbox"]


def __getattr__(name: str) -> Any:
    # the sandbox machinery loads on first use, not with the plugin (see _fixtures)
    if name in __all__:
        from harness import live as _live

        return getattr(_live, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
