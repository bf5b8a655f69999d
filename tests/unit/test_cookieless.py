"""Which requests use no cookie session: API calls with a bearer token, feeds, robots.txt and the sitemap."""

from __future__ import annotations

import pytest
from flask import Flask

from kb.cookieless import is_cookieless


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/feeds/all.atom", {}, True),
        ("/robots.txt", {}, True),
        ("/sitemap.xml", {}, True),
        ("/api/v1/entries", {"Authorization": "Bearer kb_x"}, True),
        ("/api/v1/entries", {}, False),
        ("/lessons", {"Authorization": "Bearer kb_x"}, False),
        ("/robots.txt.bak", {}, False),
        ("/sitemap.xml.old", {}, False),
        ("/feedsx", {}, False),
        ("/account", {}, False),
    ],
)
def test_only_token_calls_and_feed_reads_go_without_cookies(path: str, headers: dict[str, str], expected: bool) -> None:
    with Flask(__name__).test_request_context(path, headers=headers) as context:
        assert is_cookieless(context.request) is expected
