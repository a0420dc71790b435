"""connector-harness: least-privilege checks for automation connectors.

The Python API (docs/api.md). Each name loads on first use, so `import harness` stays
cheap (a pytest run pays for none of it until a test asks):

    load_workspace(path)                  services, connectors, roles, bindings and flows
    run_check(workspace, Selection(...))  replay, analyse and gate the selected bindings
    Report                                what run_check returns: .passed, .to_data()
    render_report(format, report)         text, json, markdown, sarif, junit or html
    LiveSandbox(workspace)                mock services for live flow code (a context
                                          manager): .binding(...), .assert_least_privilege()
    HttpSandbox(workspace)                the same on loopback HTTP ports, for any language
    BoundarySandbox(workspace)            the same inside a network namespace with no route
                                          out: .run([...]) judges any program (root only)
    BindingHandle                         a binding's token, headers and service URLs
    HarnessError                          the base of every error raised on purpose
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from harness.boundary import BoundarySandbox
    from harness.engine import Selection, run_check
    from harness.errors import HarnessError
    from harness.live import BindingHandle, HttpSandbox, LiveSandbox
    from harness.render.formats import render_report
    from harness.report import Report
    from harness.workspace.loader import load_workspace

_WHERE = {
    "BindingHandle": "harness.live",
    "BoundarySandbox": "harness.boundary",
    "HarnessError": "harness.errors",
    "HttpSandbox": "harness.live",
    "LiveSandbox": "harness.live",
    "Report": "harness.report",
    "Selection": "harness.engine",
    "load_workspace": "harness.workspace.loader",
    "render_report": "harness.render.formats",
    "run_check": "harness.engine",
}

__all__ = [
    "BindingHandle",
    "BoundarySandbox",
    "HarnessError",
    "HttpSandbox",
    "LiveSandbox",
    "Report",
    "Selection",
    "__version__",
    "load_workspace",
    "render_report",
    "run_check",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
