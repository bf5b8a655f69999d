"""The search page never answers 5xx, whatever is typed (queries made by hypothesis).

A text holding a character the doorway refuses (`kb.text`) gets its 400; any other gets the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.extensions import db
from kb.text import forbidden_character
from tests.conftest import make_app
from tests.unit.test_search_query_properties import QUERIES
from tests.web.test_bad_input import GENEROUS_LIMITS


@pytest.fixture(scope="module")
def search_app(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Flask]:
    application = make_app(tmp_path_factory.mktemp("search-properties"), seeded_database, **GENEROUS_LIMITS)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@settings(max_examples=40, deadline=None)
@given(text=QUERIES, sort=st.sampled_from(["", "relevance", "newest", "oldest"]), page=st.sampled_from(["", "1", "2"]))
def test_the_search_page_never_fails(search_app: Flask, text: str, sort: str, page: str) -> None:
    response = search_app.test_client().get("/search", query_string={"q": text, "sort": sort, "page": page})
    refused = forbidden_character(text) is not None or any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    assert response.status_code == (400 if refused else 200), text
