"""Scoring search against `tests.relevance_questions`: hit@1, hit@3 and MRR, by words, by meaning and both.

Three ways to rank, each for a signed-in member without a panel seat:
- `lexical`: the search service of an app with `SEARCH_MEANING` off (words only);
- `semantic`: `MeaningLayer.meaning_ids` of an app with it on (meaning only);
- `hybrid`: the search service of an app with it on (the two fused).
Each gives the slugs of its first `DEPTH` results; MRR counts a first hit below that as 0.
`insert_distractors` writes generated lessons (`tests.distractors`) beside the seed content
with Core inserts (nothing is queued: the caller rebuilds the search backend).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import cast

from flask import Flask
from sqlalchemy import Table, func, insert, select

from kb.entries.models import Entry, Lesson, entry_tags
from kb.extensions import db
from kb.permissions import Viewer
from kb.search.meaning.layer import MeaningLayer, active
from kb.search.service import SearchRequest, search
from kb.states import EntryKind, EntryStatus, Role, Visibility
from kb.taxonomy.models import Tag
from tests.distractors import distractor
from tests.relevance_questions import KINDS, QUESTIONS, Question, Scores, first_hit, scores

DEPTH = 10
LEXICAL = "lexical"
SEMANTIC = "semantic"
HYBRID = "hybrid"
MODES = (LEXICAL, SEMANTIC, HYBRID)
MEMBER = Viewer(user_id=987654321, role=Role.MEMBER)
"""A member who wrote nothing and has no panel seat: sees public and members' entries."""

Ranker = Callable[[str], list[str]]


def meaning_layer(app: Flask) -> MeaningLayer | None:
    """The app's meaning layer, or None when search by meaning is off."""
    with app.app_context():
        return active(app)


def _slugs(ids: Iterable[int]) -> list[str]:
    ids = list(ids)
    found = {row.id: row.slug for row in db.session.execute(select(Entry.id, Entry.slug).where(Entry.id.in_(ids)))}
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


def insert_distractors(count: int, seed: int) -> int:
    """Write `count` generated lessons (published, public) after the database's entries; returns how many."""
    rng = random.Random(seed)
    tag_rng = random.Random(seed + 1)  # a stream of its own, so the lessons are the same with any taxonomy
    first = (db.session.scalar(select(func.max(Entry.id))) or 0) + 1
    tag_ids = list(db.session.scalars(select(Tag.id).order_by(Tag.id)))
    entries, lessons, tags = [], [], []
    for offset in range(count):
        made = distractor(rng, offset + 1)
        entry_id = first + offset
        entries.append(
            {
                "id": entry_id,
                "kind": EntryKind.LESSON,
                "slug": made["slug"],
                "title": made["title"],
                "summary": made["summary"],
                "body": "",
                "status": EntryStatus.PUBLISHED,
                "visibility": Visibility.PUBLIC,
                "region": made["region"],
                "event_date": made["event_date"],
                "event_date_precision": "month",
                "organisation": made["organisation"],
                "sources": [],
                "created_at": made["created_at"],
                "updated_at": made["created_at"],
                "published_at": made["created_at"],
            }
        )
        lessons.append(
            {
                "id": entry_id,
                "driving_event": made["driving_event"],
                "lesson_text": made["lesson_text"],
                "recommendation": made["recommendation"],
                "evidence": made["evidence"],
            }
        )
        if tag_ids:
            tags.append({"entry_id": entry_id, "tag_id": tag_rng.choice(tag_ids)})
    if entries:
        db.session.execute(insert(cast(Table, Entry.__table__)), entries)
        db.session.execute(insert(cast(Table, Lesson.__table__)), lessons)
    if tags:
        db.session.execute(insert(entry_tags), tags)
    db.session.commit()
    return count
