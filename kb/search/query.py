"""Reading what a person typed into a Whoosh query, and the filter queries built from rights and facets.

Typed queries reach only the catch-all text and the fields in `USER_FIELDS`; any other
`name:` is read as words, with a note saying so, so hidden fields (status, visibility,
author, panel) can never be queried. Malformed input never raises: the person gets a
plain note and a best-effort search for the words they typed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache

from whoosh import qparser
from whoosh import query as q

from kb.search.schema import USER_FIELDS, text_analyzer, user_schema
from kb.search.spelling import joined_compound, split_compound
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
_ANALYZER = text_analyzer()
_PLAIN = re.compile(r"[\w\s'’?!.,;-]*")
_PLAIN_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
_OPERATOR = re.compile(r"\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b")
FILLER_WORDS = frozenset(
    {
        *("why", "what", "whats", "when", "where", "which", "who", "whom", "whose", "how", "much", "many"),
        *("did", "does", "do", "done", "was", "were", "is", "are", "am", "been", "being", "has", "have", "had"),
        *("there", "any", "anything", "some", "something", "about", "tell", "me", "i", "my", "our", "ever"),
    }
)
"""Question and filler words a plain-language query need not match (kept when a query has nothing else)."""


@dataclass(frozen=True)
class ParsedQuery:
    """A typed query made ready to run: the Whoosh query (None for an empty box) and notes for the person."""

    text: str
    query: q.Query | None
    notes: tuple[str, ...] = ()
    typed: str = ""
    """The text as handed to the parser (field names normalised), which corrections are made on."""
    units: tuple[tuple[str, q.Query], ...] = ()
    """For a query in plain words (no operators, quotes, brackets, fields or patterns): each word as typed with
    its query, in order, fillers left out; `query` is all of them together. Empty for any other query."""

    def changed(self, change: Callable[[q.Query], q.Query]) -> ParsedQuery:
        """The same query with `change` applied to every node of the query and of each unit (emptied units dropped)."""
        if self.query is None:
            return self
        units = tuple((word, query.accept(change).normalize()) for word, query in self.units)
        return replace(
            self,
            query=self.query.accept(change).normalize(),
            units=tuple((word, query) for word, query in units if not _is_null(query)),
        )


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


def plain_words(text: str) -> list[str] | None:
    """The words of a query typed in plain language, question and filler words left out; None for search syntax.

    Plain means no operators, quotes, brackets, field names, stars, tildes or boosts: question
    marks and other punctuation between words are only punctuation. When every word is a
    filler word, all are kept.
    """
    if not _PLAIN.fullmatch(text) or _OPERATOR.search(text) or re.search(r"(^|\W)'|\?\w", text):
        return None
    words = _PLAIN_WORD.findall(text)
    kept = [word for word in words if word.lower() not in FILLER_WORDS]
    return kept or words


def _parsed_unit(word: str, offset: int, notes: list[str]) -> q.Query:
    """One plain word's query, its nodes placed at `offset` in the text the units are joined into."""
    try:
        node = _parser().parse(word).accept(_Rewriter(notes)).normalize()
    except Exception:  # The parser can fail on odd input; the word is then left out.
        return q.NullQuery

    def moved(child: q.Query) -> q.Query:
        if getattr(child, "startchar", None) is not None and getattr(child, "endchar", None) is not None:
            child.startchar, child.endchar = child.startchar + offset, child.endchar + offset
        return child

    return node.accept(moved)


def _plain_query(text: str, words: list[str], notes: list[str]) -> ParsedQuery:
    typed = " ".join(words)
    units: list[tuple[str, q.Query]] = []
    offset = 0
    for word in words:
        node = _parsed_unit(word, offset, notes)
        offset += len(word) + 1
        if not _is_null(node):
            units.append((word, node))
    if not units:
        notes.append("The query has no words to search for.")
        return ParsedQuery(text=text, query=None, notes=tuple(notes), typed=typed)
    query = units[0][1] if len(units) == 1 else q.And([node for _, node in units])
    return ParsedQuery(text=text, query=query, notes=tuple(notes), typed=typed, units=tuple(units))


def with_compounds(parsed: ParsedQuery, is_word: Callable[[str], bool]) -> ParsedQuery:
    """A plain query where joined and split forms meet: `golive` also finds `go live`, `go live` and `go-live` `golive`.

    `is_word(word)` says whether the vocabulary holds a word as written. A word it lacks that
    splits into two it holds also matches them as a phrase; two neighbouring words (or one
    hyphenated word) also match their joined form when the vocabulary holds that.
    """
    if not parsed.units:
        return parsed
    units: list[tuple[str, q.Query]] = []
    index = 0
    while index < len(parsed.units):
        word, node = parsed.units[index]
        following = parsed.units[index + 1] if index + 1 < len(parsed.units) else None
        if following is not None and (joined := joined_compound(word, following[0], is_word)):
            units.append((f"{word} {following[0]}", q.Or([q.And([node, following[1]]), _text_term(joined)])))
            index += 2
            continue
        if "-" in word and (joined := joined_compound(word, "", is_word)):
            units.append((word, q.Or([node, _text_term(joined)])))
        elif parts := split_compound(word, is_word):
            phrase = q.Phrase("text", [token.text for part in parts for token in _ANALYZER(part)])
            units.append((word, q.Or([node, phrase])))
        else:
            units.append((word, node))
        index += 1
    query = units[0][1] if len(units) == 1 else q.And([node for _, node in units])
    return replace(parsed, query=query, units=tuple(units))


def in_title(node: q.Query) -> q.Query:
    """`node` with its words looked for in the title field instead of the whole text."""

    def moved(child: q.Query) -> q.Query:
        if getattr(child, "fieldname", None) == "text":
            child = copy.copy(child)
            child.fieldname = "title"
        return child

    return node.accept(moved)


def _text_term(word: str) -> q.Query:
    stems = [token.text for token in _ANALYZER(word)]
    return q.Term("text", stems[0]) if len(stems) == 1 else q.Phrase("text", stems)


def parse_user_query(text: str, *, group: str = "and") -> ParsedQuery:
    """Turn what was typed into a query over the fields users may search; never raises.

    `group` is how words without an operator combine: "and" (all of them) or "or". Plain
    words (see `plain_words`) read with "and" give a query with `units`.
    """
    text = " ".join(text.split())
    if not text:
        return ParsedQuery(text="", query=None)
    notes: list[str] = []
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        notes.append(f"The query was cut to its first {MAX_QUERY_CHARS} characters.")
    words = plain_words(text) if group == "and" else None
    if words is not None:
        return _plain_query(text, words, notes)
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
