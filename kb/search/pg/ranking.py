"""Ordering PostgreSQL's matches: `ts_rank_cd` with the plain-query bonuses, and the vocabulary for compounds.

For a query in plain words the order is the rank divided by the best rank among the
matches, plus `ranking.COVERAGE_WEIGHT` times the share of the query's words the document
has and `ranking.TITLE_WEIGHT` times the share in its title (weight A), all in SQL, so the
whole matched set is ordered before paging. `vocabulary` reads which words `search_words`
holds, for joining and splitting compounds, in one statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from kb.search.pg.query import DOCUMENT, RANK_NORMALISATION, compile_query
from kb.search.query import ParsedQuery, in_title
from kb.search.ranking import COVERAGE_WEIGHT, TITLE_WEIGHT
from kb.search.spelling import MIN_PART


def relevance(parsed: ParsedQuery, ranking: ColumnElement[str]) -> ColumnElement[Any]:
    """The value results are ordered by (highest first): the rank, with the bonuses for a plain query."""
    rank = func.ts_rank_cd(DOCUMENT, ranking, RANK_NORMALISATION)
    if len(parsed.units) < 2:
        return rank
    words = len(parsed.units)
    covered: ColumnElement[Any] = literal(0.0)
    titled: ColumnElement[Any] = literal(0.0)
    for _, node in parsed.units:
        anywhere = compile_query(replace(parsed, query=node))
        title = compile_query(replace(parsed, query=in_title(node)))
        if anywhere is not None:
            covered = covered + case((anywhere.condition, 1.0), else_=0.0)
        if title is not None:
            titled = titled + case((title.condition, 1.0), else_=0.0)
    best = func.nullif(func.max(rank).over(), 0)
    return (
        func.coalesce(rank / best, 0)
        + literal(COVERAGE_WEIGHT / words) * covered
        + literal(TITLE_WEIGHT / words) * titled
    )


def _candidates(words: list[str]) -> set[str]:
    """Every word a compound check of `words` may ask about: each, its halves, and neighbours joined."""
    found: set[str] = set()
    lowered = [word.lower() for word in words]
    for index, word in enumerate(lowered):
        found.add(word)
        found.add(word.replace("-", ""))
        found.update(word[:cut] for cut in range(MIN_PART, len(word) - MIN_PART + 1))
        found.update(word[cut:] for cut in range(MIN_PART, len(word) - MIN_PART + 1))
        if index + 1 < len(lowered):
            found.add((word + lowered[index + 1]).replace("-", ""))
    return found


def vocabulary(session: Session, words: Iterable[str]) -> set[str]:
    """Those of the candidate words for compounds of `words` that `search_words` holds."""
    candidates = sorted(_candidates(list(words)))
    if not candidates:
        return set()
    rows = session.execute(
        sql_text("SELECT word FROM search_words WHERE word = ANY(CAST(:words AS text[]))"), {"words": candidates}
    )
    return {row.word for row in rows}
