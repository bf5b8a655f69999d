"""Token weights of search by meaning: counted on rebuild and first fill, shared by every process, used on both sides.

Real model, real database (SQLite, or PostgreSQL with `KB_TEST_DATABASE=postgresql`), each
search backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from kb.entries.models import Lesson
from kb.extensions import db
from kb.permissions import ANONYMOUS
from kb.search.backend import backend
from kb.search.meaning import store, weights
from kb.search.meaning.layer import MeaningLayer, active
from kb.search.meaning.model import MODEL_NAME, embedder
from kb.search.meaning.parts import entry_parts
from kb.search.models import MeaningPart, MeaningWeights
from tests.conftest import make_app
from tests.pg_search import SEARCH_BACKENDS, in_context, search_app


@pytest.fixture(params=SEARCH_BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path, empty_database: Path) -> Iterator[Flask]:
    """An empty site on each search backend."""
    yield from in_context(search_app(request.param, tmp_path, empty_database, seeded=False))


def the_layer() -> MeaningLayer:
    found = active()
    assert found is not None
    return found


def a_lesson(slug: str, title: str, lesson_text: str) -> Lesson:
    lesson = Lesson(
        slug=slug,
        title=title,
        summary="The service opened late.",
        lesson_text=lesson_text,
        region="North",
        event_date=dt.date(2013, 4, 1),
        event_date_precision="month",
    )
    db.session.add(lesson)
    db.session.commit()
    return lesson


def some_lessons() -> list[Lesson]:
    return [
        a_lesson("phones", "Phone lines overwhelmed", "The service had too few call handlers."),
        a_lesson("cover", "Night cover thin", "The service relied on agency doctors at night."),
        a_lesson("bikes", "Paramedics on bicycles", "A bicycle crew reached the service's callers in town."),
    ]


def weights_rows() -> list[MeaningWeights]:
    return list(db.session.scalars(select(MeaningWeights).order_by(MeaningWeights.id)))


def weight_of(values: np.ndarray, word: str) -> float:
    return float(values[embedder().token_ids([word])[0]].min())


def fingerprints_now(version: str) -> set[str]:
    lessons = db.session.scalars(select(Lesson)).all()
    return {part.fingerprint(MODEL_NAME, version) for lesson in lessons for part in entry_parts(lesson)}


def stored_fingerprints() -> set[str]:
    return set(db.session.scalars(select(MeaningPart.fingerprint)))


def test_a_new_site_pools_plainly_until_a_rebuild_counts_the_weights(site: Flask) -> None:
    some_lessons()
    assert weights_rows() == []
    assert stored_fingerprints() == fingerprints_now(""), "saved with every token weighing 1"
    assert backend().check().in_step
    backend().rebuild()
    [row] = weights_rows()
    assert row.model == MODEL_NAME
    assert row.parts == db.session.scalar(select(func.count(MeaningPart.id)))
    values = np.frombuffer(row.weights, dtype="<f4")
    assert values.shape == (embedder().vocabulary,)
    assert weight_of(values, "bicycle") > weight_of(values, "service"), "a rare word weighs more"
    assert weight_of(values, "service") >= 1.0
    assert stored_fingerprints() == fingerprints_now(row.version)
    assert backend().check().in_step


def test_the_first_fill_counts_the_weights_for_entries_made_before(tmp_path: Path, empty_database: Path) -> None:
    off = make_app(tmp_path / "off", empty_database, SEARCH_MEANING=False)
    with off.app_context():
        some_lessons()
        uri = str(off.config["SQLALCHEMY_DATABASE_URI"])
        assert weights_rows() == []
        db.session.remove()
        db.engine.dispose()
    on = make_app(tmp_path / "on", empty_database, SQLALCHEMY_DATABASE_URI=uri)
    with on.app_context():
        [row] = weights_rows()
        assert stored_fingerprints() == fingerprints_now(row.version)
        assert store.compare(db.session, MODEL_NAME, the_layer().weighting(db.session)) == store.MeaningCheck([], [])
        db.session.remove()
        db.engine.dispose()


def test_vectors_of_other_weights_are_stale_and_rebuild_pools_them_again(site: Flask) -> None:
    some_lessons()
    backend().rebuild()
    counted = weights_rows()[0].version
    other = np.full(embedder().vocabulary, 2.0, dtype=np.float32)
    other[embedder().token_ids(["bicycle"])[0]] = 9.0
    db.session.add(
        MeaningWeights(
            model=MODEL_NAME,
            version=weights.version_of(MODEL_NAME, other),
            parts=3,
            weights=other.tobytes(),
        )
    )
    db.session.commit()
    report = backend().check()
    assert len(report.stale) == 3
    assert not report.in_step
    backend().rebuild()
    [row] = weights_rows()
    assert row.version == counted, "counted again from the same parts"
    assert stored_fingerprints() == fingerprints_now(counted)
    assert backend().check().in_step


def test_a_question_is_pooled_with_the_weights_of_the_parts(site: Flask) -> None:
    lessons = some_lessons()
    backend().rebuild()
    layer = the_layer()
    text = "A bicycle crew reached the service's callers in town."
    [match, *_] = layer.meaning_matches(ANONYMOUS, text)
    assert layer.matrices.weighting.version == weights_rows()[0].version
    assert (match.entry_id, match.position) == (lessons[2].id, 1)
    assert match.score > 0.9999, "the same text pooled the same way"
    plain = embedder().embed([text])[0]
    stored = np.frombuffer(
        db.session.scalar(
            select(MeaningPart.vector).where(MeaningPart.entry_id == lessons[2].id, MeaningPart.position == 1)
        )
        or b"",
        dtype="<f4",
    )
    assert float(plain @ stored) < 0.9999, "the weights change the vector"


def test_another_process_follows_new_weights(site: Flask, tmp_path: Path, empty_database: Path) -> None:
    uri = str(site.config["SQLALCHEMY_DATABASE_URI"])
    # Another worker of the same site: the same database and search backend.
    shared = {name: site.config[name] for name in ("SEARCH_BACKEND", "SEARCH_INDEX_DIR")}
    other = make_app(tmp_path / "other", empty_database, SQLALCHEMY_DATABASE_URI=uri, **shared)
    lessons = some_lessons()
    text = "A bicycle crew reached the service's callers in town."
    with other.app_context():
        layer = the_layer()
        layer.matrix()
        assert layer.matrices.weighting.plain
        db.session.remove()
    backend().rebuild()
    version = weights_rows()[0].version
    with other.app_context():
        [match, *_] = layer.meaning_matches(ANONYMOUS, text)
        assert layer.matrices.weighting.version == version
        assert (match.entry_id, match.score > 0.9999) == (lessons[2].id, True)
        held = layer.matrices.weighting
        layer.matrix()
        assert layer.matrices.weighting is held, "read again only when the table changes"
        db.session.remove()
    db.session.execute(delete(MeaningWeights))
    db.session.commit()
    with other.app_context():
        layer.matrix()
        assert layer.matrices.weighting.plain
        db.session.remove()
        db.engine.dispose()


def test_a_workers_matrix_follows_an_edit_of_the_entry_holding_the_newest_rows(site: Flask) -> None:
    lessons = some_lessons()
    layer = the_layer()
    layer.matrix()
    lessons[2].lesson_text = "Cycle couriers carried the blood samples."
    db.session.commit()
    matrix = layer.matrix()
    rows = db.session.execute(select(MeaningPart.id, MeaningPart.vector).order_by(MeaningPart.id)).all()
    assert matrix.row_ids.tolist() == [row.id for row in rows]
    held = dict(zip(matrix.row_ids.tolist(), matrix.vectors, strict=True))
    for row in rows:
        assert np.array_equal(held[row.id], np.frombuffer(row.vector, dtype="<f4")), row.id
