"""Relevance: what a member would type finds the entry that answers it in the first three results.

Each expected entry was chosen by reading the seed content in `content/`; all are visible
to a signed-out reader, which is what the `client` fixture is. Every test runs on each
search backend (Whoosh, PostgreSQL full-text search).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb.search.spelling import edit_distance
from tests.pg_search import SEARCH_BACKENDS, in_context, search_app
from tests.web import seed
from tests.web.dom import Node, main_of

TOP = 3

NATURAL_QUERIES = [
    # (what is typed, the slug that must be in the top three)
    ("cost weighting in tenders", "procurement-weighted-towards-cost"),
    ("triage software safety", "bristol-gps-report-inappropriate-triage-responses"),
    ("pressure to go live", "providers-pressed-to-go-live-before-ready"),
    ("price versus quality", "procurement-weighted-towards-cost"),
    ("set price contracts", "procurement-weighted-towards-cost"),
    ("cheap bid", "north-west-contract-won-on-cheaper-bid"),
    ("legal challenge", "fear-of-legal-challenge-led-to-blind-judging"),
    ("penalties", "financial-penalties-do-not-help-patients"),
    ("replace a failing provider", "financial-penalties-do-not-help-patients"),
    ("Bristol GPs", "bristol-gps-report-inappropriate-triage-responses"),
    ("palliative care patient", "bristol-gps-report-inappropriate-triage-responses"),
    ("safety", "bristol-gps-report-inappropriate-triage-responses"),
    ('"car crash"', "pilot-feedback-not-properly-heard"),
    ("pilots ignored", "pilot-feedback-not-properly-heard"),
    ("missed launch date", "go-live-deadline-missed-across-half-of-england"),
    ("0845", "go-live-deadline-missed-across-half-of-england"),
    ("shadow CCGs", "blame-placed-on-shadow-ccgs"),
    ("say no to the centre", "clinical-leaders-need-to-say-no"),
    ("slow down the roll-out", "pause-for-reflection-before-further-roll-out"),
    ("reorganisation", "short-timescale-during-commissioning-reorganisation"),
    ("urgent care working together", "pause-for-reflection-before-further-roll-out"),
    ("consortuim bid", "north-west-contract-won-on-cheaper-bid"),
]


@pytest.fixture(scope="module", params=SEARCH_BACKENDS)
def search_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, seeded_database: Path
) -> Iterator[Flask]:
    """The seeded site on each search backend, shared by this module's tests (they only read)."""
    folder = tmp_path_factory.mktemp(f"relevance-{request.param}")
    yield from in_context(search_app(request.param, folder, seeded_database, seeded=True))


@pytest.fixture
def client(search_site: Flask) -> FlaskClient:
    """A signed-out reader's client on the module's site."""
    return search_site.test_client()


def results_page(client, text: str, **args: str) -> Node:
    response = client.get("/search", query_string={"q": text, **args})
    assert response.status_code == 200, text
    return main_of(response.data)


def ranked_paths(page: Node) -> list[str]:
    results = page.find("ol", cls="kb-results")
    return results.entry_paths() if results is not None else []


def path_of(slug: str) -> str:
    return seed.path_of(seed.documents()[slug])


def correction_shown(page: Node) -> str | None:
    """The text a zero-result search was corrected to, from "Showing results for “...”"."""
    notes = page.find("div", cls="kb-search-notes")
    if notes is None:
        return None
    found = re.search(r"Showing results for “(.*?)”", notes.text())
    return found.group(1) if found else None


def test_expected_entries_are_visible_to_a_signed_out_reader():
    assert len(NATURAL_QUERIES) >= 15
    for _, slug in NATURAL_QUERIES:
        assert slug in seed.documents(), slug


@pytest.mark.parametrize(("text", "slug"), NATURAL_QUERIES, ids=[text for text, _ in NATURAL_QUERIES])
def test_natural_query_finds_the_entry_in_the_top_three(client, text, slug):
    ranked = ranked_paths(results_page(client, text))
    assert path_of(slug) in ranked[:TOP], f"{text!r}: top {TOP} were {ranked[:TOP]}"


def test_misspelling_is_corrected_to_the_right_word(client):
    page = results_page(client, "consortuim bid")
    assert correction_shown(page) == "consortium bid"


def test_title_words_outrank_a_passing_mention(client):
    # "sustainability" is in one review's title and only mentioned in a few other entries.
    ranked = ranked_paths(results_page(client, "sustainability"))
    assert ranked[0] == path_of("nhs-111-sustainability-review")


def test_a_phrase_only_finds_the_words_together(client):
    together = set(ranked_paths(results_page(client, '"car crash"')))
    apart = set(ranked_paths(results_page(client, "car crash")))
    assert path_of("pilot-feedback-not-properly-heard") in together
    assert together <= apart


@pytest.mark.parametrize("text", ["consortuim", "pathwyas", "rushed", "sued", "fines", "cheap bid"])
def test_a_correction_is_a_near_spelling_of_what_was_typed(client, text):
    # Corrections are looked up within two edits (whoosh's maxdist); of the words typed, not of their stems.
    corrected = correction_shown(results_page(client, text))
    if corrected is None:
        return
    typed, fixed = text.split(), corrected.split()
    assert len(typed) == len(fixed), f"{text!r} was corrected to {corrected!r}"
    for word, replacement in zip(typed, fixed, strict=True):
        assert edit_distance(word, replacement) <= 2, f"{text!r} was corrected to {corrected!r}"
