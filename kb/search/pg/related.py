"""Related entries from the PostgreSQL search documents: `related_ids` and `similar_lesson_ids`.

The PostgreSQL side of `kb.search.interface.SearchBackend`'s related lists (`pg.backend`
calls these), with the same results as Whoosh's. An entry's key terms are its lexemes
weighted by where they stand and by their rarity among all documents; the entries sharing
most of them, ranked by `ts_rank_cd`, are chosen among those the viewer may list, in SQL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, select
from sqlalchemy import text as sql_text

from kb.entries.models import Entry, Lesson
from kb.extensions import db
from kb.permissions import Viewer, listed_entries
from kb.search.documents import entry_date, weighted_parts
from kb.search.pg.indexing import grouped_texts
from kb.search.pg.query import DOCUMENT, RANK_NORMALISATION, joined, lexeme_literal
from kb.search.pg.tables import search_documents
from kb.search.text import facet_key
from kb.states import EntryKind

RELATED_KEY_TERMS = 12
RELATED_CANDIDATE_TERMS = 40


def _key_terms(entry: Entry) -> list[str]:
    """The entry's most telling lexemes: weighted counts in its own words, times their rarity."""
    texts = grouped_texts(weighted_parts(entry))
    candidates = db.session.execute(
        sql_text(
            """
            SELECT lexeme, (
                SELECT sum(CASE w::text WHEN 'A' THEN 3 WHEN 'B' THEN 2 WHEN 'C' THEN 1.5 ELSE 1 END)
                FROM unnest(weights) AS w
            ) AS tf
            FROM unnest(
                setweight(to_tsvector('english', :a), 'A') || setweight(to_tsvector('english', :b), 'B')
                || setweight(to_tsvector('english', :c), 'C') || setweight(to_tsvector('english', :d), 'D')
            )
            ORDER BY tf DESC, lexeme LIMIT :limit
            """
        ),
        {**texts, "limit": RELATED_CANDIDATE_TERMS},
    ).all()
    if not candidates:
        return []
    lexemes = [row.lexeme for row in candidates]
    frequencies: dict[str, int] = dict(
        db.session.execute(
            sql_text(
                "SELECT lexeme, (SELECT count(*) FROM search_documents WHERE document @@ CAST(tsq AS tsquery)) "
                "FROM unnest(CAST(:lexemes AS text[]), CAST(:queries AS text[])) AS t(lexeme, tsq)"
            ),
            {"lexemes": lexemes, "queries": [lexeme_literal(lexeme) for lexeme in lexemes]},
        ).all()
    )
    documents = db.session.scalar(select(func.count()).select_from(search_documents)) or 0
    scored = sorted(
        candidates,
        key=lambda row: (
            -float(row.tf) * math.log((documents + 1) / (frequencies.get(row.lexeme, 0) + 0.5)),
            row.lexeme,
        ),
    )
    return [row.lexeme for row in scored[:RELATED_KEY_TERMS]]


def _related_ids(
    viewer: Viewer, entry: Entry, limit: int, exclude: Iterable[int], *extra: ColumnElement[bool]
) -> list[int]:
    terms = _key_terms(entry)
    if not terms:
        return []
    tsquery = func.to_tsquery(sql_text("'simple'::regconfig"), " | ".join(lexeme_literal(term) for term in terms))
    query = (
        joined(select(search_documents.c.entry_id))
        .where(
            listed_entries(viewer),
            search_documents.c.entry_id.not_in([entry.id, *exclude]),
            DOCUMENT.bool_op("@@")(tsquery),
            *extra,
        )
        .order_by(func.ts_rank_cd(DOCUMENT, tsquery, RANK_NORMALISATION).desc(), search_documents.c.entry_id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def related_ids(viewer: Viewer, entry: Entry, *, limit: int = 5, exclude: Iterable[int] = ()) -> list[int]:
    """The ids of up to `limit` entries most like `entry` in their words, among those `viewer` may see, best first."""
    return _related_ids(viewer, entry, limit, exclude)


def similar_lesson_ids(viewer: Viewer, lesson: Lesson, *, limit: int = 5, exclude: Iterable[int] = ()) -> list[int]:
    """The ids of lessons like this one from another region or another year: the same problem seen again."""
    same_year = search_documents.c.year == str(entry_date(lesson).year)
    same_place = search_documents.c.region == facet_key(lesson.region) if lesson.region else None
    same = same_year if same_place is None else same_year & same_place
    return _related_ids(viewer, lesson, limit, exclude, Entry.kind == EntryKind.LESSON, ~same)
