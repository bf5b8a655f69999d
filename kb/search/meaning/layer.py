"""The meaning layer: search, related entries and similar lessons by meaning, around either search backend.

`make` wraps the backend (it is listed in `kb.search.backend.LAYERS`) unless `SEARCH_MEANING`
is off. A search with text hands the backend the ids of the visible entries closest in
meaning (`SearchRequest.meaning`), which it counts and fuses with its own ranking; related
entries and similar lessons are ranked by meaning alone. Draining the queue and rebuilding
write the parts' vectors too (`store`), pooled with the token weights (`weights`) that a
rebuild, or the first fill, counts afresh; `check` reports entries whose vectors are missing
or stale. Every list is drawn only from the entries the viewer may list, before any vector
is compared: for a search, those the backend counts with the chosen facets
(`visible_entry_ids`, kept per searcher on Whoosh); for related lists, `permissions.listed_entries`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
from flask import Flask, current_app
from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.orm import Session

from kb.dates import utcnow
from kb.entries.models import Entry, Lesson
from kb.extensions import db
from kb.permissions import Viewer, listed_entries
from kb.search.documents import entry_date
from kb.search.interface import Layer, SearchBackend
from kb.search.meaning import store, weights
from kb.search.meaning.matrix import Matrices, PartMatrix, Scored
from kb.search.meaning.model import MODEL_NAME, Weighting, embedder
from kb.search.models import SearchQueueItem
from kb.search.query import FILLER_WORDS
from kb.search.queue import MAX_ATTEMPTS
from kb.search.text import facet_key
from kb.search.types import (
    CheckReport,
    DrainReport,
    ProgressCallback,
    SearchRequest,
    SearchResults,
    SearchUnavailableError,
)
from kb.states import EntryKind

log = logging.getLogger(__name__)

Mask = npt.NDArray[np.bool_]

FLOOR = 0.3
"""The least similarity of a part to a question for its entry to count as close in meaning."""
RELATED_FLOOR = 0.5
"""The least similarity of two entries (their mean vectors) for one to be listed as like the other."""
LIMIT = 30
"""How many entries close in meaning a search hands the backend at most."""

_EXACT = re.compile(r"[\"*~]|\w\?\w|(?<!\w)[-+]\w|\b(AND|OR|NOT)\b|\w:")


def meaning_text(text: str) -> str | None:
    """What to embed for a typed search, or None when it is written as an exact query (quotes, operators, fields)."""
    text = text.strip()
    if not text or _EXACT.search(text):
        return None
    return text


def without_fillers(text: str) -> str:
    """`text` less its question and filler words ("why did ..."), unless that leaves nothing.

    They say what kind of answer is wanted, not what it is about, and would pull every
    question towards every other.
    """
    words = text.split()
    kept = [word for word in words if word.strip("?!.,;:").lower() not in FILLER_WORDS]
    return " ".join(kept or words)


def _facet_values(row: Any) -> dict[str, str]:
    """The region, organisation and year facet values of a row of `_FACET_COLUMNS`, as the index keeps them."""
    moment = row.event_date or row.published_at or row.created_at
    return {
        "region": facet_key(row.region) if row.region else "",
        "organisation": facet_key(row.organisation) if row.organisation else "",
        "year": str(moment.year),
    }


_FACET_COLUMNS = (Entry.id, Entry.region, Entry.organisation, Entry.event_date, Entry.published_at, Entry.created_at)
RowFilter = Callable[[dict[str, str]], bool]


class MeaningLayer(Layer):
    """Meaning around `inner`: fills `SearchRequest.meaning`, ranks related lists, writes vectors."""

    def __init__(self, inner: SearchBackend, app: Flask) -> None:
        super().__init__(inner)
        self.app = app
        self.matrices = Matrices(MODEL_NAME)
        self._filling = threading.Lock()

    # Reading

    def matrix(self) -> PartMatrix:
        """The worker's matrix of every part, current with the database."""
        return self.matrices.current(db.session())

    def allowed(
        self, viewer: Viewer, *conditions: ColumnElement[bool], keep: RowFilter | None = None
    ) -> tuple[PartMatrix, Mask]:
        """The matrix, and which of its entries `viewer` may list (matching `conditions` and `keep`).

        `keep` is given each candidate's region, organisation and year facet values.
        """
        matrix = self.matrix()
        conditions = (listed_entries(viewer), *conditions)
        if keep is not None:
            ids = [
                row.id
                for row in db.session.execute(select(*_FACET_COLUMNS).where(*conditions))
                if keep(_facet_values(row))
            ]
        else:
            ids = list(db.session.scalars(select(Entry.id).where(*conditions)))
        return matrix, matrix.entry_mask(ids)

    def searchable(self, viewer: Viewer, facets: dict[str, list[str]] | None = None) -> tuple[PartMatrix, Mask]:
        """The matrix, and which of its entries `viewer` may list with all the chosen `facets`, as a search counts them.

        From the backend (`visible_entry_ids`), so the facets mean what they mean to it.
        """
        matrix = self.matrix()
        return matrix, matrix.entry_mask(self.inner.visible_entry_ids(viewer, facets, listed=True))

    def meaning_matches(
        self, viewer: Viewer, text: str, *, facets: dict[str, list[str]] | None = None, limit: int = LIMIT
    ) -> list[Scored]:
        """The visible entries closest in meaning to `text`, each by its best part, above `FLOOR`, best first.

        `text` is pooled with the token weights the matrix's parts were (as of reading the matrix).
        """
        if not text.strip():
            return []
        matrix, mask = self.searchable(viewer, facets)
        query = embedder().embed([without_fillers(text)], self.matrices.weighting.values)[0]
        return matrix.best_parts(query, mask, FLOOR, limit)

    def meaning_ids(
        self, viewer: Viewer, text: str, *, facets: dict[str, list[str]] | None = None, limit: int = LIMIT
    ) -> list[int]:
        """Ids of the entries `viewer` may list closest in meaning to `text`, best first (as `meaning_matches`)."""
        return [found.entry_id for found in self.meaning_matches(viewer, text, facets=facets, limit=limit)]

    def search(self, viewer: Viewer, request: SearchRequest) -> SearchResults:
        """`inner`'s search, able to ask for the entries close in meaning to the text (`SearchRequest.meaning_of`).

        The backend asks only when meaning joins the search; a failure leaves it to its words.
        """
        text = meaning_text(request.text)
        if text is None or request.meaning or request.meaning_of is not None:
            return self.inner.search(viewer, request)

        def close_in_meaning() -> list[int]:
            try:
                return self.meaning_ids(viewer, text, facets=request.facets)
            except SearchUnavailableError:  # The backend says so itself.
                return []
            except Exception:  # Words alone still answer.
                log.exception("Search by meaning failed; searching by words alone")
                return []

        return self.inner.search(viewer, replace(request, meaning_of=close_in_meaning))

    def _like(
        self,
        viewer: Viewer,
        entry: Entry,
        limit: int,
        exclude: Sequence[int],
        *conditions: ColumnElement[bool],
        keep: RowFilter | None = None,
    ) -> list[int] | None:
        matrix, mask = self.allowed(viewer, Entry.id.not_in([entry.id, *exclude]), *conditions, keep=keep)
        vector = matrix.entry_vector(entry.id)
        if vector is None:
            return None
        return [found.entry_id for found in matrix.like_entry(vector, mask, RELATED_FLOOR, limit)]

    def related_ids(self, viewer: Viewer, entry: Entry, *, limit: int, exclude: Sequence[int]) -> list[int]:
        """Up to `limit` entries `viewer` may list closest in meaning to `entry` (by words until it has vectors)."""
        found = self._like(viewer, entry, limit, exclude)
        return self.inner.related_ids(viewer, entry, limit=limit, exclude=exclude) if found is None else found

    def similar_lesson_ids(self, viewer: Viewer, lesson: Lesson, *, limit: int, exclude: Sequence[int]) -> list[int]:
        """Lessons closest in meaning to `lesson` from another region or another year, among those `viewer` may list."""
        year = str(entry_date(lesson).year)
        region = facet_key(lesson.region) if lesson.region else ""

        def elsewhere(values: dict[str, str]) -> bool:
            return values["year"] != year or values["region"] != region

        found = self._like(viewer, lesson, limit, exclude, Entry.kind == EntryKind.LESSON, keep=elsewhere)
        if found is None:
            return self.inner.similar_lesson_ids(viewer, lesson, limit=limit, exclude=exclude)
        return found

    # Writing

    def weighting(self, session: Session) -> Weighting:
        """The newest token weights, which saves pool their parts with (the plain mean when there are none)."""
        return self.matrices.weights.now(session)

    def drain(self, *, timeout: float, merge_in_background: bool = True) -> DrainReport:
        """`inner`'s drain, then the vectors of every entry it (or another process meanwhile) indexed.

        An entry whose vectors cannot be written is queued again with its error, and retried
        like an entry that failed to index (its word index document is written either way).
        """
        started = utcnow()
        try:
            report = self.inner.drain(timeout=timeout, merge_in_background=merge_in_background)
        finally:
            failed = self._write_drained(started)
        report.failed += failed
        return report

    def _write_drained(self, since: dt.datetime) -> list[tuple[int, str]]:
        attempts: dict[int, int] = {}
        try:
            with Session(db.engine) as session:
                drained = session.execute(
                    select(SearchQueueItem.entry_id, func.max(SearchQueueItem.attempts))
                    .where(SearchQueueItem.indexed_at >= since)
                    .group_by(SearchQueueItem.entry_id)
                ).all()
                attempts = {int(entry_id): int(tries or 0) for entry_id, tries in drained}
                if not attempts:
                    return []
                report = store.write(session, list(attempts), embedder(), self.weighting(session))
                if report.failed:
                    _queue_again(session, report.failed, attempts)
                return report.failed
        except Exception as error:  # The word index is written; the entries are queued again for their vectors.
            log.exception("Writing vectors of drained entries failed")
            failed = [(entry_id, f"meaning: {type(error).__name__}: {error}") for entry_id in attempts]
            self._queue_again_apart(failed, attempts)
            return failed

    @staticmethod
    def _queue_again_apart(failed: list[tuple[int, str]], attempts: dict[int, int]) -> None:
        """`_queue_again` in a session of its own; when even that fails, `search check` reports the vectors."""
        if not failed:
            return
        try:
            with Session(db.engine) as session:
                _queue_again(session, failed, attempts)
        except Exception:
            log.exception("Queueing entries again for their vectors failed")

    def rebuild(
        self,
        *,
        processes: int = 1,
        total: ProgressCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> int:
        """`inner`'s rebuild, then the token weights counted afresh and every entry's vectors brought in step.

        Unchanged parts are not embedded again, unless the weights changed.
        """
        count = self.inner.rebuild(processes=processes, total=total, on_progress=on_progress)
        with Session(db.engine) as session:
            report = store.write_all(session, embedder(), weights.refresh(session, embedder()))
        for entry_id, error in report.failed:
            log.error("Entry %s has no vectors: %s", entry_id, error)
        return count

    def check(self) -> CheckReport:
        """`inner`'s check, with entries whose vectors are missing or stale added to its missing and stale.

        Vectors of entries no longer in the database are listed with the index's extra documents.
        """
        report = self.inner.check()
        with Session(db.engine) as session:
            meaning = store.compare(session, MODEL_NAME, self.weighting(session))
        report.missing = sorted({*report.missing, *meaning.missing})
        report.stale = sorted({*report.stale, *meaning.stale})
        report.extra = sorted({*report.extra, *(str(entry_id) for entry_id in meaning.orphaned)})
        return report

    def ensure_ready(self, mode: str | None = None) -> str | None:
        """`inner`'s start-up check; entries without vectors (made before this layer) get them, as `mode` allows.

        A site with entries but no token weights yet has them counted, and every vector pooled with them.
        """
        problem = self.inner.ensure_ready(mode)
        mode = mode or self.app.config["SEARCH_REBUILD_AT_START"]
        with Session(db.engine) as session:
            waiting = store.entries_without_parts(session, limit=1) or (
                not weights.newest_id(session, MODEL_NAME) and session.scalar(select(Entry.id).limit(1)) is not None
            )
        if waiting and mode != "off":
            if mode == "inline":
                self._fill()
            else:
                threading.Thread(target=self._fill_in_context, name="kb-meaning-fill", daemon=True).start()
        return problem

    def _fill(self) -> None:
        if not self._filling.acquire(blocking=False):
            return
        try:
            with Session(db.engine) as session:
                weighting = self.weighting(session)
                if weighting.plain:
                    weighting = weights.refresh(session, embedder())
                    report = store.write_all(session, embedder(), weighting)
                else:
                    report = store.write(session, store.entries_without_parts(session), embedder(), weighting)
            log.info("Vectors written for %s entries (%s failed)", report.written, len(report.failed))
        finally:
            self._filling.release()

    def _fill_in_context(self) -> None:
        with self.app.app_context():
            try:
                self._fill()
            except Exception:
                log.exception("Writing vectors of entries without them failed")


def _queue_again(session: Session, failed: list[tuple[int, str]], attempts: dict[int, int]) -> None:
    """Queue entries whose vectors failed again, one attempt further on, so they are retried and in the end reported."""
    now = utcnow()
    rows = [
        {
            "entry_id": entry_id,
            "queued_at": now,
            "attempts": min(attempts.get(entry_id, 0) + 1, MAX_ATTEMPTS),
            "last_error": error[:2000],
        }
        for entry_id, error in failed
    ]
    if rows:
        session.execute(insert(SearchQueueItem), rows)
        session.commit()


def make(inner: SearchBackend, app: Flask) -> SearchBackend:
    """`inner` wrapped in a `MeaningLayer`, or `inner` itself when `SEARCH_MEANING` is off."""
    if not app.config.get("SEARCH_MEANING", True):
        return inner
    return MeaningLayer(inner, app)


def active(app: Flask | None = None) -> MeaningLayer | None:
    """The app's meaning layer, or None when search by meaning is off."""
    from kb.search.backend import backend

    made: object = backend(app or current_app)
    while made is not None:
        if isinstance(made, MeaningLayer):
            return made
        made = getattr(made, "inner", None)
    return None
