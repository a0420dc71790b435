"""One realism case: a real SDK call, the grants the vendor documents for it, and the page."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Permission models as connectors name them (the first of each service is its default).
MODELS: dict[str, tuple[str, ...]] = {
    "slack": ("bot", "user"),
    "github": ("app", "oauth"),
    "msgraph": ("delegated", "application"),
    "gmail": ("",),
    "google-drive": ("",),
    "google-sheets": ("",),
}


@dataclass(frozen=True, slots=True)
class Answer:
    """A vendor's response the SDK needs to go on (an upload session URL, a created id)."""

    status: int = 200
    json: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    content: bytes | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """A vendor operation as an automation makes it, and what the vendor says it needs.

    `minimal` is the least grant the vendor documents for this permission model and these
    arguments; `alternatives` lists other grant sets the vendor documents as equally minimal
    (an endpoint that accepts either of two permissions). `broader` is accepted by the vendor
    but grants more (to be reported over-broad or excessive); `refused` is a grant the vendor
    rejects the call with (to be reported missing). `reference` is the vendor's page stating
    the rule. `given` is what the flow says of the resources it starts with, as a flow's
    `given:` (`{"google-drive": {"file": ["ID"]}}`, `{"slack": {"channel": {"private_channel":
    ["G..."]}}}`): a file shared with the app, a channel's type.
    """

    service: str
    model: str
    operation: str
    call: Callable[[Any], Any]
    minimal: tuple[str, ...]
    broader: tuple[str, ...]
    refused: tuple[str, ...]
    reference: str
    answers: tuple[Answer, ...] = ()
    alternatives: tuple[tuple[str, ...], ...] = ()
    note: str = ""
    given: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.model not in MODELS[self.service]:
            raise ValueError(f"{self.service} has no permission model {self.model!r}")
        if not self.reference.startswith("https://"):
            raise ValueError(f"{self.id}: the reference must be the vendor's page URL")
        if set(self.broader) <= set(self.minimal) or set(self.refused) == set(self.minimal):
            raise ValueError(f"{self.id}: broader and refused grants must differ from minimal")

    @property
    def id(self) -> str:
        """`slack-bot-chat.postMessage`: the vendor, the model and the operation."""
        parts = [self.service, self.model, self.operation]
        return re.sub(r"[^A-Za-z0-9_.:=,()/+-]+", "_", "-".join(p for p in parts if p))

    @property
    def acceptable_minimal(self) -> tuple[frozenset[str], ...]:
        return (frozenset(self.minimal), *(frozenset(a) for a in self.alternatives))
