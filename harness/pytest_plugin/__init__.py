"""connector-harness as a pytest plugin; the hooks and fixtures live in `plugin`."""

from __future__ import annotations

from harness.pytest_plugin._fixtures import BindingHandle, LiveSandbox

__all__ = ["BindingHandle", "LiveSandbox"]
