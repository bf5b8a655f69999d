"""A parsed user query (`kb.search.query`) as a SQL condition on the PostgreSQL search documents.

The typed text is read by the same parser as for Whoosh, so the syntax, the notes and the
fields a reader may name are the same on both backends. Each word is handed to
`websearch_to_tsquery` (as typed, so PostgreSQL's own stemmer reads it), phrases to
`phraseto_tsquery`, `title:` words are restricted to weight A (the title), `word*` becomes
a prefix match, and `tag:`, `region:` and `kind:` compare the document's facet values.
Words PostgreSQL treats as stop words are dropped, as Whoosh's parser drops its own.
It also holds what every query on the documents shares: `joined` and `RANK_NORMALISATION`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnClause, ColumnElement, Select, Text, and_, cast, false, func, literal_column, not_, or_
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session
from sqlalchemy.sql import text as sql_text
from whoosh import query as q

from kb.entries.models import Entry
from kb.search.pg.tables import search_documents
from kb.search.query import ParsedQuery
from kb.search.schema import stem, text_analyzer

_WORD = re.compile(r"^\w+$")
_QUOTED_LEXEME = "'((?:[^']|'')*)'"
"""A lexeme as `tsquery` text writes it: in single quotes, a quote inside doubled."""
_ANALYZER = text_analyzer()
_CONFIG: ColumnClause[Any] = literal_column("'english'::regconfig")
_SIMPLE: ColumnClause[Any] = literal_column("'simple'::regconfig")
DOCUMENT = search_documents.c.document
RANK_NORMALISATION = 1
"""`ts_rank_cd` divides by 1 + log(document length), so a long entry does not win by its length alone."""


def joined(query: Select[Any]) -> Select[Any]:
    """`query` selecting from the search documents joined to their entries."""
    return query.select_from(search_documents).join(Entry, Entry.id == search_documents.c.entry_id)


def lexeme_literal(word: str, suffix: str = "") -> str:
    """`word` quoted as one operand of `to_tsquery` input, with an optional `:*`/`:A` suffix."""
    escaped = word.replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}'{suffix}"


@dataclass
class Compiled:
    """A query as SQL: the condition documents must meet, and the tsqueries of its wanted words."""

    condition: ColumnElement[bool]
    wanted: list[ColumnElement[str]] = field(default_factory=list)
    words: set[str] = field(default_factory=set)
    """The words searched for (as typed or stemmed), whose first letters narrow comments down."""

    @property
    def ranking(self) -> ColumnElement[str] | None:
        """One tsquery matching any wanted word: what results are ranked and snippets marked by."""
        if not self.wanted:
            return None
        combined = self.wanted[0]
        for other in self.wanted[1:]:
            combined = combined.op("||", return_type=TSQUERY)(other)
        return combined


def _typed_word(node: q.Term, typed: str) -> str:
    """The word as typed when the parser kept where it came from and it stems to the term; else the term."""
    start, end = getattr(node, "startchar", None), getattr(node, "endchar", None)
    if start is not None and end is not None:
        word = typed[start:end].lower()
        if _WORD.match(word) and stem(word) == node.text:
            return word
    return node.text


def _typed_phrase(node: q.Phrase, typed: str) -> str:
    """The quoted text a phrase was read from (its stop words keep their places), else its stemmed words."""
    for quoted in typed.split('"')[1::2]:
        if [token.text for token in _ANALYZER(quoted)] == list(node.words):
            return quoted
    return " ".join(node.words)


def _word_tsquery(word: str, fieldname: str) -> ColumnElement[str]:
    if fieldname == "title":
        return func.to_tsquery(_CONFIG, lexeme_literal(word, ":A"), type_=TSQUERY)
    return func.websearch_to_tsquery(_CONFIG, word, type_=TSQUERY)


def _phrase_tsquery(phrase: str, fieldname: str) -> ColumnElement[str]:
    tsquery = func.phraseto_tsquery(_CONFIG, phrase, type_=TSQUERY)
    if fieldname != "title":
        return tsquery
    # The same phrase with each (already stemmed) lexeme restricted to the title's weight.
    weighted = func.regexp_replace(cast(tsquery, Text), _QUOTED_LEXEME, r"'\1':A", "g")
    return func.to_tsquery(_SIMPLE, weighted, type_=TSQUERY)


def _prefix_tsquery(prefix: str, fieldname: str) -> ColumnElement[str] | None:
    letters = "".join(re.findall(r"\w", prefix.lower()))
    if not letters:
        return None
    return func.to_tsquery(_SIMPLE, lexeme_literal(letters, ":*A" if fieldname == "title" else ":*"), type_=TSQUERY)


def _facet_condition(fieldname: str, value: str) -> ColumnElement[bool]:
    if fieldname == "tag":
        return search_documents.c.tags.contains([value])
    if fieldname == "theme":
        return search_documents.c.themes.contains([value])
    if fieldname == "region":
        return search_documents.c.region == value
    if fieldname == "year":
        return search_documents.c.year == value
    if fieldname == "kind":
        return Entry.kind == value
    if fieldname == "status":
        return Entry.status == value
    return false()


def facet_conditions(chosen: dict[str, list[str]]) -> list[ColumnElement[bool]]:
    """All chosen facet values must hold: `{"tag": ["a", "b"], "kind": ["lesson"]}`."""
    return [_facet_condition(name, value) for name, values in sorted(chosen.items()) for value in values]


class _Compiler:
    def __init__(self, typed: str) -> None:
        self.typed = typed
        self.wanted: list[ColumnElement[str]] = []
        self.words: set[str] = set()

    def matches(self, tsquery: ColumnElement[str], positive: bool) -> ColumnElement[bool]:
        if positive:
            self.wanted.append(tsquery)
        return DOCUMENT.bool_op("@@")(tsquery)

    def __call__(self, node: q.Query, positive: bool = True) -> ColumnElement[bool]:
        fieldname = getattr(node, "fieldname", None)
        if isinstance(node, q.And):
            return and_(*(self(child, positive) for child in node.subqueries))
        if isinstance(node, q.Or):
            return or_(*(self(child, positive) for child in node.subqueries))
        if isinstance(node, q.Not):
            return not_(self(node.query, not positive))
        if isinstance(node, q.AndNot):
            return and_(self(node.a, positive), not_(self(node.b, not positive)))
        if isinstance(node, q.AndMaybe):
            return self(node.a, positive)
        if fieldname in ("text", "title"):
            return self._words(node, fieldname, positive)
        if fieldname in ("tag", "theme", "region", "kind") and isinstance(node, q.Term):
            return _facet_condition(fieldname, node.text)
        return false()

    def _words(self, node: q.Query, fieldname: str, positive: bool) -> ColumnElement[bool]:
        if isinstance(node, q.Phrase):
            self.words.update(node.words)
            return self.matches(_phrase_tsquery(_typed_phrase(node, self.typed), fieldname), positive)
        if isinstance(node, q.Prefix):
            tsquery = _prefix_tsquery(node.text, fieldname)
            self.words.add(node.text)
            return false() if tsquery is None else self.matches(tsquery, positive)
        if isinstance(node, q.Term) and not isinstance(node, q.MultiTerm):
            word = _typed_word(node, self.typed)
            self.words.add(word)
            return self.matches(_word_tsquery(word, fieldname), positive)
        return false()


def compile_query(parsed: ParsedQuery) -> Compiled | None:
    """The SQL for a parsed query, or None for an empty box (which matches every entry)."""
    if parsed.query is None:
        return None
    compiler = _Compiler(parsed.typed)
    condition = compiler(parsed.query)
    return Compiled(condition=condition, wanted=compiler.wanted, words=compiler.words)


# Words PostgreSQL drops, and near spellings


def _leaf_words(node: q.Query, typed: str) -> set[str]:
    if isinstance(node, q.CompoundQuery):
        return set().union(*(_leaf_words(child, typed) for child in node.subqueries))
    if isinstance(node, q.Not):
        return _leaf_words(node.query, typed)
    is_word = isinstance(node, q.Term) and not isinstance(node, q.MultiTerm)
    if is_word and getattr(node, "fieldname", None) in ("text", "title"):
        return {_typed_word(node, typed)}
    return set()


def stop_words(session: Session, words: set[str]) -> set[str]:
    """Those of `words` PostgreSQL's configuration drops (a query for one alone would be empty)."""
    if not words:
        return set()
    rows = session.execute(
        sql_text(
            "SELECT word FROM unnest(CAST(:words AS text[])) AS word "
            "WHERE numnode(websearch_to_tsquery('english', word)) = 0"
        ),
        {"words": sorted(words)},
    )
    return {row.word for row in rows}


def without_stop_words(session: Session, parsed: ParsedQuery) -> ParsedQuery:
    """`parsed` without the words PostgreSQL would drop, so an AND is not made empty by one of them."""
    if parsed.query is None:
        return parsed
    dropped = stop_words(session, _leaf_words(parsed.query, parsed.typed))
    if not dropped:
        return parsed

    def drop(node: q.Query) -> q.Query:
        is_word = isinstance(node, q.Term) and not isinstance(node, q.MultiTerm)
        if is_word and node.fieldname in ("text", "title") and _typed_word(node, parsed.typed) in dropped:
            return q.NullQuery
        return node

    return parsed.changed(drop)


def with_near_words(parsed: ParsedQuery, near: Callable[[str, int, int], set[str]]) -> ParsedQuery:
    """Replace each `word~` by the vocabulary's words within its distance (`near(word, distance, prefix)`)."""
    if parsed.query is None:
        return parsed

    def expand(node: q.Query) -> q.Query:
        if not isinstance(node, q.FuzzyTerm) or node.fieldname != "text":
            return node
        start = getattr(node, "startchar", None)
        typed = parsed.typed[start : node.endchar] if start is not None else ""
        word = typed.lower().rstrip("~0123456789") or node.text
        words = sorted(near(word, node.maxdist, node.prefixlength))
        return q.Or([q.Term("text", found) for found in words], boost=node.boost) if words else q.NullQuery

    return replace(parsed, query=parsed.query.accept(expand).normalize())
