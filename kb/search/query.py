"""Reading what a person typed into a Whoosh query, and the filter queries built from rights and facets.

Typed queries reach only the catch-all text and the fields in `USER_FIELDS`; any other
`name:` is read as words, with a note saying so, so hidden fields (status, visibility,
author, panel) can never be queried. Malformed input never raises: the person gets a
plain note and a best-effort search for the words they typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from whoosh import qparser
from whoosh import query as q

from kb.search.schema import USER_FIELDS, user_schema
from kb.search.text import facet_key

MAX_QUERY_CHARS = 300
MIN_PREFIX = 2
MAX_FUZZY_DISTANCE = 2
QUERYABLE_FIELDS = frozenset({"text", *USER_FIELDS.values()})
KIND_WORDS = {
    "lesson": "lesson",
    "lessons": "lesson",
    "review": "review",
    "reviews": "review",
    "paper": "paper",
    "papers": "paper",
    "meeting-paper": "paper",
    "meeting-papers": "paper",
}
_FIELD_NAME = re.compile(r"(?<![\w\"'])([A-Za-z_][\w-]*):")
_EMPTY_FIELD = re.compile(r"(?<![\w\"'])([A-Za-z_][\w-]*):(?=\s|$|\))")
_RANGE = re.compile(r"[\[{][^\]}]*\bTO\b[^\]}]*[\]}]")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class ParsedQuery:
    """A typed query made ready to run: the Whoosh query (None for an empty box) and notes for the person."""

    text: str
    query: q.Query | None
    notes: tuple[str, ...] = ()
    typed: str = ""
    """The text as handed to the parser (field names normalised), which corrections are made on."""


@cache
def _parser(group: str = "and") -> qparser.QueryParser:
    parser = qparser.QueryParser("text", user_schema(), group=qparser.OrGroup if group == "or" else qparser.AndGroup)
    parser.remove_plugin_class(qparser.RangePlugin)
    parser.remove_plugin_class(qparser.EveryPlugin)
    parser.add_plugin(qparser.FuzzyTermPlugin())
    return parser


def _words_of_ranges(text: str) -> str:
    return _RANGE.sub(lambda match: match.group(0)[1:-1].replace(" TO ", " "), text)


def _outside_quotes(text: str, change: Callable[[str], str]) -> str:
    pieces = text.split('"')
    return '"'.join(change(piece) if number % 2 == 0 else piece for number, piece in enumerate(pieces))


def _field_names(text: str, notes: list[str]) -> str:
    """Lower-case the field names users may use; turn any other `name:` into plain words."""

    def drop_empty(match: re.Match[str]) -> str:
        note = f"“{match.group(1)}:” needs a word or a quoted phrase after it, so it was left out."
        if note not in notes:
            notes.append(note)
        return ""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        if name in USER_FIELDS:
            return f"{USER_FIELDS[name]}:"
        note = (
            f"“{match.group(1)}:” is not a field you can search in, so what follows it was searched for in all"
            " the text. See how to search for the fields you can name."
        )
        if note not in notes:
            notes.append(note)
        return ""

    pieces = text.split('"')
    for number in range(0, len(pieces), 2):
        piece = pieces[number]
        if number + 1 < len(pieces):  # A quoted phrase follows, so a name at the very end is not empty.
            head, tail = re.match(r"(.*?)(\S*)$", piece, re.DOTALL).groups()  # type: ignore[union-attr]
            pieces[number] = _EMPTY_FIELD.sub(drop_empty, head) + tail
        else:
            pieces[number] = _EMPTY_FIELD.sub(drop_empty, piece)
        pieces[number] = _FIELD_NAME.sub(replace, pieces[number])
    return '"'.join(pieces)


def _unbalanced(text: str) -> str | None:
    if text.count('"') % 2:
        return "A quotation mark was not closed, so the words after it were searched for separately."
    depth = 0
    for character in _outside_quotes(text, lambda piece: piece).replace('"', ""):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth < 0:
            break
    if depth != 0:
        return "The brackets in the query do not pair up, so it was read as well as it could be."
    return None


def _facet_term(field: str, words: Iterable[str]) -> q.Query:
    """An exact facet value from typed words; `tag:` also finds entries in a theme of that name."""
    key = facet_key("-".join(words))
    if field == "kind":
        return q.Term(field, KIND_WORDS.get(key, key))
    if field == "tag":
        return q.Or([q.Term("tag", key), q.Term("theme", key)])
    return q.Term(field, key)


class _Rewriter:
    """Makes a parsed query safe and sensible: facet fields as exact keys, no costly patterns."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def __call__(self, node: q.Query) -> q.Query:
        field = getattr(node, "fieldname", None)
        if field is not None and field not in QUERYABLE_FIELDS:
            return q.NullQuery
        if field in {"tag", "region", "kind"}:
            if isinstance(node, q.Phrase):
                return _facet_term(field, node.words)
            if isinstance(node, (q.Term, q.Prefix)) and not isinstance(node, q.FuzzyTerm):
                return _facet_term(field, [node.text])
        if isinstance(node, q.Every):
            return q.NullQuery
        if isinstance(node, q.Wildcard):
            word = re.sub(r"[*?]", "", node.text)
            self.note("Only a star at the end of a word (like tend*) is understood; other wildcards were ignored.")
            return q.Term(node.fieldname, word) if word else q.NullQuery
        if isinstance(node, q.Prefix) and len(node.text) < MIN_PREFIX:
            self.note(f"A word before * needs at least {MIN_PREFIX} letters; “{node.text}*” was left out.")
            return q.NullQuery
        if isinstance(node, q.FuzzyTerm):
            distance = min(node.maxdist, MAX_FUZZY_DISTANCE)
            fuzzy = q.FuzzyTerm(node.fieldname, node.text, boost=node.boost, maxdist=distance, prefixlength=1)
            fuzzy.startchar, fuzzy.endchar = getattr(node, "startchar", None), getattr(node, "endchar", None)
            return fuzzy
        return node


def _words_only(text: str, group: str = "and") -> q.Query:
    """The typed words alone, lower-cased so none is read as an operator."""
    words = [word.lower() for word in _WORD.findall(text)]
    try:
        return _parser(group).parse(" ".join(words)).normalize() if words else q.NullQuery
    except Exception:  # Nothing is left to fall back to.
        return q.NullQuery


def parse_user_query(text: str, *, group: str = "and") -> ParsedQuery:
    """Turn what was typed into a query over the fields users may search; never raises.

    `group` is how words without an operator combine: "and" (all of them) or "or".
    """
    text = " ".join(text.split())
    if not text:
        return ParsedQuery(text="", query=None)
    notes: list[str] = []
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notes.append(f"The query was cut to its first {MAX_QUERY_CHARS} characters.")
    typed = _field_names(text, notes)
    if any(_RANGE.search(piece) for piece in typed.split('"')[::2]):
        notes.append("Ranges such as [a TO b] are not understood, so the words in them were searched for.")
        typed = _outside_quotes(typed, _words_of_ranges)
    if problem := _unbalanced(typed):
        notes.append(problem)
    try:
        parsed = _parser(group).parse(typed)
        parsed = parsed.accept(_Rewriter(notes)).normalize()
    except Exception:  # The parser can fail on odd input; fall back to the words.
        parsed = q.NullQuery
    if _is_null(parsed):
        fallback = _words_only(typed, group)
        if fallback is not q.NullQuery:
            notes.append("The query could not be read as written, so its words were searched for instead.")
        parsed = fallback
    if _is_null(parsed):
        notes.append("The query has no words to search for.")
        return ParsedQuery(text=text, query=None, notes=tuple(notes), typed=typed)
    return ParsedQuery(text=text, query=parsed, notes=tuple(notes), typed=typed)


def _is_null(node: q.Query) -> bool:
    return isinstance(node, type(q.NullQuery))


def is_only_negative(node: q.Query) -> bool:
    """Whether a query only excludes (e.g. `NOT staffing`): it then matches everything else."""
    if isinstance(node, q.Not):
        return True
    return isinstance(node, q.And) and all(isinstance(child, q.Not) for child in node.subqueries)


# Filters built from chosen facets


def facet_filter(chosen: dict[str, list[str]]) -> q.Query | None:
    """All chosen facet values must hold: `{"tag": ["a", "b"], "kind": ["lesson"]}`."""
    terms = [q.Term(field, value) for field, values in sorted(chosen.items()) for value in values]
    return q.And(terms) if terms else None
