"""The relevance questions (`tests/relevance_questions.py`) keep finding their answers, by words, meaning and both.

The seed content with a few hundred generated lessons from other programmes beside it
(`tests/distractors.py`), on each search backend. Each test holds one way of ranking above
thresholds set a little below what it measured (`benchmarks/relevance.py` prints the same
figures with a few thousand distractors), so a change that makes search find the right entry
less often fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from kb import create_app
from kb.entries.models import Entry
from kb.extensions import db
from kb.permissions import can_view_entry
from kb.search.backend import backend
from tests.conftest import IsolatedClient
from tests.conftest import _settings as suite_settings
from tests.pg_search import SEARCH_BACKENDS, search_app
from tests.relevance import HYBRID, LEXICAL, MEMBER, SEMANTIC, Run, by_meaning, by_search, insert_distractors, run
from tests.relevance_questions import KEYWORD, KINDS, PARAPHRASE, QUESTION, QUESTIONS

DISTRACTORS = 300
SEED = 20

# (hit@3, MRR) each ranking must reach on each backend, overall and per kind: what it measured, less a margin.
THRESHOLDS: dict[str, dict[str, dict[str, tuple[float, float]]]] = {
    "whoosh": {
        LEXICAL: {"all": (0.80, 0.77), QUESTION: (0.90, 0.90), PARAPHRASE: (0.50, 0.45), KEYWORD: (0.95, 0.95)},
        SEMANTIC: {"all": (0.66, 0.53), QUESTION: (0.82, 0.73), PARAPHRASE: (0.30, 0.22), KEYWORD: (0.85, 0.75)},
        HYBRID: {"all": (0.86, 0.83), QUESTION: (0.96, 0.93), PARAPHRASE: (0.55, 0.56), KEYWORD: (0.95, 0.89)},
    },
    "postgresql": {
        LEXICAL: {"all": (0.76, 0.72), QUESTION: (0.90, 0.90), PARAPHRASE: (0.38, 0.31), KEYWORD: (0.95, 0.93)},
        SEMANTIC: {"all": (0.66, 0.53), QUESTION: (0.82, 0.73), PARAPHRASE: (0.30, 0.22), KEYWORD: (0.85, 0.75)},
        HYBRID: {"all": (0.81, 0.77), QUESTION: (0.90, 0.90), PARAPHRASE: (0.53, 0.45), KEYWORD: (0.95, 0.87)},
    },
}


@dataclass
class Site:
    """The same database and index seen by an app with search by meaning on and one with it off."""

    backend: str
    meaning_on: Flask
    meaning_off: Flask


@pytest.fixture(scope="module", params=SEARCH_BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, seeded_database: Path
) -> Iterator[Site]:
    """The seed content and the distractors on one backend, shared by this module's tests (they only read)."""
    folder = tmp_path_factory.mktemp(f"relevance-{request.param}")
    meaning_on = search_app(request.param, folder, seeded_database, seeded=True, SEARCH_MEANING=True)
    with meaning_on.app_context():
        insert_distractors(DISTRACTORS, SEED)
        backend().rebuild()
        uri = meaning_on.config["SQLALCHEMY_DATABASE_URI"]
        db.session.remove()
        db.engine.dispose()
    meaning_off = create_app(
        suite_settings(
            folder,
            uri,
            SEARCH_BACKEND=request.param,
            SEARCH_MEANING=False,
            SEARCH_REBUILD_AT_START="off",
        )
    )
    meaning_off.test_client_class = IsolatedClient
    with meaning_on.app_context():
        yield Site(request.param, meaning_on, meaning_off)
        db.session.remove()
        db.engine.dispose()
    with meaning_off.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def lexical(site: Site) -> Run:
    """Every question asked of the search with meaning off."""
    return run(by_search(site.meaning_off))


@pytest.fixture(scope="module")
def semantic(site: Site) -> Run:
    """Every question asked of the meaning layer alone."""
    ranker = by_meaning(site.meaning_on)
    assert ranker is not None, "search by meaning is on, so the app has a meaning layer"
    return run(ranker)


@pytest.fixture(scope="module")
def hybrid(site: Site) -> Run:
    """Every question asked of the search with meaning on."""
    return run(by_search(site.meaning_on))


def test_the_questions_cover_each_kind_and_every_answer_is_an_entry_the_member_may_read(site: Site):
    assert len(QUESTIONS) >= 60
    assert len({question.text for question in QUESTIONS}) == len(QUESTIONS)
    for kind in KINDS:
        assert sum(question.kind == kind for question in QUESTIONS) >= 15, kind
    slugs = {slug for question in QUESTIONS for slug in question.answers}
    entries = {entry.slug: entry for entry in db.session.scalars(select(Entry).where(Entry.slug.in_(slugs)))}
    assert set(entries) == slugs
    for slug, entry in entries.items():
        assert can_view_entry(MEMBER, entry), slug


def assert_at_least(measured: Run, backend_name: str, mode: str) -> None:
    for kind, (hit3, mrr) in THRESHOLDS[backend_name][mode].items():
        got = measured.overall() if kind == "all" else measured.of_kind(kind)
        missed = [question.text for question, _ in measured.misses() if kind in ("all", question.kind)]
        assert got.hit3 >= hit3, f"{mode} {kind}: {got}; missed in the first three: {missed}"
        assert got.mrr >= mrr, f"{mode} {kind}: {got}; missed in the first three: {missed}"


def test_words_alone_find_the_answers(site: Site, lexical: Run):
    assert_at_least(lexical, site.backend, LEXICAL)


def test_meaning_alone_finds_the_answers(site: Site, semantic: Run):
    assert_at_least(semantic, site.backend, SEMANTIC)


def test_words_and_meaning_together_find_the_answers(site: Site, hybrid: Run):
    assert_at_least(hybrid, site.backend, HYBRID)


def test_meaning_does_not_make_keyword_searches_worse(lexical: Run, hybrid: Run):
    words, both = lexical.of_kind(KEYWORD), hybrid.of_kind(KEYWORD)
    assert both.hit3 >= words.hit3, (words, both)
    assert both.mrr >= words.mrr, (words, both)
