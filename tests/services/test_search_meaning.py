"""Search by meaning: entries' parts, their stored vectors, the viewer's visibility, and paraphrases found.

The vectors are written for real by the drain that follows each commit, with the real
model, on each search backend (Whoosh, PostgreSQL full-text search) and on the suite's
database (SQLite, or PostgreSQL with `KB_TEST_DATABASE=postgresql`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update

from kb.entries.models import Entry, Lesson, Paper, Review
from kb.extensions import db
from kb.markdown import render
from kb.permissions import ANONYMOUS, Viewer, viewer_for
from kb.search.backend import backend
from kb.search.meaning import layer as meaning_layer
from kb.search.meaning.layer import MeaningLayer, active, meaning_text
from kb.search.meaning.matrix import PartMatrix
from kb.search.meaning.model import MODEL_NAME, TokenIds, Vectors, embedder
from kb.search.meaning.parts import PageOfDocument, entry_parts, pieces, sections
from kb.search.models import MeaningPart, SearchQueueItem
from kb.search.queue import MAX_ATTEMPTS
from kb.search.service import SearchRequest
from kb.taxonomy.models import Tag
from tests.accounts import make_user
from tests.conftest import make_app
from tests.document_rows import add_document
from tests.pg_search import SEARCH_BACKENDS, in_context, search_app

CHEAP_BID = "the cheapest bidder beat the local partnership"
PROCUREMENT_LESSONS = {"north-west-contract-won-on-cheaper-bid", "procurement-weighted-towards-cost"}


class CountingEmbedder:
    """The real model, counting the texts it is asked to embed (and failing while `broken`)."""

    def __init__(self) -> None:
        self.inner = embedder()
        self.name = self.inner.name
        self.dimensions = self.inner.dimensions
        self.vocabulary = self.inner.vocabulary
        self.texts: list[str] = []
        self.broken = False

    def embed(self, texts: list[str], weights: Vectors | None = None) -> Vectors:
        if self.broken:
            raise RuntimeError("the model is unavailable")
        self.texts += texts
        return self.inner.embed(texts, weights)

    def token_ids(self, texts: list[str]) -> list[TokenIds]:
        return self.inner.token_ids(texts)


@pytest.fixture(params=SEARCH_BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path, empty_database: Path) -> Iterator[Flask]:
    """An empty site on each search backend."""
    yield from in_context(search_app(request.param, tmp_path, empty_database, seeded=False))


@pytest.fixture(scope="module", params=SEARCH_BACKENDS)
def seeded_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, seeded_database: Path
) -> Iterator[Flask]:
    """The seeded site on each search backend, shared by the tests that only read."""
    folder = tmp_path_factory.mktemp(f"meaning-{request.param}")
    yield from in_context(search_app(request.param, folder, seeded_database, seeded=True))


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingEmbedder:
    """The model the layer writes with, counting what it embeds."""
    model = CountingEmbedder()
    monkeypatch.setattr(meaning_layer, "embedder", lambda: model)
    return model


def the_layer() -> MeaningLayer:
    found = active()
    assert found is not None
    return found


def slugs_of(ids: list[int]) -> list[str]:
    by_id = dict(db.session.execute(select(Entry.id, Entry.slug).where(Entry.id.in_(ids))).all())
    return [by_id[entry_id] for entry_id in ids]


def stored_rows(entry_id: int) -> list[tuple[int, str, str]]:
    query = select(MeaningPart.id, MeaningPart.label, MeaningPart.fingerprint).where(MeaningPart.entry_id == entry_id)
    return [tuple(row) for row in db.session.execute(query.order_by(MeaningPart.position))]


def a_lesson(slug: str, **fields: object) -> Lesson:
    values: dict[str, object] = {
        "title": "Phone lines overwhelmed on launch day",
        "summary": "Callers waited for an hour when the service opened.",
        "driving_event": "The new number went live on a bank holiday weekend.",
        "lesson_text": "Staffing was planned for an ordinary weekday.",
        "recommendation": "Plan staffing for the busiest day, not the average one.",
        "evidence": "Call logs for the first weekend.",
        "region": "North",
        "event_date": dt.date(2013, 4, 1),
        "event_date_precision": "month",
    }
    lesson = Lesson(slug=slug, **(values | fields))
    db.session.add(lesson)
    db.session.commit()
    return lesson


# --- parts -------------------------------------------------------------------------------------


def test_a_lessons_parts_are_its_summary_and_each_section_with_the_pages_anchor() -> None:
    lesson = Lesson(
        slug="phones",
        title="Phone lines overwhelmed",
        summary="Callers **waited** an hour.",
        driving_event="Launch on a holiday.",
        lesson_text="Staffing was planned for a weekday.",
        recommendation="",
        evidence="Call logs, see [[call-logs|the logs]].",
    )
    lesson.tags = [Tag(slug="staffing", label="Staffing")]
    parts = entry_parts(lesson)
    assert [(part.label, part.anchor) for part in parts] == [
        ("Summary", ""),
        ("Driving event", "driving-event"),
        ("Lesson", "lesson"),
        ("Evidence", "evidence"),
    ]
    assert parts[0].text == "Phone lines overwhelmed\n\nCallers waited an hour.\n\nStaffing"
    assert parts[3].text == "Call logs, see the logs."


def test_a_papers_text_is_split_at_its_headings_with_the_anchors_the_page_gives_them() -> None:
    body = (
        "Opening words.\n\n## Costs and risks\n\nThe price was low.\n\n```\n# not a heading\n```\n\n"
        "### Next steps\n\nPause the roll-out.\n\n## Costs and risks\n\nAgain."
    )
    paper = Paper(slug="board-paper", title="Board paper", summary="", body=body)
    parts = entry_parts(paper)
    rendered = render(body)
    assert [part.anchor for part in parts[2:]] == [heading.anchor for heading in rendered.headings]
    assert [part.label for part in parts] == ["Summary", "Text", "Costs and risks", "Next steps", "Costs and risks"]
    assert "# not a heading" in sections(body)[1][2]
    assert parts[2].text == "Costs and risks The price was low. not a heading"


def test_each_document_page_is_a_part_linking_to_the_page() -> None:
    review = Review(slug="a-review", title="A review", summary="About it.", terms_of_reference="Look at **costs**.")
    pages = [PageOfDocument(7, "Terms.pdf", 1, "First page."), PageOfDocument(7, "Terms.pdf", 2, "Second page.")]
    parts = entry_parts(review, pages)
    assert [(part.label, part.anchor) for part in parts[1:]] == [
        ("Terms of reference", "terms-of-reference"),
        ("Page 1 of Terms.pdf", "/reviews/a-review/documents/7#page-1"),
        ("Page 2 of Terms.pdf", "/reviews/a-review/documents/7#page-2"),
    ]


def test_a_long_part_is_cut_into_pieces_at_paragraph_ends() -> None:
    text = "\n\n".join(" ".join(f"w{n}" for n in range(size)) for size in (100, 100, 100, 600))
    cut = pieces(text, limit=250)
    assert [len(piece.split()) for piece in cut] == [200, 100, 250, 250, 100]
    assert " ".join(cut).split() == text.split()


def test_exact_queries_are_taken_at_their_word() -> None:
    assert meaning_text("  why did the service fail?  ") == "why did the service fail?"
    assert meaning_text("go-live pressure") == "go-live pressure"
    for exact in ('"car crash"', "cost AND quality", "cost -price", "tag:procurement", "tri?ge", "consortuim~", " "):
        assert meaning_text(exact) is None, exact


# --- stored vectors ----------------------------------------------------------------------------


def test_a_saved_entry_has_a_unit_vector_per_part(site: Flask) -> None:
    lesson = a_lesson("phones")
    rows = db.session.scalars(select(MeaningPart).where(MeaningPart.entry_id == lesson.id)).all()
    assert [row.label for row in rows] == ["Summary", "Driving event", "Lesson", "Recommendation", "Evidence"]
    assert {row.model for row in rows} == {MODEL_NAME}
    for row in rows:
        vector = np.frombuffer(row.vector, dtype="<f4")
        assert vector.shape == (embedder().dimensions,)
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    assert backend().check().in_step


def test_an_unchanged_part_is_not_embedded_again(site: Flask, counting: CountingEmbedder) -> None:
    lesson = a_lesson("phones")
    other = a_lesson("other", title="Another lesson")
    backend().rebuild()
    before = stored_rows(other.id)
    counting.texts.clear()
    lesson.recommendation = "Staff for the peak."
    db.session.commit()
    assert counting.texts == ["Staff for the peak."]
    assert [label for _, label, _ in stored_rows(lesson.id)][3] == "Recommendation"
    assert stored_rows(other.id) == before, "an entry whose parts did not change keeps its rows"
    backend().rebuild()  # The edit changed the token weights: every part is pooled again.
    before = stored_rows(other.id)
    counting.texts.clear()
    backend().rebuild()
    assert counting.texts == [], "nothing changed, not even the weights"
    assert stored_rows(other.id) == before


def test_a_deleted_entry_takes_its_rows_with_it(site: Flask) -> None:
    lesson = a_lesson("phones")
    kept = a_lesson("kept", title="Kept lesson")
    assert stored_rows(lesson.id)
    db.session.delete(lesson)
    db.session.commit()
    assert db.session.scalars(select(MeaningPart.entry_id).distinct()).all() == [kept.id]
    assert backend().check().in_step


def test_a_document_page_is_embedded_when_added(site: Flask) -> None:
    lesson = a_lesson("phones")
    add_document(lesson, "Call logs", ["Calls by hour on the first weekend.", ""])
    labels = [label for _, label, _ in stored_rows(lesson.id)]
    assert labels[-1] == "Page 1 of Call logs"
    assert len(labels) == 6


def test_check_reports_missing_and_stale_vectors_and_rebuild_repairs_them(site: Flask) -> None:
    first = a_lesson("first")
    second = a_lesson("second", title="Second lesson")
    db.session.execute(delete(MeaningPart).where(MeaningPart.entry_id == first.id))
    db.session.execute(update(MeaningPart).where(MeaningPart.entry_id == second.id).values(fingerprint="0" * 64))
    db.session.commit()
    report = backend().check()
    assert (report.missing, report.stale, report.in_step) == ([first.id], [second.id], False)
    backend().rebuild()
    assert backend().check().in_step


def test_check_lists_vectors_of_an_entry_gone_and_rebuild_removes_them(site: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's foreign key takes the rows with their entry")
    lesson = a_lesson("first")
    gone = lesson.id + 1000
    row = db.session.scalars(select(MeaningPart).where(MeaningPart.entry_id == lesson.id)).first()
    assert row is not None
    db.session.add(MeaningPart(entry_id=gone, model=row.model, fingerprint=row.fingerprint, vector=row.vector))
    db.session.commit()
    assert backend().check().extra == [str(gone)]
    backend().rebuild()
    assert stored_rows(gone) == []
    assert backend().check().in_step


def test_a_model_failure_keeps_the_word_index_and_retries_until_reported(
    site: Flask, counting: CountingEmbedder
) -> None:
    counting.broken = True
    lesson = a_lesson("phones")
    found = backend().search(ANONYMOUS, SearchRequest(text="overwhelmed"))
    assert [hit.entry.id for hit in found.hits] == [lesson.id], "the word index was written"
    assert stored_rows(lesson.id) == []
    waiting = db.session.scalars(select(SearchQueueItem).where(SearchQueueItem.indexed_at.is_(None))).all()
    assert [(row.entry_id, row.attempts) for row in waiting] == [(lesson.id, 1)]
    assert "the model is unavailable" in (waiting[0].last_error or "")
    assert backend().check().missing == [lesson.id]
    for _ in range(MAX_ATTEMPTS):
        backend().drain(timeout=5)
    report = backend().check()
    assert [entry_id for entry_id, _ in report.failed] == [lesson.id], "given up on, and reported"
    counting.broken = False
    backend().drain(timeout=5)
    backend().rebuild()
    assert stored_rows(lesson.id)
    assert backend().check().missing == []


def test_a_failure_before_any_vector_is_written_queues_the_entries_again(
    site: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(layer: MeaningLayer, session: object) -> None:
        raise RuntimeError("the weights could not be read")

    monkeypatch.setattr(MeaningLayer, "weighting", unreadable)
    lesson = a_lesson("phones")
    assert stored_rows(lesson.id) == []
    waiting = db.session.scalars(select(SearchQueueItem).where(SearchQueueItem.indexed_at.is_(None))).all()
    assert [(row.entry_id, row.attempts) for row in waiting] == [(lesson.id, 1)]
    assert "the weights could not be read" in (waiting[0].last_error or "")
    monkeypatch.undo()
    backend().drain(timeout=5)
    assert stored_rows(lesson.id), "retried by the next drain"


def test_entries_made_before_the_layer_get_vectors_at_start(tmp_path: Path, empty_database: Path) -> None:
    off = make_app(tmp_path / "off", empty_database, SEARCH_MEANING=False)
    with off.app_context():
        assert active() is None
        assert not isinstance(backend(), MeaningLayer)
        lesson_id = a_lesson("phones").id
        assert stored_rows(lesson_id) == []
        found = backend().search(ANONYMOUS, SearchRequest(text=CHEAP_BID))
        assert found.request.meaning == ()
        uri = str(off.config["SQLALCHEMY_DATABASE_URI"])
        db.session.remove()
        db.engine.dispose()
    on = make_app(tmp_path / "on", empty_database, SQLALCHEMY_DATABASE_URI=uri)
    with on.app_context():
        assert len(stored_rows(lesson_id)) == 5
        db.session.remove()
        db.engine.dispose()


def assert_matrix_holds_the_table(matrix: PartMatrix) -> None:
    rows = db.session.execute(select(MeaningPart.id, MeaningPart.entry_id, MeaningPart.vector)).all()
    held = dict(
        zip(matrix.row_ids.tolist(), zip(matrix.row_entries.tolist(), matrix.vectors, strict=True), strict=True)
    )
    assert sorted(held) == sorted(row.id for row in rows)
    for row in rows:
        assert held[row.id][0] == row.entry_id
        assert np.array_equal(held[row.id][1], np.frombuffer(row.vector, dtype="<f4"))


def test_a_workers_matrix_follows_new_edited_and_removed_entries(site: Flask) -> None:
    layer = the_layer()
    first = a_lesson("first")
    assert_matrix_holds_the_table(layer.matrix())
    second = a_lesson("second", title="Second lesson")
    first.evidence = "Complaints from callers."
    db.session.commit()
    assert_matrix_holds_the_table(layer.matrix())
    db.session.delete(second)
    db.session.commit()
    matrix = layer.matrix()
    assert_matrix_holds_the_table(matrix)
    assert set(matrix.entries.tolist()) == {first.id}
    assert layer.matrix() is matrix, "read again only when the rows change"


def test_a_workers_matrix_holds_only_its_models_rows_and_follows_them_beside_anothers(site: Flask) -> None:
    layer = the_layer()
    first = a_lesson("first")
    other = np.ones(256, dtype="<f4") / 16
    db.session.add(
        MeaningPart(entry_id=first.id, position=99, model="another-model", fingerprint="f", vector=other.tobytes())
    )
    db.session.commit()
    matrix = layer.matrix()
    assert 99 not in matrix.positions.tolist()
    second = a_lesson("second", title="Second lesson")
    matrix = layer.matrix()
    assert set(matrix.entries.tolist()) == {first.id, second.id}
    assert 99 not in matrix.positions.tolist()
    assert len(matrix) == db.session.scalar(select(func.count()).where(MeaningPart.model == MODEL_NAME))


def test_the_matrix_follows_the_newest_entry_edited_and_replaced(site: Flask) -> None:
    layer = the_layer()
    a_lesson("older")
    newest = a_lesson("newest")
    layer.matrix()
    newest.evidence = "Complaints from callers."
    db.session.commit()
    assert_matrix_holds_the_table(layer.matrix())
    db.session.delete(newest)
    db.session.commit()
    a_lesson("again", title="A lesson written after the newest was removed")
    assert_matrix_holds_the_table(layer.matrix())


# --- visibility --------------------------------------------------------------------------------

SAME_TEXT = {
    "title": "Ambulance handovers delayed at the hospital door",
    "summary": "Crews queued outside emergency departments for hours.",
}


def test_meaning_never_offers_an_entry_the_viewer_may_not_read(site: Flask) -> None:
    review = Review(slug="review-a", title="Review A", commissioning_body="Board")
    db.session.add(review)
    db.session.commit()
    author = make_user("author@example.org")
    panel = make_user("panel@example.org", panels=(review,))
    member = make_user("member@example.org")
    moderator = make_user("moderator@example.org", role="moderator")
    made = {
        "public": a_lesson("public", **SAME_TEXT),
        "members": a_lesson("members", visibility="members", **SAME_TEXT),
        "panel": a_lesson("panel", visibility="panel", review_id=review.id, **SAME_TEXT),
        "draft": a_lesson("draft", status="draft", author_id=author.id, **SAME_TEXT),
        "merged": a_lesson("merged", status="merged", **SAME_TEXT),
    }
    expected: dict[str, tuple[Viewer, set[str]]] = {
        "anonymous": (ANONYMOUS, {"public"}),
        "member": (viewer_for(member), {"public", "members"}),
        "panel": (viewer_for(panel), {"public", "members", "panel"}),
        "author": (viewer_for(author), {"public", "members", "draft"}),
        "moderator": (viewer_for(moderator), {"public", "members", "panel", "draft"}),
    }
    layer = the_layer()
    question = "ambulances waiting outside the emergency department"
    for name, (viewer, slugs) in expected.items():
        assert set(slugs_of(layer.meaning_ids(viewer, question))) == slugs, name
        for entry in made.values():
            related = set(slugs_of(layer.related_ids(viewer, entry, limit=10, exclude=[])))
            assert related == slugs - {entry.slug}, (name, entry.slug)
        public = made["public"]
        assert isinstance(public, Lesson)
        similar = set(slugs_of(layer.similar_lesson_ids(viewer, public, limit=10, exclude=[])))
        assert similar == set(), "the same region and year is not elsewhere"


def test_a_search_follows_an_entry_hidden_or_opened_after_it_was_indexed(site: Flask) -> None:
    changing = a_lesson("changing", **SAME_TEXT)
    staying = a_lesson("staying", **SAME_TEXT)
    member = viewer_for(make_user("member@example.org"))
    layer = the_layer()
    question = "ambulances waiting outside the emergency department"
    assert set(layer.meaning_ids(ANONYMOUS, question)) == {changing.id, staying.id}
    changing.status = "draft"
    db.session.commit()
    assert layer.meaning_ids(ANONYMOUS, question) == [staying.id]
    assert layer.meaning_ids(member, question) == [staying.id]
    changing.status, changing.visibility = "published", "members"
    db.session.commit()
    assert layer.meaning_ids(ANONYMOUS, question) == [staying.id]
    assert set(layer.meaning_ids(member, question)) == {changing.id, staying.id}


class WatchedRows(np.ndarray):
    """A matrix that notes which of its rows are read, and refuses to be multiplied whole."""

    read: set[int]

    def __getitem__(self, key: object) -> np.ndarray:
        rows = np.arange(len(self))[key if isinstance(key, tuple) is False else key[0]]
        self.read.update(np.atleast_1d(rows).tolist())
        return np.asarray(self).__getitem__(key)

    def take(self, indices: object, axis: object = None, out: object = None, mode: str = "raise") -> np.ndarray:  # type: ignore[override]
        self.read.update(np.atleast_1d(np.asarray(indices)).tolist())
        return np.asarray(self).take(indices, axis=axis, out=out, mode=mode)

    def __matmul__(self, other: object) -> np.ndarray:
        raise AssertionError("every row multiplied, hidden ones too")


def test_the_mask_is_applied_before_any_vector_is_read(site: Flask) -> None:
    hidden = a_lesson("hidden", status="draft", **SAME_TEXT)
    visible = a_lesson("visible", **SAME_TEXT)
    layer = the_layer()
    matrix = layer.matrix()
    parts, means = matrix.vectors.view(WatchedRows), matrix.entry_vectors.view(WatchedRows)
    parts.read, means.read = set(), set()
    matrix.vectors, matrix.entry_vectors = parts, means
    found = layer.meaning_matches(ANONYMOUS, "ambulance handovers")
    assert [match.entry_id for match in found] == [visible.id]
    assert layer.related_ids(ANONYMOUS, visible, limit=5, exclude=[]) == []
    read_entries = {int(matrix.row_entries[row]) for row in parts.read}
    read_entries |= {int(matrix.entries[index]) for index in means.read}
    assert read_entries == {visible.id}, f"{hidden.id} is hidden"


def test_similar_lessons_come_from_another_region_or_year(site: Flask) -> None:
    lesson = a_lesson("here", **SAME_TEXT)
    a_lesson("same-place-and-year", **SAME_TEXT)
    a_lesson("elsewhere", region="South", **SAME_TEXT)
    a_lesson("later", event_date=dt.date(2019, 1, 1), **SAME_TEXT)
    db.session.add(Paper(slug="a-paper", **SAME_TEXT))
    db.session.commit()
    similar = slugs_of(the_layer().similar_lesson_ids(ANONYMOUS, lesson, limit=5, exclude=[]))
    assert set(similar) == {"elsewhere", "later"}
    related = slugs_of(the_layer().related_ids(ANONYMOUS, lesson, limit=5, exclude=[]))
    assert set(related) == {"same-place-and-year", "elsewhere", "later", "a-paper"}


# --- meaning over the seed content -------------------------------------------------------------


def test_a_paraphrase_without_shared_words_finds_the_procurement_lessons(seeded_site: Flask) -> None:
    found = slugs_of(the_layer().meaning_ids(ANONYMOUS, CHEAP_BID, limit=3))
    assert PROCUREMENT_LESSONS & set(found)


def test_a_question_finds_the_lesson_that_answers_it_by_its_best_part(seeded_site: Flask) -> None:
    matches = the_layer().meaning_matches(ANONYMOUS, "was cost put ahead of quality in the tender", limit=3)
    assert slugs_of([match.entry_id for match in matches])[0] == "procurement-weighted-towards-cost"
    assert [match.score for match in matches] == sorted((match.score for match in matches), reverse=True)


def test_unrelated_questions_add_nothing(seeded_site: Flask) -> None:
    for text in ("chocolate cake recipe with strawberries", "football world cup final"):
        assert the_layer().meaning_ids(ANONYMOUS, text) == [], text


def test_facets_narrow_what_meaning_offers(seeded_site: Flask) -> None:
    layer = the_layer()
    everything = layer.meaning_ids(ANONYMOUS, CHEAP_BID, limit=50)
    papers = layer.meaning_ids(ANONYMOUS, CHEAP_BID, facets={"kind": ["paper"]}, limit=50)
    kinds = dict(db.session.execute(select(Entry.id, Entry.kind)).all())
    assert papers == [entry_id for entry_id in everything if kinds[entry_id] == "paper"]


def test_a_search_hands_the_backend_the_entries_close_in_meaning(
    seeded_site: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = the_layer()
    asked: list[SearchRequest] = []
    original = layer.inner.search
    monkeypatch.setattr(
        layer.inner, "search", lambda viewer, request: asked.append(request) or original(viewer, request)
    )
    backend().search(ANONYMOUS, SearchRequest(text=CHEAP_BID))
    backend().search(ANONYMOUS, SearchRequest(text=f'"{CHEAP_BID}"'))
    ask = asked[0].meaning_of
    assert ask is not None
    handed = tuple(ask())
    assert handed == tuple(layer.meaning_ids(ANONYMOUS, CHEAP_BID))
    assert PROCUREMENT_LESSONS & set(slugs_of(list(handed)))
    assert (asked[1].meaning, asked[1].meaning_of) == ((), None)


def test_a_keyword_search_that_finds_enough_never_asks_for_meaning(
    seeded_site: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = the_layer()
    asked: list[str] = []
    find = layer.meaning_ids
    monkeypatch.setattr(
        layer, "meaning_ids", lambda viewer, text, **options: asked.append(text) or find(viewer, text, **options)
    )
    words = backend().search(ANONYMOUS, SearchRequest(text="procurement"))
    assert words.with_every_word >= 3
    assert asked == []
    backend().search(ANONYMOUS, SearchRequest(text=CHEAP_BID))
    assert asked == [CHEAP_BID], "a question of several words is asked about"
