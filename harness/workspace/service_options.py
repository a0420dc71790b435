"""Service-wide options of a spec: how paths route (`routing:`) and upload sessions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.model import RoutingOptions, UploadSessions


def read_routing(data: Mapping[str, Any]) -> RoutingOptions:
    """`routing: {case_insensitive, base_paths, key_segments, aliases}` (all optional)."""
    spec = data.get("routing") or {}
    return RoutingOptions(
        case_insensitive=bool(spec.get("case_insensitive", False)),
        base_paths=tuple(spec.get("base_paths", ())),
        key_segments=bool(spec.get("key_segments", False)),
        aliases=tuple((str(a), str(b)) for a, b in spec.get("aliases", ())),
    )


def read_upload_sessions(data: Mapping[str, Any]) -> UploadSessions | None:
    """`upload_sessions: {param: upload_id, opens: {uploadType: resumable}}`."""
    spec = data.get("upload_sessions")
    if not spec:
        return None
    return UploadSessions(
        param=str(spec["param"]),
        opens=tuple(sorted((str(k), str(v)) for k, v in spec["opens"].items())),
    )
