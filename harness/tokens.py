"""Signed sandbox tokens: compact HS256 JWTs that only the sandbox can mint and read.

Tokens carry the identity, the binding, the grants per service, expiry, audience
and issuer. They are signed with a key made per sandbox, so a token never works
outside the sandbox that issued it and a real credential is never needed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

ISSUER = "connector-harness-sandbox"
MAX_VERIFIED_TOKENS = 4096
_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says."""

    token_id: str
    subject: str  # the connector
    binding: str
    environment: str
    grants: dict[str, tuple[str, ...]]  # service -> grant strings
    issued_at: int
    expires_at: int
    audience: tuple[str, ...]
    issuer: str


class TokenRejected(Exception):
    """A token failed verification; `reason` is the RFC 6750 error description."""

    def __init__(self, reason: str, error: str = "invalid_token") -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(data: bytes) -> bytes:
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


class TokenAuthority:
    """Mints and verifies tokens; remembers revocations."""

    def __init__(self, key: bytes | None = None, issuer: str = ISSUER) -> None:
        self._key = key or secrets.token_bytes(32)
        self.issuer = issuer
        self._revoked: set[str] = set()
        self._serial = 0
        # Signatures are checked once per token; expiry, audience, issuer and
        # revocation are checked on every call (they change with the clock and state).
        self._verified: dict[str, Claims] = {}

    def mint(
        self,
        *,
        subject: str,
        binding: str,
        environment: str,
        grants: dict[str, tuple[str, ...]],
        issued_at: int,
        lifetime: int,
        audience: tuple[str, ...],
        issuer: str | None = None,
    ) -> str:
        self._serial += 1
        payload = {
            "jti": f"t{self._serial}",
            "sub": subject,
            "bnd": binding,
            "env": environment,
            "scp": {service: list(values) for service, values in sorted(grants.items())},
            "iat": issued_at,
            "exp": issued_at + lifetime,
            "aud": list(audience),
            "iss": issuer or self.issuer,
        }
        body = _HEADER + b"." + _b64(json.dumps(payload, separators=(",", ":")).encode())
        signature = hmac.new(self._key, body, hashlib.sha256).digest()
        return (body + b"." + _b64(signature)).decode()

    def revoke(self, token_id: str) -> None:
        self._revoked.add(token_id)

    @property
    def key(self) -> bytes:
        """The signing key, for a sandbox in a container that must accept these tokens."""
        return self._key

    @property
    def revoked(self) -> frozenset[str]:
        return frozenset(self._revoked)

    def verify(self, token: str, *, now: int, audience: str) -> Claims:
        """Check signature, issuer, expiry, audience and revocation; raise TokenRejected."""
        claims = self._genuine(token)
        if claims.issuer != self.issuer:
            raise TokenRejected(f"the token was issued by {claims.issuer!r}, not by this sandbox")
        if claims.token_id in self._revoked:
            raise TokenRejected("the token has been revoked")
        if now >= claims.expires_at:
            raise TokenRejected(f"the token expired {now - claims.expires_at}s ago")
        if claims.audience and audience not in claims.audience:
            raise TokenRejected(
                f"the token is not meant for {audience!r} (audience: {', '.join(claims.audience)})"
            )
        return claims

    def identify(self, token: str) -> Claims | None:
        """Who a genuine token belongs to, even when expired or revoked (for the decision log)."""
        try:
            return self._genuine(token)
        except TokenRejected:
            return None

    def _genuine(self, token: str) -> Claims:
        """The claims of a token whose signature is ours (memoised: tokens are immutable)."""
        claims = self._verified.get(token)
        if claims is None:
            claims = _claims(self._decode(token))
            if len(self._verified) >= MAX_VERIFIED_TOKENS:
                self._verified.clear()
            self._verified[token] = claims
        return claims

    def _decode(self, token: str) -> dict[str, Any]:
        raw = token.encode()
        body, _, signature = raw.rpartition(b".")
        if body.count(b".") != 1 or not signature:
            raise TokenRejected("the token is malformed")
        expected = hmac.new(self._key, body, hashlib.sha256).digest()
        try:
            valid = hmac.compare_digest(_unb64(signature), expected)
            payload: dict[str, Any] = json.loads(_unb64(body.split(b".", 1)[1]))
        except ValueError:
            raise TokenRejected("the token is malformed") from None
        if not valid:
            raise TokenRejected("the token signature is invalid")
        return payload


def _claims(payload: dict[str, Any]) -> Claims:
    return Claims(
        token_id=payload["jti"],
        subject=payload["sub"],
        binding=payload["bnd"],
        environment=payload["env"],
        grants={service: tuple(values) for service, values in payload["scp"].items()},
        issued_at=payload["iat"],
        expires_at=payload["exp"],
        audience=tuple(payload["aud"]),
        issuer=payload["iss"],
    )
