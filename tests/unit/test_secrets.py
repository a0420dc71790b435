"""Secrets in recordings: by shape (one test per known format), by name, by path, in URLs."""

from __future__ import annotations

import pytest

from harness.recording import scrub_content, scrub_url
from harness.secrets import SecretScrubber, find_secrets

# One realistic token per pattern of harness.secrets.KNOWN_FORMATS (none of them real).
SHAPES: list[tuple[str, str]] = [
    ("Slack token", "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"),
    ("Slack token", "xoxp-1234567890-0987654321-AbCdEfGhIjKlMnOp"),
    ("Slack token", "xapp-1-A0123456789-1234567890123-abcdef0123456789"),
    ("Slack token", "xoxe-1-My0xLTEyMzQ1Njc4OTAtMDk4NzY1"),
    ("Slack webhook", "hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdefghijklmnopqrstuvwx"),
    ("GitHub token", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("GitHub token", "gho_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("GitHub token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123"),
    ("GitLab token", "glpat-abcdefghij0123456789"),
    ("AWS access key id", "AKIAIOSFODNN7EXAMPLE"),
    ("AWS access key id", "ASIAIOSFODNN7EXAMPLE"),
    ("Google API key", "AIza" + "SyA1234567890abcdefghijklmnopqrstuv"),
    ("Google OAuth token", "ya29.a0AfH6SMBx1234567890abcdefghijklmnop"),
    ("Google OAuth token", "1//0gAbCdEfGhIjKlMnOpQrStUvWxYz"),
    ("Stripe key", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"),
    ("Stripe key", "rk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"),
    ("npm token", "npm_" + "abcdefghijklmnopqrstuvwxyz0123456789"),
    ("SendGrid key", "SG.abcdefghijklmnop_QRS.tuvwxyz0123456789ABCDEF"),
    (
        "JSON Web Token",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ("bearer credential", "Bearer 0123456789abcdefABCDEF"),
    (
        "private key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
        "-----END RSA PRIVATE KEY-----",
    ),
]


@pytest.mark.parametrize(("kind", "token"), SHAPES, ids=[f"{k}:{t[:8]}" for k, t in SHAPES])
def test_each_known_shape_is_found_inside_text(kind: str, token: str) -> None:
    text = f"before {token} after"
    spans = find_secrets(text)
    assert [(found, text[start:end]) for found, start, end in spans] == [(kind, token)]


@pytest.mark.parametrize(("kind", "token"), SHAPES, ids=[f"{k}:{t[:8]}" for k, t in SHAPES])
def test_each_known_shape_is_replaced_by_a_handle(kind: str, token: str) -> None:
    scrubbed = SecretScrubber().text(f"value: {token}.")
    assert token not in scrubbed
    assert "<secret-1>" in scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "f47ac10b-58cc-4372-a567-0e02b3c479a4",  # a UUID names a resource
        "The quick brown fox jumps over the lazy dog",
        "/v1/contacts/12345/notes",
        "crm.contacts.read",
        "author",
    ],
)
def test_ordinary_text_is_no_secret(text: str) -> None:
    assert find_secrets(text) == []


@pytest.mark.parametrize(
    "document",
    [
        {"credentials": {"value": "hunter2"}},
        {"auth": {"pass": "hunter2"}},
        {"config": {"client_secret": {"current": ["hunter2"]}}},
        {"session": [{"id": "hunter2"}]},
        {"password": {"nested": {"deeper": "hunter2"}}},
    ],
)
def test_values_under_a_secret_named_parent_are_replaced(document: dict[str, object]) -> None:
    scrubber = SecretScrubber()
    scrubbed = scrubber.value("", document)
    assert "hunter2" not in repr(scrubbed)
    assert scrubber.count == 1


def test_a_number_under_a_secret_key_is_replaced() -> None:
    scrubbed = SecretScrubber().value("", {"password": {"code": 123456}})
    assert scrubbed == {"password": {"code": "<secret-1>"}}


def test_the_author_of_a_commit_is_no_secret() -> None:
    data = {"author": {"name": "Octo Cat", "email": "octo@example.com"}}
    assert SecretScrubber().value("", data) == data


@pytest.mark.parametrize(
    "name", ["key", "sig", "code", "X-Amz-Signature", "X-Amz-Credential", "signature", "token"]
)
def test_query_parameters_named_as_secrets_are_replaced(name: str) -> None:
    url = f"https://api.example.com/v1/files?{name}=opensesame&page=2"
    scrubbed = scrub_url(url, SecretScrubber())
    assert "opensesame" not in scrubbed
    assert "page=2" in scrubbed


def test_url_user_information_is_dropped_and_counted() -> None:
    scrubber = SecretScrubber()
    scrubbed = scrub_url("https://deploy:hunter2@api.example.com/v1/x", scrubber)
    assert scrubbed == "https://api.example.com/v1/x"
    assert scrubber.count == 1


def test_form_fields_named_as_secrets_are_replaced() -> None:
    scrubbed = scrub_content(b"grant_type=authorization_code&code=opensesame", SecretScrubber())
    assert b"opensesame" not in scrubbed
    assert b"grant_type=authorization_code" in scrubbed
