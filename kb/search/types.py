"""What every search backend takes and gives: the request, results, hits, facet counts and reports, and errors.

Neutral ground between the callers (`service`, `cli`, `lifecycle`, health) and the backends
(`whoosh_backend`, `pg.backend`): neither backend imports the other's modules for these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from kb.entries.models import Entry
from kb.errors import UnavailableError
from kb.search.query import ParsedQuery

SORTS = ("relevance", "newest", "oldest")
FEW_RESULTS = 3
"""Fewer results than this and a spelling correction that finds more is offered."""
MAX_PAGE = 100

ProgressCallback = Callable[[int], None]
"""Called with how many more entries a rebuild has written."""


class SearchUnavailableError(UnavailableError):
    """The index cannot be read now (it is being built or rebuilt)."""


class IndexUnavailableError(UnavailableError):
    """There is no usable index: it is missing, damaged, or of an older schema."""


class LockTimeoutError(UnavailableError):
    """Another process held a search lock for longer than we were willing to wait."""


@dataclass(frozen=True)
class SearchRequest:
    """What the search page was asked: the typed text, chosen facet values, order and page."""

    text: str = ""
    facets: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    exact: bool = False
    """Search for exactly what was typed, even when a correction would find more."""
    meaning: tuple[int, ...] = ()
    """Ids of entries close in meaning to the text, best first, found by the meaning layer among those the
    viewer may see. A backend counts them as matches too (within the chosen facets) and, ranking by relevance,
    fuses their order with its own (`kb.search.fusion.fuse`)."""
    meaning_of: Callable[[], Sequence[int]] | None = field(default=None, compare=False)
    """How the meaning layer finds those ids when `meaning` is not given: a backend calls it only once
    `kb.search.fusion.joining` lets meaning join the search, so a keyword search costs nothing more."""


MAX_PAGE_HITS = 3
"""The most pages of an entry's documents one result lists."""


@dataclass(frozen=True)
class PageHit:
    """A page of one of a result's documents that holds searched words: which page, a snippet, and its address."""

    document_title: str
    number: int
    snippet: Markup
    link: str
    document_id: int

    @property
    def label(self) -> str:
        """Where the snippet comes from, as the results page says it."""
        return f"In {self.document_title}, page {self.number}"


@dataclass(frozen=True)
class Hit:
    """One result: the entry, its title with matched words marked, and a snippet from the part that matched.

    `link` is the entry's page, or the comment's place on it when the snippet is a comment's.
    `pages` are the pages of its documents with most matched words, best first (at most
    `MAX_PAGE_HITS`): an entry is one result however many of its pages match.
    """

    entry: Entry
    title: Markup
    snippet: Markup
    snippet_label: str | None
    link: str = ""
    pages: tuple[PageHit, ...] = ()


@dataclass(frozen=True)
class FacetCount:
    """One value of a facet with the number of results that have it."""

    value: str
    count: int
    selected: bool


def page_number(request: SearchRequest, total: int) -> int:
    """The page to show: the one asked for, kept between 1 and the last page (at most `MAX_PAGE`)."""
    last = min(max(1, math.ceil(total / request.per_page)), MAX_PAGE)
    return min(max(request.page, 1), last)


@dataclass
class SearchResults:
    """A page of results with everything the search page shows around it."""

    request: SearchRequest
    parsed: ParsedQuery
    hits: list[Hit]
    total: int
    facets: dict[str, list[FacetCount]]
    suggestion: str | None = None
    corrected_from: str | None = None
    broadened: bool = False
    """More is shown than what has every word: entries with some of them (`with_every_word` have all)."""
    with_every_word: int = 0

    @property
    def page(self) -> int:
        """The page shown."""
        return page_number(self.request, self.total)


@dataclass
class DrainReport:
    """What one drain of the queue did."""

    indexed: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class CheckReport:
    """How the index differs from the database."""

    indexed: int
    entries: int
    missing: list[int]
    stale: list[int]
    extra: list[str]
    pending: int
    failed: list[tuple[int, str]]

    @property
    def in_step(self) -> bool:
        """Whether the index holds exactly the database's entries, each up to date."""
        return not (self.missing or self.stale or self.extra or self.failed)


@dataclass(frozen=True)
class IndexStatus:
    """Whether a backend can serve searches now: None for `problem` when it can, with a short public detail."""

    problem: str | None
    detail: str
    rebuilding: bool = False
