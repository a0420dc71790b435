"""What connector-harness knows of n8n's credential types: the scopes each asks the user to
consent to (read from n8n-nodes-base by the runner), the permission model its token
holds per service, and the connector kind it becomes.

n8n's own descriptions are the source of the scopes. The models are this project's
reading of how n8n uses each credential (which token the node code sends), with the
place in n8n's code or the vendor's page that says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# n8n's Slack OAuth2 credential asks for user scopes (`user_scope=`) and its node sends the
# user token: `oAuth2Options.property = 'authed_user.access_token'` in
# nodes/Slack/V2/GenericFunctions.js. GitHub's OAuth2 credential holds classic OAuth App
# scopes (`repo`, `admin:org`, ...: https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps),
# and a personal access token (githubApi) is classic unless the mapping file says `model: app`.
# Microsoft's OAuth2 credentials use the authorization code flow, so they hold delegated
# permissions; a service principal holds application permissions
# (https://learn.microsoft.com/en-us/graph/auth/auth-concepts#delegated-and-application-permissions).
MODELS: dict[str, dict[str, str]] = {
    "githubOAuth2Api": {"github": "oauth"},
    "githubApi": {"github": "oauth"},
    "githubAppApi": {"github": "app"},
    "slackOAuth2Api": {"slack": "user"},
    "slackManagerOAuth2Api": {"slack": "user"},
    "slackApi": {"slack": "bot"},
    "microsoftEntraServicePrincipalApi": {"msgraph": "application"},
}
_MICROSOFT_DELEGATED = "microsoftOAuth2Api"
SIGN_IN_SCOPES = frozenset({"openid", "offline_access", "profile", "email"})
_SPLIT = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class CredentialType:
    """One n8n credential type as the pinned n8n-nodes-base describes it."""

    name: str
    known: bool
    extends: tuple[str, ...] = ()
    oauth2: bool = False
    scopes: tuple[str, ...] = ()  # what n8n asks the user to consent to by default
    customizable: bool = False  # the user may have chosen other scopes in n8n
    grant_type: str = ""

    @property
    def holds_unknown_scopes(self) -> bool:
        """A token whose scopes n8n does not choose (an API key, a pasted access token)."""
        return not self.scopes

    def models(self) -> dict[str, str]:
        """service -> the permission model this credential's token holds there."""
        if self.name in MODELS:
            return dict(MODELS[self.name])
        if _MICROSOFT_DELEGATED in self.extends:
            return {"msgraph": "delegated"}
        return {}

    def kind(self) -> tuple[str, str]:
        """The connector's `kind` and `credential.type` for this credential type."""
        if self.name == "googleApi":
            return "service-account", "service-account-key"
        if self.oauth2:
            if self.grant_type == "clientCredentials":
                return "service-account", "oauth2-client-credentials"
            return "user-delegated", "oauth2-refresh-token"
        if self.name == "slackApi":
            return "bot", "bot-token"
        if "basic" in self.name.lower():
            return "api-key", "basic"
        return "api-key", "api-key"


def split_scopes(text: str) -> tuple[str, ...]:
    """A scope string as n8n stores it: space separated (GitHub's: comma separated)."""
    return tuple(dict.fromkeys(part for part in _SPLIT.split(text.strip()) if part))


def credential_type(described: dict[str, Any]) -> CredentialType:
    """A CredentialType from the runner's `describe` answer for one type."""
    name = str(described.get("name", ""))
    if not described.get("known"):
        return CredentialType(name, False)
    scope_text = described.get("userScope") or described.get("scope") or ""
    return CredentialType(
        name=name,
        known=True,
        extends=tuple(str(e) for e in described.get("extends", ()) if isinstance(e, str)),
        oauth2=bool(described.get("oauth2")),
        scopes=split_scopes(str(scope_text)) if isinstance(scope_text, str) else (),
        customizable=bool(described.get("customizable")),
        grant_type=str(described.get("grantType") or ""),
    )


def sign_in_only(scopes: Iterable[str]) -> bool:
    return all(scope in SIGN_IN_SCOPES for scope in scopes)
