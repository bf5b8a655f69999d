"""One search result as shown: its title, a snippet from the part of the entry (or comment) that matched, its pages."""

from __future__ import annotations

from collections.abc import Sequence

from whoosh import query as q
from whoosh.searching import Searcher

from kb.entries.models import Entry
from kb.search.comment_texts import CommentText
from kb.search.documents import entry_texts
from kb.search.link_words import link_reader
from kb.search.page_texts import PageText
from kb.search.schema import text_analyzer
from kb.search.snippets import Match, find_matches, mark, may_match, snippet
from kb.search.text import LinkWords, plain_text, unresolved_link
from kb.search.types import MAX_PAGE_HITS, Hit, PageHit

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


def _best_part(
    parts: Sequence[tuple[str, str]], terms: set[str], links: LinkWords = unresolved_link
) -> tuple[str, str, list[Match]] | None:
    """Of (key, Markdown) parts, the one with most matched words as read (`links`), its plain text and matches.

    A text without links that lacks every searched word's first letters is not made plain at all.
    """
    best: tuple[str, str, list[Match]] | None = None
    for key, markdown in parts:
        if "[[" not in markdown and not may_match(markdown, terms):
            continue
        text = plain_text(markdown, links)
        if not may_match(text, terms):
            continue
        matches = find_matches(text, terms, _ANALYZER)
        if matches and (best is None or len(matches) > len(best[2])):
            best = (key, text, matches)
    return best


def matched_in_entry(hit: Hit) -> bool:
    """Whether the hit's snippet came from one of the entry's own texts (so its comments need not be read)."""
    return hit.snippet_label is not None


def build_hit(
    entry: Entry, terms: set[str], comments: Sequence[CommentText] = (), links: LinkWords | None = None
) -> Hit:
    """A result for `entry`: its title with `terms` marked, and a snippet from its part with most matches.

    The entry's own texts come first, read as the page shows them (`links`: how its links
    read, looked up when not given); when none of them holds a searched word, the one
    of its readable `comments` with most of them gives the snippet, and the hit links
    to that comment.
    """
    title = mark(entry.title, find_matches(entry.title, terms, _ANALYZER))
    if not terms:  # Only the summary is shown: its links alone are looked up.
        summary = plain_text(entry.summary or "", links or link_reader(entry, [entry.summary or ""]))
        return Hit(entry=entry, title=title, snippet=snippet(summary, []), snippet_label=None, link=entry.path)
    texts = entry_texts(entry)
    read = links if links is not None else link_reader(entry, texts.values())
    best = _best_part(list(texts.items()), terms, read)
    by_comment = {str(comment.id): comment for comment in comments}
    in_comment = None if best is not None else _best_part([(k, c.body) for k, c in by_comment.items()], terms)
    if in_comment is not None:
        comment = by_comment[in_comment[0]]
        return Hit(
            entry=entry,
            title=title,
            snippet=snippet(in_comment[1], in_comment[2]),
            snippet_label=f"Comment by {comment.author}",
            link=comment.link(entry.path),
        )
    if best is None:
        summary = snippet(plain_text(texts.get("summary", ""), read), [])
        return Hit(entry=entry, title=title, snippet=summary, snippet_label=None, link=entry.path)
    key, text, matches = best
    label = SNIPPET_LABELS[key]
    return Hit(entry=entry, title=title, snippet=snippet(text, matches), snippet_label=label, link=entry.path)


def matched_words(text: str, matches: Sequence[Match]) -> int:
    """How many different words of `text` were matched (a page holding all of a phrase's words ranks first)."""
    return len({text[match.start : match.end].lower() for match in matches})


def build_page_hits(pages: Sequence[PageText], terms: set[str], entry_path: str) -> tuple[PageHit, ...]:
    """The pages holding most of the searched words (then most matches; the first among equals), each with a snippet.

    At most `MAX_PAGE_HITS`; pages without any of `terms` are left out.
    """
    scored: list[tuple[int, int, PageText, list[Match]]] = []
    for page in pages:
        if not may_match(page.text, terms):
            continue
        matches = find_matches(page.text, terms, _ANALYZER)
        if matches:
            scored.append((matched_words(page.text, matches), len(matches), page, matches))
    scored.sort(key=lambda item: (-item[0], -item[1]))
    return tuple(
        PageHit(page.document_title, page.number, snippet(page.text, matches), page.link(entry_path), page.document_id)
        for _, _, page, matches in scored[:MAX_PAGE_HITS]
    )
