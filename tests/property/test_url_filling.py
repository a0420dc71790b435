"""A value filled into a step's URL stays where its placeholder was: whatever it holds, the
host, the query and the fragment written around it are the ones the flow wrote."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from harness.placeholders import substitute_url

TEMPLATE = "https://api.svc.example/v1/{{ path }}/items?q={{ query }}&limit=5#top"
values = st.text(max_size=40)


@given(path=values, query=values)
def test_a_value_stays_in_its_place(path: str, query: str) -> None:
    filled = urlsplit(substitute_url(TEMPLATE, {"path": path, "query": query}))
    assert filled.netloc == "api.svc.example"
    assert filled.fragment == "top"
    assert unquote(filled.path) == f"/v1/{path}/items"
    assert parse_qsl(filled.query, keep_blank_values=True) == [("q", query), ("limit", "5")]
    assert "{{" not in filled.geturl()
