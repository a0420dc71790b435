from __future__ import annotations

import pytest

from harness.tokens import TokenAuthority, TokenRejected

NOW = 1_800_000_000


def _mint(authority: TokenAuthority, **overrides: object) -> str:
    arguments: dict[str, object] = {
        "subject": "bot",
        "binding": "bot@prod",
        "environment": "prod",
        "grants": {"crm": ("crm.read",)},
        "issued_at": NOW,
        "lifetime": 3600,
        "audience": ("crm",),
    }
    arguments.update(overrides)
    return authority.mint(**arguments)  # type: ignore[arg-type]  # keyword mix built above


def test_a_genuine_token_verifies_with_its_claims() -> None:
    authority = TokenAuthority(b"k" * 32)
    claims = authority.verify(_mint(authority), now=NOW + 10, audience="crm")
    assert (claims.subject, claims.binding, claims.grants) == (
        "bot",
        "bot@prod",
        {"crm": ("crm.read",)},
    )
    assert claims.expires_at == NOW + 3600


@pytest.mark.parametrize(
    ("now", "audience", "reason"),
    [
        (NOW + 3600, "crm", "expired 0s ago"),
        (NOW + 7200, "crm", "expired 3600s ago"),
        (NOW, "chat", "not meant for 'chat'"),
    ],
)
def test_expiry_and_audience_are_enforced(now: int, audience: str, reason: str) -> None:
    authority = TokenAuthority(b"k" * 32)
    with pytest.raises(TokenRejected, match=reason):
        authority.verify(_mint(authority), now=now, audience=audience)


def test_tampered_foreign_and_revoked_tokens_are_rejected() -> None:
    authority = TokenAuthority(b"k" * 32)
    token = _mint(authority)
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    with pytest.raises(TokenRejected, match="signature is invalid"):
        authority.verify(f"{header}.{payload}.{flipped}", now=NOW, audience="crm")
    with pytest.raises(TokenRejected, match="signature is invalid"):
        TokenAuthority(b"j" * 32).verify(token, now=NOW, audience="crm")
    with pytest.raises(TokenRejected, match="malformed"):
        authority.verify("not-a-token", now=NOW, audience="crm")
    with pytest.raises(TokenRejected, match="issued by 'elsewhere'"):
        authority.verify(_mint(authority, issuer="elsewhere"), now=NOW, audience="crm")
    claims = authority.verify(token, now=NOW, audience="crm")
    authority.revoke(claims.token_id)
    with pytest.raises(TokenRejected, match="revoked"):
        authority.verify(token, now=NOW, audience="crm")
    assert authority.identify(token) == claims  # still identifiable for the decision log
