"""`{{ name }}` in a step's URL: filled as an automation platform pastes a value in."""

from __future__ import annotations

from harness.placeholders import substitute_url


def test_a_slash_in_a_path_value_separates_segments() -> None:
    url = "https://api.github.com/repos/{{ full_name }}/issues"
    filled = substitute_url(url, {"full_name": "acme/widgets"})
    assert filled == "https://api.github.com/repos/acme/widgets/issues"


def test_a_query_value_is_one_encoded_parameter_value() -> None:
    url = "https://api.crm.example/v1/contacts/{{ id }}?q={{ q }}&limit=5"
    filled = substitute_url(url, {"id": "a b", "q": "x&y=z/w#f"})
    assert filled == "https://api.crm.example/v1/contacts/a%20b?q=x%26y%3Dz%2Fw%23f&limit=5"


def test_a_value_cannot_add_a_query_a_fragment_or_a_placeholder() -> None:
    url = "https://api.crm.example/v1/{{ part }}"
    filled = substitute_url(url, {"part": "x?admin=1#{{ token }}"})
    assert filled == "https://api.crm.example/v1/x%3Fadmin%3D1%23%7B%7B%20token%20%7D%7D"


def test_an_unknown_name_stays_a_placeholder_or_becomes_empty() -> None:
    url = "https://api.crm.example/v1/{{ known }}/{{ captured }}"
    assert substitute_url(url, {"known": "k"}, keep_unknown=True) == (
        "https://api.crm.example/v1/k/{{ captured }}"
    )
    assert substitute_url(url, {"known": "k"}) == "https://api.crm.example/v1/k/"
