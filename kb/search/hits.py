"""One search result as shown: its title and a snippet from the part of the entry that matched."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from whoosh import query as q
from whoosh.searching import Searcher

from kb.entries.models import Entry
from kb.search.documents import entry_texts
from kb.search.schema import text_analyzer
from kb.search.snippets import Match, find_matches, mark, may_match, snippet
from kb.search.text import plain_text

_ANALYZER = text_analyzer()
SNIPPET_LABELS = {
    "summary": "Summary",
    "driving_event": "Driving event",
    "lesson": "Lesson",
    "recommendation": "Recommendation",
    "evidence": "Evidence",
    "body": "Text",
    "terms_of_reference": "Terms of reference",
}
"""How each part of an entry a snippet may come from is labelled."""


@dataclass(frozen=True)
class Hit:
    """One result: the entry, its title with matched words marked, and a snippet from the part that matched."""

    entry: Entry
    title: Markup
    snippet: Markup
    snippet_label: str | None


def positive_terms(node: q.Query, searcher: Searcher) -> set[str]:
    """The analysed words a query looks for (not those it excludes), expanded for prefixes and fuzzy terms."""
    if isinstance(node, q.Not):
        return set()
    if isinstance(node, q.AndNot):
        return positive_terms(node.a, searcher)
    if isinstance(node, q.CompoundQuery):
        return set().union(*(positive_terms(child, searcher) for child in node.subqueries))
    if isinstance(node, q.Phrase):
        return set(node.words) if node.fieldname in ("text", "title") else set()
    if getattr(node, "fieldname", None) not in ("text", "title"):
        return set()
    if isinstance(node, q.Term) and not isinstance(node, q.MultiTerm):
        return {node.text}
    expanded = node.existing_terms(searcher.reader(), expand=True)
    return {text.decode("utf-8") if isinstance(text, bytes) else text for _, text in expanded}


def build_hit(entry: Entry, terms: set[str]) -> Hit:
    """A result for `entry`: its title with `terms` marked, and a snippet from its part with most matches."""
    title = mark(entry.title, find_matches(entry.title, terms, _ANALYZER))
    best: tuple[int, str, str, list[Match]] | None = None
    for key, markdown in entry_texts(entry).items():
        if not may_match(markdown, terms):
            continue
        text = plain_text(markdown)
        matches = find_matches(text, terms, _ANALYZER)
        if matches and (best is None or len(matches) > best[0]):
            best = (len(matches), key, text, matches)
    if best is None:
        return Hit(entry=entry, title=title, snippet=snippet(plain_text(entry.summary), []), snippet_label=None)
    _, key, text, matches = best
    return Hit(entry=entry, title=title, snippet=snippet(text, matches), snippet_label=SNIPPET_LABELS[key])
