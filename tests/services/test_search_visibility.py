"""Search follows the visibility rule: every result, count, suggestion, snippet and related entry.

A generated set of entries covers every status × visibility × kind × author (nobody, the
`author` account, someone else) × panel (review A's, review B's, none), indexed for real
through the queue that saves fill. For every viewer, the index's visibility filter must
select exactly the entries `can_view_entry` allows and `visible_entries` selects; then
`service.search`, `related` and `similar_lessons_elsewhere` must only ever show, count or
suggest what that viewer may see.

Entries the rule hides from more viewers repeat the common word more often, so they rank
above the visible ones: a filter applied after paging, or after picking the top related
entries, would leave pages and lists short.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kb.entries.models import Entry, Lesson, Paper, Review
from kb.entries.vocabulary import STATUSES, VISIBILITIES
from kb.extensions import db
from kb.permissions import ANONYMOUS, Viewer, can_view_entry, index_visibility_filter, viewer_for, visible_entries
from kb.search import related_cache, whoosh_search
from kb.search.backend import POSTGRESQL, backend, index_store
from kb.search.docsets import docset
from kb.search.documents import entry_date
from kb.search.meaning import layer as meaning_layer
from kb.search.pg import service as pg_service
from kb.search.pg.tables import search_documents
from kb.search.service import (
    SearchRequest,
    SearchResults,
    related,
    search,
    similar_lessons_elsewhere,
)
from kb.search.storage import SearcherState
from kb.search.text import facet_key
from kb.taxonomy.models import Tag, Theme
from kb.users.models import PanelMembership, User
from tests.accounts import login_as, make_user
from tests.pg_search import SEARCH_BACKENDS, search_app

KINDS = {"lesson": Lesson, "paper": Paper, "review": Review}
AUTHORS = ("nobody", "author", "other")
PANELS = ("a", "b", "none")
VIEWERS = ("anonymous", "member", "author", "panel-a", "panel-b", "moderator", "admin", "deactivated")
STAFF = frozenset({"moderator", "admin"})

COMMON_WORD = "harbour"
"""In every entry, the generated ones and the two reviews the panels sit on."""
HIDDEN_WORD = "zanzibarqx"
"""Only in entries that no viewer but staff may see."""
HIDDEN_TYPO = "zanzibarqy"
NOWHERE_WORD = "quintalbqx"
"""In no entry; as long as the hidden word, so pages for either can be compared."""
NOWHERE_TYPO = "quintalbqy"
PER_PAGE = 25
RELATED_LIMIT = 5


@dataclass(frozen=True)
class Case:
    """One generated entry's make-up."""

    kind: str
    status: str
    visibility: str
    author: str
    panel: str

    @property
    def slug(self) -> str:
        return f"{self.kind}-{self.status}-{self.visibility}-by-{self.author}-panel-{self.panel}"

    @property
    def token(self) -> str:
        """A word that only this entry contains."""
        return f"entryqz{CASES.index(self):03d}"

    @property
    def staff_only(self) -> bool:
        """Whether only moderators and admins may see it (whatever the panels)."""
        own = self.author == "author" and self.status not in ("removed", "merged")
        return not own and (self.status != "published" or self.visibility == "draft")

    @property
    def restrictedness(self) -> int:
        """0 for what everyone sees, more for what fewer viewers see."""
        if self.status != "published" or self.visibility == "draft":
            return 4
        return {"public": 0, "members": 1, "panel": 2}[self.visibility]

    @property
    def region(self) -> str:
        return f"Region {self.visibility.title()}"

    @property
    def year(self) -> int:
        return 2000 + list(STATUSES).index(self.status)

    @property
    def tags(self) -> list[str]:
        return [f"audience-{self.visibility}", *(["themed"] if self.kind == "lesson" else [])]


CASES = [Case(*values) for values in itertools.product(KINDS, STATUSES, VISIBILITIES, AUTHORS, PANELS)]


@dataclass
class World:
    """The app, the viewers, their clients and the generated entries, built once for the module."""

    app: Flask
    users: dict[str, User | None]
    viewers: dict[str, Viewer]
    entries: dict[int, Entry]
    cases: dict[int, Case]
    clients: dict[str, FlaskClient] = field(default_factory=dict)
    backend: str = "whoosh"

    def visible(self, viewer: str) -> set[int]:
        """The ids `can_view_entry` lets `viewer` see."""
        return {entry_id for entry_id, entry in self.entries.items() if can_view_entry(self.viewers[viewer], entry)}

    def listed(self, viewer: str) -> set[int]:
        """The visible ids that related and similar lists may offer: merged duplicates are left out."""
        return {entry_id for entry_id in self.visible(viewer) if self.entries[entry_id].status != "merged"}

    def client(self, viewer: str) -> FlaskClient:
        if viewer not in self.clients:
            client = self.app.test_client()
            user = self.users[viewer]
            self.clients[viewer] = login_as(client, user) if user is not None else client
        return self.clients[viewer]


def entry_text(case: Case) -> str:
    words = [COMMON_WORD] * (1 + 3 * case.restrictedness) + [case.token]
    if case.staff_only:
        words.append(HIDDEN_WORD)
    return " ".join(words)


@pytest.fixture(scope="module", params=SEARCH_BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, empty_database: Path
) -> Iterator[World]:
    """The generated entries on each search backend (the same tests run on both)."""
    app = search_app(request.param, tmp_path_factory.mktemp("search-visibility"), empty_database, seeded=False)
    with app.app_context():
        review_a = Review(slug="review-a", title="Review A", commissioning_body="Board", body=COMMON_WORD)
        review_b = Review(slug="review-b", title="Review B", commissioning_body="Board", body=COMMON_WORD)
        theme = Theme(slug="generated-theme", label="Generated theme")
        db.session.add_all([review_a, review_b, theme, Tag(slug="themed", label="Themed", theme=theme)])
        db.session.commit()
        users: dict[str, User | None] = {
            "anonymous": None,
            "member": make_user("member@example.org"),
            "author": make_user("author@example.org"),
            "other": make_user("other@example.org"),
            "panel-a": make_user("panel-a@example.org", panels=(review_a,)),
            "panel-b": make_user("panel-b@example.org", panels=(review_b,)),
            "moderator": make_user("moderator@example.org", role="moderator"),
            "admin": make_user("admin@example.org", role="admin"),
            "deactivated": make_user(
                "deactivated@example.org", role="moderator", panels=(review_a, review_b), active=False
            ),
        }
        tags = {tag.slug: tag for tag in db.session.scalars(select(Tag))}
        for slug in {tag for case in CASES for tag in case.tags} - set(tags):
            tags[slug] = Tag(slug=slug, label=slug.replace("-", " ").capitalize())
        panel_review = {"a": review_a, "b": review_b, "none": None}
        for case in CASES:
            author = users.get(case.author)
            entry = KINDS[case.kind](
                slug=case.slug,
                title=case.slug.replace("-", " ").capitalize(),
                summary=f"Generated {case.kind}.",
                body=entry_text(case),
                status=case.status,
                visibility=case.visibility,
                author_id=author.id if author else None,
                region=case.region,
                event_date=dt.date(case.year, 6, 1),
                event_date_precision="year",
            )
            entry.tags = [tags[slug] for slug in case.tags]
            if case.kind == "review":
                if case.panel != "none":  # A review's panel is its own.
                    seated = users[f"panel-{case.panel}"]
                    assert seated is not None
                    seated.panel_seats.append(PanelMembership(review=entry))
            elif panel_review[case.panel] is not None:
                entry.review = panel_review[case.panel]
            db.session.add(entry)
        db.session.commit()  # Indexed by the drain that follows the commit.
        report = backend().check()
        assert report.in_step, report
        assert report.indexed == len(CASES) + 2

        query = select(Entry).options(selectinload(Entry.tags).selectinload(Tag.theme))
        entries = {entry.id: entry for entry in db.session.scalars(query)}
        by_slug = {case.slug: case for case in CASES}
        world = World(
            app=app,
            users={name: user for name, user in users.items() if name != "other"},
            viewers={name: viewer_for(user) for name, user in users.items() if name != "other"},
            entries=entries,
            cases={entry.id: by_slug[entry.slug] for entry in entries.values() if entry.slug in by_slug},
            backend=request.param,
        )
        yield world
        db.session.remove()
        db.engine.dispose()


# --- helpers ---------------------------------------------------------------------------------


def index_visible(viewer: Viewer) -> set[int]:
    """The entry ids the index's visibility filter selects for `viewer`.

    On PostgreSQL the filter is `visible_entries` joined to the search documents: this
    also checks that every entry the rule lets through has its document.
    """
    if current_app.config["SEARCH_BACKEND"] == POSTGRESQL:
        joined = select(search_documents.c.entry_id).join(Entry, Entry.id == search_documents.c.entry_id)
        return set(db.session.scalars(joined.where(visible_entries(viewer))))
    state = index_store().searcher_state()
    return {
        int(state.searcher.stored_fields(number)["id"]) for number in docset(state, index_visibility_filter(viewer))
    }


def sql_visible(viewer: Viewer) -> set[int]:
    return set(db.session.scalars(select(Entry.id).where(visible_entries(viewer))))


def differences(found: set[int], expected: set[int], world: World) -> list[str]:
    """Readable +extra / -missing slugs, empty when the sets agree."""
    extra = [f"+{world.entries[entry_id].slug}" for entry_id in found - expected]
    missing = [f"-{world.entries[entry_id].slug}" for entry_id in expected - found]
    return sorted(extra) + sorted(missing)


def search_as(world: World, viewer: str, text: str, **options: Any) -> SearchResults:
    return search(world.viewers[viewer], SearchRequest(text=text, **options))


def hit_ids(results: SearchResults) -> list[int]:
    return [hit.entry.id for hit in results.hits]


def facet_values(entry: Entry) -> dict[str, set[str]]:
    """The facet values an entry carries, worked out from its row, not from the index."""
    return {
        "kind": {entry.kind},
        "status": {entry.status},
        "tag": {tag.slug for tag in entry.tags},
        "theme": {tag.theme.slug for tag in entry.tags if tag.theme is not None},
        "region": {facet_key(entry.region)} if entry.region else set(),
        "year": {str(entry_date(entry).year)},
    }


def expected_facets(world: World, ids: set[int]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for entry_id in ids:
        for name, values in facet_values(world.entries[entry_id]).items():
            counts.setdefault(name, Counter()).update(values)
    return {name: dict(counter) for name, counter in counts.items()}


def found_facets(results: SearchResults) -> dict[str, dict[str, int]]:
    return {name: {count.value: count.count for count in counts} for name, counts in results.facets.items() if counts}


def all_pages(world: World, viewer: str, text: str, sort: str) -> list[list[int]]:
    """The hit ids of every page of a search, as the pages show them."""
    first = search_as(world, viewer, text, sort=sort, per_page=PER_PAGE)
    pages = [hit_ids(first)]
    for number in range(2, math.ceil(first.total / PER_PAGE) + 1):
        page = search_as(world, viewer, text, sort=sort, page=number, per_page=PER_PAGE)
        assert page.total == first.total
        pages.append(hit_ids(page))
    return pages


def sample(ids: set[int], world: World, per_kind: int = 4) -> list[int]:
    """A few entries of each kind from `ids`, spread over the set, in a stable order."""
    chosen: list[int] = []
    for kind in KINDS:
        of_kind = sorted(entry_id for entry_id in ids if world.entries[entry_id].kind == kind)
        step = max(1, len(of_kind) // per_kind)
        chosen += of_kind[::step][:per_kind]
    return chosen


# --- the set itself --------------------------------------------------------------------------


def test_the_generated_set_covers_every_combination(world):
    assert len(CASES) == len(KINDS) * len(STATUSES) * len(VISIBILITIES) * len(AUTHORS) * len(PANELS) == 864
    assert set(world.cases.values()) == set(CASES)
    assert set(world.viewers) == set(VIEWERS)
    assert world.viewers["deactivated"] == ANONYMOUS


def test_every_viewer_sees_a_different_set_and_none_but_staff_sees_everything(world):
    """Catches a rule and a filter that agree by both being empty or both being everything."""
    seen = {viewer: frozenset(world.visible(viewer)) for viewer in VIEWERS}
    assert seen["anonymous"] == seen["deactivated"]
    assert seen["moderator"] == seen["admin"] == frozenset(world.entries)
    distinct = {seen[viewer] for viewer in ("anonymous", "member", "author", "panel-a", "panel-b", "moderator")}
    assert len(distinct) == 6
    for viewer in set(VIEWERS) - STAFF:
        assert not any(world.cases[entry_id].staff_only for entry_id in seen[viewer] if entry_id in world.cases)


# --- the index's filter is the rule ----------------------------------------------------------


@pytest.mark.parametrize("viewer", VIEWERS)
def test_index_filter_selects_what_the_predicate_allows(world, viewer):
    assert differences(index_visible(world.viewers[viewer]), world.visible(viewer), world) == []


@pytest.mark.parametrize("viewer", VIEWERS)
def test_index_filter_selects_what_the_sql_condition_selects(world, viewer):
    sees = world.viewers[viewer]
    assert differences(index_visible(sees), sql_visible(sees), world) == []


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_backends_entry_ids_are_exactly_the_visible_or_listed_entries(world, viewer):
    sees = world.viewers[viewer]
    visible = backend().visible_entry_ids(sees).tolist()
    listed = backend().visible_entry_ids(sees, listed=True).tolist()
    assert visible == sorted(set(visible)), "ascending, each once"
    assert differences(set(visible), world.visible(viewer), world) == []
    assert differences(set(listed), world.listed(viewer), world) == []
    assert listed == sorted(set(listed))


FACET_CHOICES = (
    {"kind": ["lesson"]},
    {"status": ["published"], "region": [facet_key("Region Panel")]},
    {"tag": ["themed"], "year": [str(2000 + list(STATUSES).index("published"))]},
    {"theme": ["generated-theme"], "kind": ["lesson"]},
    {"tag": ["audience-members", "audience-panel"]},
)


@pytest.mark.parametrize("viewer", ["anonymous", "member", "panel-a", "author", "moderator"])
def test_the_backends_entry_ids_have_every_chosen_facet(world, viewer):
    sees = world.viewers[viewer]
    for chosen in FACET_CHOICES:
        for listed in (False, True):
            among = world.listed(viewer) if listed else world.visible(viewer)
            expected = {
                entry_id
                for entry_id in among
                if all(set(values) <= facet_values(world.entries[entry_id])[name] for name, values in chosen.items())
            }
            found = set(backend().visible_entry_ids(sees, chosen, listed=listed).tolist())
            assert differences(found, expected, world) == [], (chosen, listed)
    every_lesson = backend().visible_entry_ids(sees, {"kind": ["lesson"]})
    assert 0 < len(every_lesson) < len(backend().visible_entry_ids(sees)), "the facet narrows, to something"


# --- searching -------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", VIEWERS)
def test_a_word_in_every_entry_finds_exactly_the_visible_ones(world, viewer):
    results = search_as(world, viewer, COMMON_WORD, per_page=1000)
    expected = world.visible(viewer)
    assert results.total == len(expected)
    assert differences(set(hit_ids(results)), expected, world) == []
    assert len(hit_ids(results)) == len(expected)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_facet_counts_count_only_visible_entries(world, viewer):
    results = search_as(world, viewer, COMMON_WORD)
    assert found_facets(results) == expected_facets(world, world.visible(viewer))


@pytest.mark.parametrize("viewer", VIEWERS)
def test_browsing_without_words_counts_only_visible_entries(world, viewer):
    results = search_as(world, viewer, "")
    expected = world.visible(viewer)
    assert results.total == len(expected)
    assert found_facets(results) == expected_facets(world, expected)


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("sort", ["relevance", "newest"])
def test_every_page_is_full_of_visible_entries_and_the_pages_cover_them_all(world, viewer, sort):
    """The filter comes before paging: no page is short, none shows a hidden entry."""
    expected = world.visible(viewer)
    pages = all_pages(world, viewer, COMMON_WORD, sort)
    for number, page in enumerate(pages, 1):
        assert len(page) == min(PER_PAGE, len(expected) - (number - 1) * PER_PAGE), f"page {number}"
        assert set(page) <= expected, f"page {number}"
    shown = [entry_id for page in pages for entry_id in page]
    assert len(shown) == len(set(shown)) == len(expected)


@pytest.mark.parametrize("viewer", ["anonymous", "panel-a", "admin"])
def test_a_query_of_only_excluded_words_pages_through_what_it_matches(world, viewer):
    """`NOT word` matches every visible entry but one; no page may show that one."""
    visible = world.visible(viewer)
    [excluded] = hit_ids(search_as(world, viewer, "", sort="oldest", per_page=1))  # first on the first page
    pages = all_pages(world, viewer, f"NOT {world.cases[excluded].token}", "oldest")
    shown = [entry_id for page in pages for entry_id in page]
    assert excluded not in shown
    assert set(shown) == visible - {excluded}


@pytest.mark.parametrize("viewer", sorted(set(VIEWERS) - STAFF))
def test_a_word_only_in_hidden_entries_finds_nothing(world, viewer):
    results = search_as(world, viewer, HIDDEN_WORD)
    assert (results.total, results.hits) == (0, [])
    assert found_facets(results) == {}
    assert results.suggestion is None
    assert results.corrected_from is None


@pytest.mark.parametrize("viewer", sorted(set(VIEWERS) - STAFF))
def test_a_misspelt_hidden_word_is_not_suggested(world, viewer):
    results = search_as(world, viewer, HIDDEN_TYPO)
    assert (results.total, results.hits) == (0, [])
    assert results.suggestion is None
    assert results.corrected_from is None
    assert HIDDEN_WORD not in results.parsed.text


@pytest.mark.parametrize("viewer", sorted(STAFF))
def test_staff_are_offered_the_hidden_word_for_its_misspelling(world, viewer):
    """The positive control: the correction exists, so the test above can fail."""
    results = search_as(world, viewer, HIDDEN_TYPO)
    staff_only = {entry_id for entry_id, case in world.cases.items() if case.staff_only}
    assert results.corrected_from == HIDDEN_TYPO
    assert results.parsed.text == HIDDEN_WORD
    assert results.total == len(staff_only)


@pytest.mark.parametrize("viewer", sorted(set(VIEWERS) - STAFF))
def test_the_own_word_of_a_hidden_entry_finds_nothing(world, viewer):
    """For each viewer, hidden entries of every kind: the entry's only word gives no result and no count."""
    hidden = set(world.cases) - world.visible(viewer)
    for entry_id in sample(hidden, world):
        results = search_as(world, viewer, world.cases[entry_id].token, exact=True)
        assert (results.total, results.hits, found_facets(results)) == (0, [], {}), world.entries[entry_id].slug


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_own_word_of_a_visible_entry_finds_it(world, viewer):
    for entry_id in sample(world.visible(viewer) & set(world.cases), world):
        results = search_as(world, viewer, world.cases[entry_id].token, exact=True)
        assert hit_ids(results) == [entry_id]
        assert results.total == 1


def search_page_main(world: World, viewer: str, text: str) -> str:
    """The search page's <main> for `text`, with the typed text (echoed back) taken out."""
    response = world.client(viewer).get("/search", query_string={"q": text})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    start, end = html.index("<main"), html.index("</main>")
    return html[start:end].replace(text, "QUERY").replace(quote_plus(text), "QUERY")


HIDDEN_QUERIES = [HIDDEN_WORD, HIDDEN_TYPO, f"{HIDDEN_WORD}~", f"{COMMON_WORD} {HIDDEN_TYPO}"]


def as_if_nowhere(text: str) -> str:
    """The same query with the hidden word (or its misspelling) swapped for one no entry has."""
    return text.replace(HIDDEN_WORD, NOWHERE_WORD).replace(HIDDEN_TYPO, NOWHERE_TYPO)


@pytest.mark.parametrize("viewer", sorted(set(VIEWERS) - STAFF))
@pytest.mark.parametrize("text", HIDDEN_QUERIES)
def test_the_search_page_for_a_hidden_word_is_the_page_for_a_word_nobody_wrote(world, viewer, text, monkeypatch):
    """No result, count, snippet, suggestion or correction tells the hidden word from one not in the index.

    Search by meaning reads the letters of what was typed, so two strings nobody's entry holds
    are different questions to it; it is handed the nowhere word for both, and the pages must
    then be the same (its own visibility is `test_search_meaning.py`'s).
    """
    as_typed = meaning_layer.without_fillers
    monkeypatch.setattr(meaning_layer, "without_fillers", lambda typed: as_typed(as_if_nowhere(typed)))
    main = search_page_main(world, viewer, text)
    assert main == search_page_main(world, viewer, as_if_nowhere(text))
    assert HIDDEN_WORD not in main
    assert "Did you mean" not in main


@pytest.mark.parametrize("viewer", sorted(STAFF))
def test_the_search_page_shows_staff_the_hidden_word_in_snippets(world, viewer):
    response = world.client(viewer).get("/search", query_string={"q": HIDDEN_TYPO})
    html = response.get_data(as_text=True)
    assert f"<mark>{HIDDEN_WORD}</mark>" in html


@pytest.fixture
def chosen_by_index(monkeypatch: pytest.MonkeyPatch, world: World) -> list[tuple[Viewer, list[int]]]:
    """The entry ids the index picked for each search or related list, before the database loads them."""
    calls: list[tuple[Viewer, list[int]]] = []
    load_related = related_cache.load_listed

    def related_spy(viewer: Viewer, ids: list[int]) -> list[Entry]:  # Related lists, found or remembered.
        calls.append((viewer, list(ids)))
        return load_related(viewer, ids)

    monkeypatch.setattr(related_cache, "load_listed", related_spy)
    if world.backend == "postgresql":
        load = pg_service.load_visible

        def pg_spy(viewer: Viewer, ids: list[int]) -> list[Entry]:
            calls.append((viewer, list(ids)))
            return load(viewer, ids)

        monkeypatch.setattr(pg_service, "load_visible", pg_spy)
        return calls
    original = whoosh_search._load_visible

    def spy(viewer: Viewer, state: SearcherState, docnums: list[int]) -> list[Entry]:
        calls.append((viewer, [int(state.searcher.stored_fields(number)["id"]) for number in docnums]))
        return original(viewer, state, docnums)

    monkeypatch.setattr(whoosh_search, "_load_visible", spy)
    return calls


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_index_alone_keeps_hidden_entries_out(world, viewer, chosen_by_index):
    """Loading from the database checks the rule again; what the index picks must not need that check."""
    sees = world.viewers[viewer]
    visible = world.visible(viewer)
    search_as(world, viewer, COMMON_WORD, per_page=100)
    search_as(world, viewer, HIDDEN_TYPO)
    searches = len(chosen_by_index)
    lessons = {entry_id for entry_id in visible if world.entries[entry_id].kind == "lesson"}
    for entry_id in sample(visible & set(world.cases), world, per_kind=2):
        related(sees, world.entries[entry_id], limit=RELATED_LIMIT)
    for entry_id in sample(lessons, world, per_kind=3):
        similar_lessons_elsewhere(sees, world.entries[entry_id], limit=RELATED_LIMIT)
    assert searches
    assert len(chosen_by_index) > searches  # The related lists were watched too.
    for _, ids in chosen_by_index:
        assert differences(set(ids) - visible, set(), world) == []


# --- related entries -------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", VIEWERS)
def test_related_lists_only_visible_entries_and_fills_its_places(world, viewer):
    """Hidden entries rank higher; filtering after choosing the top ones would leave the list short."""
    visible = world.visible(viewer)
    listed = world.listed(viewer)
    for entry_id in sample(visible & set(world.cases), world):
        found = [entry.id for entry in related(world.viewers[viewer], world.entries[entry_id], limit=RELATED_LIMIT)]
        assert set(found) <= listed - {entry_id}, world.entries[entry_id].slug
        assert len(found) == min(RELATED_LIMIT, len(listed - {entry_id})), world.entries[entry_id].slug


@pytest.mark.parametrize("viewer", VIEWERS)
def test_related_leaves_out_what_it_is_told_to_exclude(world, viewer):
    visible = sorted(world.visible(viewer) & set(world.cases))
    entry = world.entries[visible[0]]
    first = [other.id for other in related(world.viewers[viewer], entry, limit=RELATED_LIMIT)]
    second = [other.id for other in related(world.viewers[viewer], entry, limit=RELATED_LIMIT, exclude=first)]
    assert not set(first) & set(second)
    assert set(second) <= set(visible)


def elsewhere_candidates(world: World, viewer: str, lesson: Entry) -> set[int]:
    """Listed lessons other than `lesson` not from both its region and its year."""
    place_and_year = (lesson.region, entry_date(lesson).year)
    return {
        entry_id
        for entry_id in world.listed(viewer)
        if entry_id != lesson.id
        and world.entries[entry_id].kind == "lesson"
        and (world.entries[entry_id].region, entry_date(world.entries[entry_id]).year) != place_and_year
    }


@pytest.mark.parametrize("viewer", VIEWERS)
def test_similar_lessons_elsewhere_are_visible_lessons_from_another_place_or_year(world, viewer):
    visible = world.visible(viewer)
    lessons = {entry_id for entry_id in visible if world.entries[entry_id].kind == "lesson"}
    for entry_id in sample(lessons, world, per_kind=6):
        lesson = world.entries[entry_id]
        candidates = elsewhere_candidates(world, viewer, lesson)
        found = [entry.id for entry in similar_lessons_elsewhere(world.viewers[viewer], lesson, limit=RELATED_LIMIT)]
        assert set(found) <= candidates, (lesson.slug, differences(set(found), candidates, world))
        assert len(found) == min(RELATED_LIMIT, len(candidates)), lesson.slug


@pytest.mark.parametrize("viewer", sorted(set(VIEWERS) - STAFF))
def test_the_entry_page_lists_no_hidden_entry_as_similar(world, viewer):
    """The page's related entries, similar ones included, for each kind of visible entry."""
    visible = world.visible(viewer)
    paths = {entry.path: entry_id for entry_id, entry in world.entries.items()}
    for entry_id in sample(visible & set(world.cases), world, per_kind=2):
        response = world.client(viewer).get(world.entries[entry_id].path)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Similar entries" in html
        linked = {paths[path] for path in paths if f'href="{path}"' in html}
        assert linked <= visible, differences(linked - visible, set(), world)
        assert HIDDEN_WORD not in html
