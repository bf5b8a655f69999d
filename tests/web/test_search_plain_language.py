"""Questions in plain words, joined and split forms of a word, and entries close in meaning counted as matches.

Every test runs on each search backend (Whoosh, PostgreSQL full-text search) over the seed
content, searching as a signed-out reader, with the meaning layer off: meaning ids are given
by hand here, as the layer would give them, and what a backend does with them is tested.
`test_search_meaning.py` and `test_relevance_questions.py` search with the layer on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kb.entries.models import Entry
from kb.extensions import db
from kb.permissions import ANONYMOUS, visible_entries
from kb.search.fusion import fuse
from kb.search.service import SearchRequest, SearchResults, search
from tests.pg_search import SEARCH_BACKENDS, in_context, search_app
from tests.web.dom import main_of

BRISTOL = "Bristol triage responses"
PROCUREMENT = "procurement cost quality"
"""Queries of three words, so entries close in meaning join them however many entries have every word."""
COST_VERSUS_QUALITY = {"procurement-weighted-towards-cost", "north-west-contract-won-on-cheaper-bid"}


@pytest.fixture(scope="module", params=SEARCH_BACKENDS)
def search_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, seeded_database: Path
) -> Iterator[Flask]:
    """The seeded site on each search backend, shared by this module's tests (they only read)."""
    folder = tmp_path_factory.mktemp(f"plain-{request.param}")
    yield from in_context(search_app(request.param, folder, seeded_database, seeded=True, SEARCH_MEANING=False))


@pytest.fixture
def client(search_site: Flask) -> FlaskClient:
    return search_site.test_client()


def find(text: str, **options: object) -> SearchResults:
    return search(ANONYMOUS, SearchRequest(text=text, per_page=50, **options))  # type: ignore[arg-type]


def slugs(results: SearchResults) -> list[str]:
    return [hit.entry.slug for hit in results.hits]


def entry_id(slug: str) -> int:
    found = db.session.scalar(select(Entry.id).where(Entry.slug == slug))
    assert found is not None, slug
    return found


def hidden_entry_id() -> int:
    """An entry of the seed content a signed-out reader may not see."""
    hidden = db.session.scalar(
        select(Entry.id).where(~Entry.id.in_(select(Entry.id).where(visible_entries(ANONYMOUS))))
    )
    assert hidden is not None
    return hidden


# --- Questions in plain words --------------------------------------------------------


def test_a_question_finds_the_lesson_whose_title_answers_it_first(search_site):
    results = find("why did the North West service fail?")
    assert slugs(results)[0] == "north-west-service-failed-within-hours"
    assert results.parsed.notes == ()  # The question mark is punctuation, not a wildcard.


def test_question_words_need_not_match(search_site):
    assert slugs(find("how much did it cost"))[:3] == slugs(find("cost"))[:3]


def test_both_cost_versus_quality_lessons_are_near_the_top(search_site):
    results = find("was cost put ahead of quality in the tender")
    assert set(slugs(results)[:4]) >= COST_VERSUS_QUALITY, slugs(results)[:6]


def test_the_rare_word_of_a_question_outweighs_its_common_ones(search_site):
    assert slugs(find("what happened in Bristol"))[0] == "bristol-gps-report-inappropriate-triage-responses"


def test_too_few_with_every_word_shows_entries_with_some_of_them(search_site):
    strict = find("was cost put ahead of quality in the tender", exact=True)
    results = find("was cost put ahead of quality in the tender")
    assert results.broadened
    assert results.with_every_word == strict.total < 3
    assert results.total > strict.total
    assert set(slugs(strict)) <= set(slugs(results)[: strict.total + 3])


def test_enough_with_every_word_is_not_broadened(search_site):
    results = find("North West service")
    assert not results.broadened
    assert results.total == results.with_every_word >= 3


def test_the_note_says_how_many_have_every_word(client):
    strict = find("north west hours quality", exact=True)
    response = client.get("/search", query_string={"q": "north west hours quality"})
    notes = main_of(response.data).one("div", cls="kb-search-notes").text()
    if strict.total:
        assert f"Only {strict.total} " in notes
    else:
        assert "No entry has all of these words" in notes


# --- Joined and split forms ------------------------------------------------------------


@pytest.mark.parametrize("text", ["golive", "go-live", "go live"])
def test_joined_and_split_forms_meet(search_site, text):
    results = find(text)
    assert results.corrected_from is None
    assert results.suggestion is None
    assert set(slugs(results)) == set(slugs(find("go live")))
    assert "go-live-deadline-missed-across-half-of-england" in slugs(results)


def test_a_compound_is_not_corrected_into_another_word(client):
    page = main_of(client.get("/search", query_string={"q": "golive"}).data)
    notes = page.find("div", cls="kb-search-notes")
    assert notes is None or "give" not in notes.text()


# --- Entries close in meaning ----------------------------------------------------------


def test_meaning_ids_count_as_matches(search_site):
    words = find(BRISTOL)
    extra = entry_id("financial-penalties-do-not-help-patients")
    assert extra not in [hit.entry.id for hit in words.hits]
    results = find(BRISTOL, meaning=(extra,))
    assert results.total == words.total + 1
    assert extra in [hit.entry.id for hit in results.hits]
    kinds = {facet.value: facet.count for facet in results.facets["kind"]}
    assert sum(kinds.values()) == results.total


def test_relevance_order_is_the_fusion_of_words_and_meaning(search_site):
    by_words = [hit.entry.id for hit in find(PROCUREMENT).hits]
    meaning = (entry_id("pilot-feedback-not-properly-heard"), by_words[-1], entry_id("blame-placed-on-shadow-ccgs"))
    results = find(PROCUREMENT, meaning=meaning)
    assert [hit.entry.id for hit in results.hits] == fuse(by_words, meaning)


def test_meaning_ids_join_the_matches_in_date_order(search_site):
    extra = entry_id("financial-penalties-do-not-help-patients")
    newest = find(BRISTOL, meaning=(extra,), sort="newest")
    assert extra in [hit.entry.id for hit in newest.hits]
    by_relevance = find(BRISTOL, meaning=(extra,))
    assert sorted(hit.entry.id for hit in newest.hits) == sorted(hit.entry.id for hit in by_relevance.hits)


def test_a_hidden_entry_given_as_meaning_never_appears_or_counts(search_site):
    hidden = hidden_entry_id()
    words = find(BRISTOL)
    results = find(BRISTOL, meaning=(hidden,))
    assert results.total == words.total
    assert hidden not in [hit.entry.id for hit in results.hits]
    assert results.facets == words.facets
    assert find(BRISTOL, meaning=(hidden,), sort="newest").total == words.total


def test_meaning_ids_outside_the_chosen_facets_do_not_count(search_site):
    lesson = entry_id("financial-penalties-do-not-help-patients")
    paper = db.session.scalar(select(Entry.id).where(Entry.kind == "paper", visible_entries(ANONYMOUS)))
    assert paper is not None
    words = find(BRISTOL, facets={"kind": ["lesson"]})
    results = find(BRISTOL, facets={"kind": ["lesson"]}, meaning=(paper, lesson))
    found = [hit.entry.id for hit in results.hits]
    assert lesson in found
    assert paper not in found
    assert results.total == words.total + (lesson not in [hit.entry.id for hit in words.hits])


def test_a_short_keyword_search_that_finds_enough_is_left_to_its_words(search_site):
    words = find("procurement")
    assert words.with_every_word >= 3
    extra = entry_id("pilot-feedback-not-properly-heard")
    assert extra not in [hit.entry.id for hit in words.hits]
    results = find("procurement", meaning=(extra,))
    assert [hit.entry.id for hit in results.hits] == [hit.entry.id for hit in words.hits]
    assert results.total == words.total
