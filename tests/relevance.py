"""Scoring search against `tests.relevance_questions`: hit@1, hit@3 and MRR, by words, by meaning and both.

Three ways to rank, each for a signed-in member without a panel seat:
- `lexical`: the search service of an app with `SEARCH_MEANING` off (words only);
- `semantic`: `MeaningLayer.meaning_ids` of an app with it on (meaning only);
- `hybrid`: the search service of an app with it on (the two fused).
Each gives the slugs of its first `DEPTH` results; MRR counts a first hit below that as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from kb.entries.models import Entry
from kb.extensions import db
from kb.permissions import Viewer
from kb.search.service import SearchRequest, search
from kb.states import Role
from tests.relevance_questions import KINDS, QUESTIONS, Question

DEPTH = 10
LEXICAL = "lexical"
SEMANTIC = "semantic"
HYBRID = "hybrid"
MODES = (LEXICAL, SEMANTIC, HYBRID)
MEMBER = Viewer(user_id=987654321, role=Role.MEMBER)
"""A member who wrote nothing and has no panel seat: sees public and members' entries."""

Ranker = Callable[[str], list[str]]


def meaning_layer(app: Flask):  # type: ignore[no-untyped-def]
    """The app's meaning layer, or None when it is off (or kb has none)."""
    try:
        from kb.search.meaning.layer import active
    except ImportError:
        return None
    with app.app_context():
        return active(app)


def _slugs(ids: Iterable[int]) -> list[str]:
    ids = list(ids)
    found = dict(db.session.execute(select(Entry.id, Entry.slug).where(Entry.id.in_(ids))).tuples().all())
    return [found[entry_id] for entry_id in ids if entry_id in found]


def by_search(app: Flask, viewer: Viewer = MEMBER) -> Ranker:
    """Slugs of the search page's first results, as the app ranks them."""

    def rank(text: str) -> list[str]:
        with app.app_context():
            results = search(viewer, SearchRequest(text=text, per_page=DEPTH))
            return [hit.entry.slug for hit in results.hits]

    return rank


def by_meaning(app: Flask, viewer: Viewer = MEMBER) -> Ranker | None:
    """Slugs of the entries closest in meaning, or None when the app has no meaning layer."""
    layer = meaning_layer(app)
    if layer is None:
        return None

    def rank(text: str) -> list[str]:
        with app.app_context():
            return _slugs(layer.meaning_ids(viewer, text, limit=DEPTH))

    return rank


def first_hit(ranked: list[str], question: Question) -> int | None:
    """The 1-based place of the first answer among `ranked`, or None."""
    for place, slug in enumerate(ranked, start=1):
        if slug in question.answers:
            return place
    return None


@dataclass(frozen=True)
class Scores:
    """Hit@1, hit@3 and mean reciprocal rank over some questions."""

    questions: int
    hit1: float
    hit3: float
    mrr: float

    def __str__(self) -> str:
        return f"hit@1 {self.hit1:.2f}  hit@3 {self.hit3:.2f}  MRR {self.mrr:.2f}  (n={self.questions})"


def scores(places: list[int | None]) -> Scores:
    """Scores of the first-hit places of some questions."""
    count = len(places)
    if not count:
        return Scores(0, 0.0, 0.0, 0.0)
    return Scores(
        questions=count,
        hit1=sum(place == 1 for place in places) / count,
        hit3=sum(place is not None and place <= 3 for place in places) / count,
        mrr=sum(1.0 / place for place in places if place is not None) / count,
    )


@dataclass
class Run:
    """Every question's first-hit place under one ranking."""

    places: dict[Question, int | None]

    def overall(self) -> Scores:
        """Scores over all the questions."""
        return scores(list(self.places.values()))

    def of_kind(self, kind: str) -> Scores:
        """Scores over the questions of one kind."""
        return scores([place for question, place in self.places.items() if question.kind == kind])

    def by_kind(self) -> dict[str, Scores]:
        """Scores for each kind."""
        return {kind: self.of_kind(kind) for kind in KINDS}

    def misses(self, within: int = 3) -> list[tuple[Question, int | None]]:
        """Questions whose first answer is not in the first `within` places."""
        return [(question, place) for question, place in self.places.items() if place is None or place > within]


def run(ranker: Ranker, questions: Iterable[Question] = QUESTIONS) -> Run:
    """Ask every question and note where its first answer came."""
    return Run({question: first_hit(ranker(question.text), question) for question in questions})
