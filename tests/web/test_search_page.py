"""The search page over HTTP: results, facets, sorting, pages, corrections, odd input, help, outages.

Every test but the outage ones (the Whoosh index's own) runs on each search backend.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from kb.entries.vocabulary import KINDS
from kb.extensions import db
from kb.search.facets import chosen_facets
from tests.accounts import login_as
from tests.pg_search import SEARCH_BACKENDS, in_context, search_app
from tests.search_queries import HIDDEN_FIELD_QUERIES
from tests.web import seed
from tests.web.dom import Node, main_of, parse

FACETS = {"kind": "Type", "theme": "Theme", "tag": "Tag", "region": "Region", "year": "Year", "status": "Status"}
BY_PATH = {seed.path_of(document): document for document in seed.documents().values()}
PER_PAGE = 3


@pytest.fixture(params=SEARCH_BACKENDS)
def search_backend(request: pytest.FixtureRequest) -> str:
    """The search backend the test runs on."""
    return str(request.param)


@pytest.fixture
def seeded_app(search_backend: str, tmp_path: Path, seeded_database: Path) -> Iterator[Flask]:
    """The seeded site searching with `search_backend`; `client` and `cast` use it."""
    yield from in_context(search_app(search_backend, tmp_path, seeded_database, seeded=True))


# --- Helpers ------------------------------------------------------------------


def get_main(client: FlaskClient, url: str, **args: object) -> Node:
    response = client.get(url, query_string=args or None)
    assert response.status_code == 200, url
    return main_of(response.data)


def search(client: FlaskClient, **args: object) -> Node:
    return get_main(client, "/search", **args)


def total_of(page: Node) -> int:
    count = page.one("p", cls="kb-result-count").text()
    if count.startswith("No "):
        return 0
    found = re.search(r"of (\d+) ", count)
    assert found, count
    return int(found.group(1))


def result_paths(page: Node) -> list[str]:
    results = page.find("ol", cls="kb-results")
    return results.entry_paths() if results is not None else []


def results_of(page: Node) -> list[Node]:
    return page.find_all("li", cls="kb-result")


def facet_values(page: Node, name: str) -> dict[str, tuple[int, str]]:
    """A facet's values as {value: (count, link)}.

    Each link toggles its value, so the value is the one the link adds to or removes from
    the values already chosen on the page.
    """
    title = page.find("h3", where=lambda e: e.attrs.get("id") == f"facet-{name}")
    assert title is not None, f"no {name} facet"
    already = set(chosen_filters(page).get(name, []))
    values = {}
    for item in title.parent.find_all("li"):
        link = item.one("a", cls="kb-facet__link")
        count = int(re.match(r"\d+", item.one("span", cls="kb-facet__count").text()).group())
        (value,) = set(query_of(link.attrs["href"]).get(name, [])) ^ already
        values[value] = (count, link.attrs["href"])
    return values


def chosen_filters(page: Node) -> dict[str, list[str]]:
    """The facet values already chosen on a page, from the hidden fields of its search form."""
    form = page.one("form", cls="kb-search-form")
    chosen: dict[str, list[str]] = {}
    for field in form.find_all("input", where=lambda e: e.attrs.get("type") == "hidden"):
        chosen.setdefault(field.attrs["name"], []).append(field.attrs["value"])
    return chosen


def query_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def notes_of(page: Node) -> str:
    notes = page.find("div", cls="kb-search-notes")
    return notes.text() if notes is not None else ""


def date_key(path: str) -> tuple[int, int, int]:
    date = BY_PATH[path].event_date
    return (date.year, date.month or 1, date.day or 1)


def all_pages(client: FlaskClient, **args: object) -> list[str]:
    first = search(client, **args)
    collected = result_paths(first)
    per_page = len(collected)
    for number in range(2, math.ceil(total_of(first) / per_page) + 1 if per_page else 1):
        collected += result_paths(search(client, **args, page=number))
    return collected


def pagination_links(page: Node) -> list[str]:
    nav = page.find("nav", where=lambda e: "pagination" in e.attrs.get("class", ""))
    return nav.hrefs() if nav is not None else []


# --- Results ------------------------------------------------------------------


def test_results_show_highlighted_snippets(client):
    page = search(client, q="cost weighting")
    results = results_of(page)
    assert results
    labelled = 0
    for result in results:
        snippet = result.one("p", cls="kb-result__snippet")
        # A snippet from a part that matched is labelled with the part and has the words marked;
        # an entry found only by its tags or sources shows its summary, unlabelled.
        if snippet.find("span", cls="kb-result__label") is not None:
            labelled += 1
            assert snippet.find("mark") is not None, snippet.text()
    assert labelled >= len(results) // 2
    first = results[0].one("p", cls="kb-result__snippet")
    assert {mark.text().lower() for mark in first.find_all("mark")} >= {"cost", "weighted"}


def test_results_show_kind_date_and_tags(client):
    page = search(client, q="procurement")
    for result in results_of(page):
        path = result.one("h2").one("a").attrs["href"]
        document = BY_PATH[path]
        meta = result.one("p", cls="kb-entry-item__meta")
        assert meta.one("strong", cls="nhsuk-tag").text() == KINDS[document.kind]
        date = document.event_date
        assert str(date.year) in meta.text()
        if date.month:
            assert calendar.month_name[date.month] in meta.text()
        tag_links = result.find("ul", cls="kb-tag-list")
        shown = set(tag_links.hrefs()) if tag_links is not None else set()
        assert shown == {f"/tags/{tag}" for tag in document.tags}


def test_results_are_only_what_a_signed_out_reader_may_see(client):
    hidden = [document for document in seed.all_documents().values() if not seed.is_public(document)]
    assert hidden
    shown = set(all_pages(client, q="NHS 111"))
    assert shown
    assert not shown & {seed.path_of(document) for document in hidden}


# --- Facets -------------------------------------------------------------------


def test_every_facet_has_counts(client):
    page = search(client, q="procurement")
    total = total_of(page)
    assert total > 3
    for name, title in FACETS.items():
        assert page.find("h3", where=lambda e, title=title: e.text() == title) is not None
        values = facet_values(page, name)
        assert values, name
        assert all(count > 0 for count, _ in values.values())
    for single_valued in ("kind", "year", "status"):
        assert sum(count for count, _ in facet_values(page, single_valued).values()) == total


def test_facet_count_is_the_number_of_results_it_leads_to(client):
    page = search(client, q="procurement")
    for name in ("kind", "theme", "region"):
        for value, (count, href) in facet_values(page, name).items():
            assert total_of(get_main(client, href)) == count, (name, value)


def test_facet_link_narrows_the_results_and_shows_a_remove_link(client):
    page = search(client, q="procurement")
    total = total_of(page)
    count, href = facet_values(page, "kind")["lesson"]
    assert query_of(href) == {"q": ["procurement"], "kind": ["lesson"]}
    narrowed = get_main(client, href)
    assert total_of(narrowed) == count < total
    assert {BY_PATH[path].kind for path in result_paths(narrowed)} == {"lesson"}
    chosen = narrowed.one("ul", cls="kb-chosen-filters")
    remove = chosen.one("a", cls="kb-chosen-filter")
    assert "Remove filter" in remove.text()
    assert "Type: Lesson" in remove.text()
    assert query_of(remove.attrs["href"]) == {"q": ["procurement"]}
    assert total_of(get_main(client, remove.attrs["href"])) == total
    selected = facet_values(narrowed, "kind")["lesson"][1]
    assert query_of(selected) == {"q": ["procurement"]}


def test_two_facets_combine(client):
    page = search(client, q="bid")
    by_kind = get_main(client, facet_values(page, "kind")["lesson"][1])
    by_region = get_main(client, facet_values(page, "region")["north-west"][1])
    both_href = facet_values(by_kind, "region")["north-west"][1]
    assert query_of(both_href) == {"q": ["bid"], "kind": ["lesson"], "region": ["north-west"]}
    both = get_main(client, both_href)
    expected = set(result_paths(by_kind)) & set(result_paths(by_region))
    assert set(result_paths(both)) == expected
    assert total_of(both) == len(expected) > 0
    assert total_of(both) < total_of(by_kind)
    assert len(both.one("ul", cls="kb-chosen-filters").find_all("a", cls="kb-chosen-filter")) == 2


def test_facets_work_without_a_query(client):
    theme = "procurement"
    expected = {
        seed.path_of(document) for spec in seed.themes() if spec.slug == theme for document in seed.theme_entries(spec)
    }
    assert set(all_pages(client, theme=theme)) == expected


def test_staff_see_every_status_in_the_status_facet(client, cast):
    login_as(client, cast.moderator)
    statuses = facet_values(search(client), "status")
    drafts = [document for document in seed.all_documents().values() if document.status == "draft"]
    assert statuses["draft"][0] == len(drafts)
    assert statuses["published"][0] == sum(d.status == "published" for d in seed.all_documents().values())


# --- Sorting, pages and addresses -------------------------------------------------


def test_sort_by_newest_and_oldest_orders_by_date(client):
    newest = result_paths(search(client, q="deadline", sort="newest"))
    oldest = result_paths(search(client, q="deadline", sort="oldest"))
    relevance = result_paths(search(client, q="deadline"))
    assert 1 < len(newest) <= 10
    assert set(newest) == set(oldest) == set(relevance)
    assert [date_key(path) for path in newest] == sorted((date_key(path) for path in newest), reverse=True)
    assert [date_key(path) for path in oldest] == sorted(date_key(path) for path in oldest)
    assert date_key(newest[0]) > date_key(oldest[0])


def test_sort_links_keep_the_query_and_filters(client):
    page = search(client, q="procurement", kind="lesson")
    links = page.one("p", cls="kb-sort").find_all("a")
    assert {link.text() for link in links} == {"newest first", "oldest first"}
    for link in links:
        args = query_of(link.attrs["href"])
        assert args["q"] == ["procurement"]
        assert args["kind"] == ["lesson"]
        assert args["sort"][0] in {"newest", "oldest"}


@pytest.fixture
def paged_client(search_backend: str, tmp_path: Path, seeded_database: Path) -> Iterator[FlaskClient]:
    application = search_app(
        search_backend, tmp_path / "paged", seeded_database, seeded=True, RESULTS_PER_PAGE=PER_PAGE
    )
    yield application.test_client()
    with application.app_context():
        db.engine.dispose()


def test_results_are_paged(paged_client):
    first = search(paged_client, q="procurement")
    total = total_of(first)
    assert total > 2 * PER_PAGE
    seen = all_pages(paged_client, q="procurement")
    assert len(seen) == len(set(seen)) == total
    assert seen[:PER_PAGE] == result_paths(first)
    assert f"Showing 1 to {PER_PAGE} of {total} results" in first.text()


def test_page_links_keep_the_query_and_filters(paged_client):
    page = search(paged_client, q="procurement", kind="lesson", sort="oldest")
    links = pagination_links(page)
    assert links, "more results than a page should give page links"
    for href in links:
        args = query_of(href)
        assert args["q"] == ["procurement"]
        assert args["kind"] == ["lesson"]
        assert args["sort"] == ["oldest"]
    assert "2" in {query_of(href).get("page", ["1"])[0] for href in links}


def test_second_page_continues_the_first(paged_client):
    first = result_paths(search(paged_client, q="procurement"))
    second = result_paths(search(paged_client, q="procurement", page=2))
    assert len(second) == PER_PAGE
    assert not set(first) & set(second)


def test_search_url_is_bookmarkable(client, seeded_app):
    url = "/search?q=procurement&kind=lesson&sort=oldest"
    first = get_main(client, url)
    again = get_main(seeded_app.test_client(), url)
    assert result_paths(first) == result_paths(again)
    assert total_of(first) == total_of(again) > 0
    assert first.one("input", where=lambda e: e.attrs.get("id") == "search-q").attrs["value"] == "procurement"


def test_empty_query_browses_every_visible_entry(client):
    page = search(client)
    assert page.one("h1").text() == "Search and browse"
    assert page.find("h2", where=lambda e: e.text() == "Browse by") is not None
    assert total_of(page) == len(seed.documents())
    for name in FACETS:
        assert facet_values(page, name)
    assert set(all_pages(client)) == set(BY_PATH)


# --- Corrections ----------------------------------------------------------------


def test_did_you_mean_for_a_misspelling_with_few_results(client):
    page = search(client, q="sanctions OR pentalties")
    assert 0 < total_of(page) < 3
    assert "Did you mean" in notes_of(page)
    link = page.one("div", cls="kb-search-notes").one("a")
    suggested = query_of(link.attrs["href"])["q"][0]
    assert "pentalties" not in suggested
    assert "sanctions" in suggested
    corrected = get_main(client, link.attrs["href"])
    assert total_of(corrected) > total_of(page)
    assert "Did you mean" not in notes_of(corrected)
    assert "financial-penalties-do-not-help-patients" in " ".join(result_paths(corrected))


def test_zero_results_searches_the_correction_with_a_link_to_the_exact_words(client):
    page = search(client, q="pathwyas")
    assert "Showing results for “pathways”" in notes_of(page)
    assert seed.path_of(seed.documents()["bristol-gps-report-inappropriate-triage-responses"]) in result_paths(page)
    exact = page.one("div", cls="kb-search-notes").one("a", where=lambda e: "exact=1" in e.attrs.get("href", ""))
    assert query_of(exact.attrs["href"]) == {"q": ["pathwyas"], "exact": ["1"]}
    as_typed = get_main(client, exact.attrs["href"])
    assert total_of(as_typed) == 0
    assert result_paths(as_typed) == []
    assert "Showing results for" not in notes_of(as_typed)


def test_no_entry_with_every_word_shows_entries_with_any(client):
    page = search(client, q="pilots ignored")
    assert "No entry has all of these words" in notes_of(page)
    assert total_of(page) > 0


# --- Odd input ----------------------------------------------------------------------

MALFORMED = [
    '"unclosed quote',
    "(cost quality",
    "cost quality)",
    ")(",
    "AND",
    "OR NOT",
    "NOT",
    "NOT NOT NOT",
    "NOT NOT cost",
    "*",
    "?",
    "~",
    "a*",
    "te*der",
    "a:b:c",
    "title:(x y)",
    "[a TO b]",
    "{x TO y}",
    *HIDDEN_FIELD_QUERIES,
    "x" * 5000,
]


@pytest.mark.parametrize("text", MALFORMED, ids=lambda text: repr(text[:20]))
def test_malformed_query_gives_a_page_with_a_note(client, text):
    response = client.get("/search", query_string={"q": text})
    assert response.status_code == 200
    page = main_of(response.data)
    assert notes_of(page), f"no note for {text!r}"
    assert page.one("p", cls="kb-result-count") is not None


@pytest.mark.parametrize(
    "text",
    [
        "🚑 ambulance",
        "שלום עולם",
        "'; DROP TABLE entries; --",
        "cost^5",
        "pre-launch testing",
        "go-lve",
        "re-tender",
        "e-mail",
        "title:pre-launch",
    ],
)
def test_odd_query_gives_a_page(client, text):
    response = client.get("/search", query_string={"q": text})
    assert response.status_code == 200


@pytest.mark.parametrize("text", ["\x00", "cost\x07quality", "a\nb"])
def test_a_query_with_a_control_character_is_refused_by_the_doorway(client, text):
    response = client.get("/search", query_string={"q": text})
    assert response.status_code == 400
    assert "U+00" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "args",
    [
        {"q": "cost", "kind": "no-such-kind"},
        {"q": "cost", "year": "1066"},
        {"q": "cost", "tag": "x" * 500},
        {"q": "cost", "status": "draft"},
        {"q": "cost", "sort": "sideways"},
        {"q": "cost", "page": "0"},
        {"q": "cost", "exact": "yes"},
        {"q": "cost", "per_page": "1000"},
        {"kind": ["lesson", "lesson", "paper"]},
    ],
)
def test_unknown_arguments_are_harmless(client, args):
    response = client.get("/search", query_string=args)
    assert response.status_code == 200
    main_of(response.data).one("p", cls="kb-result-count")


@pytest.mark.parametrize("page", ["abc", "-1", "1e3", "99999999999999999999"])
def test_a_malformed_page_number_is_refused(client, page):
    assert client.get("/search", query_string={"q": "cost", "page": page}).status_code == 400


def test_unknown_facet_value_finds_nothing_and_can_be_removed(client):
    page = search(client, q="cost", kind="no-such-kind")
    assert total_of(page) == 0
    remove = page.one("ul", cls="kb-chosen-filters").one("a", cls="kb-chosen-filter")
    assert query_of(remove.attrs["href"]) == {"q": ["cost"]}


def test_anonymous_reader_cannot_filter_to_drafts(client):
    assert total_of(search(client, status="draft")) == 0
    assert total_of(search(client, q="draft", status="draft")) == 0


def test_unknown_sort_is_relevance(client):
    assert result_paths(search(client, q="procurement", sort="sideways")) == result_paths(
        search(client, q="procurement")
    )


def test_page_past_the_end_shows_the_last_page(paged_client):
    total = total_of(search(paged_client, q="procurement"))
    last = math.ceil(total / PER_PAGE)
    assert result_paths(search(paged_client, q="procurement", page=last + 5)) == result_paths(
        search(paged_client, q="procurement", page=last)
    )


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "</title><script>cost</script>",
        "<b>cost</b>",
        '"<script>alert(1)</script>" cost',
    ],
)
def test_query_is_escaped_in_the_page(client, payload):
    response = client.get("/search", query_string={"q": payload})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert payload not in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>cost</b>" not in html
    assert "&lt;" in html


def test_facet_value_is_escaped_in_the_page(client):
    response = client.get("/search", query_string={"q": "cost", "tag": "<script>alert(1)</script>"})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


# --- Help and the header box --------------------------------------------------------


@pytest.mark.parametrize(
    "expected",
    [
        "title:",
        "tag:",
        "region:",
        "kind:",
        '"pressure to go live"',
        "AND",
        "OR",
        "NOT",
        "commission*",
        "Misspellings",
        "Did you mean",
    ],
)
def test_help_page_explains_the_syntax(client, expected):
    assert expected in get_main(client, "/search/help").text()


def test_help_page_is_linked_from_the_search_page(client):
    assert "/search/help" in search(client, q="cost").hrefs()


EVERY_KIND_OF_PAGE = [
    "/",
    "/lessons",
    seed.path_of(seed.documents()["procurement-weighted-towards-cost"]),
    f"/themes/{seed.themes()[0].slug}",
    "/search?q=cost",
    "/search",
    "/search/help",
    "/login",
]


@pytest.mark.parametrize("url", EVERY_KIND_OF_PAGE)
def test_header_search_box_is_on_every_kind_of_page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    header = parse(response.data).one("header")
    form = header.one("form", where=lambda e: e.attrs.get("action") == "/search")
    box = form.one("input", where=lambda e: e.attrs.get("id") == "search-field")
    assert box.attrs["name"] == "q"
    label = form.one("label", where=lambda e: e.attrs.get("for") == "search-field")
    assert label.text()


def test_header_search_box_keeps_the_query_on_the_results_page(client):
    header = parse(client.get("/search?q=tender+criteria").data).one("header")
    box = header.one("input", where=lambda e: e.attrs.get("id") == "search-field")
    assert box.attrs["value"] == "tender criteria"


def test_search_form_keeps_the_chosen_filters(client):
    page = search(client, q="cost", kind="lesson", region="england")
    assert chosen_filters(page) == {"kind": ["lesson"], "region": ["england"]}


# --- When the index cannot be read --------------------------------------------------


@pytest.fixture(params=[True, False], ids=["meaning", "words"])
def index_down(request: pytest.FixtureRequest, tmp_path: Path, seeded_database: Path) -> Iterator[Flask]:
    application = search_app(
        "whoosh",
        tmp_path / "down",
        seeded_database,
        seeded=True,
        SEARCH_REBUILD_AT_START="off",
        SEARCH_MEANING=request.param,
    )
    (Path(application.config["SEARCH_INDEX_DIR"]) / "current").unlink()
    yield application
    with application.app_context():
        db.engine.dispose()


def test_search_says_it_is_being_rebuilt_when_the_index_is_missing(index_down):
    response = index_down.test_client().get("/search?q=cost")
    assert response.status_code == 503
    page = main_of(response.data)
    assert page.one("h1").text() == "Search is being rebuilt"
    assert page.find("ol", cls="kb-results") is None
    assert page.find("li", cls="kb-result") is None


def test_entry_page_renders_without_the_index(index_down, client):
    path = seed.path_of(seed.documents()["procurement-weighted-towards-cost"])
    working = client.get(path)
    assert "Similar entries" in working.get_data(as_text=True)
    response = index_down.test_client().get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Related entries" in html
    # Search by meaning finds entries like this one from their vectors in the database, not from the index.
    like_this = bool(index_down.config["SEARCH_MEANING"])
    assert ("Similar entries" in html) is like_this
    if not like_this:
        assert "The same problem in another region or year" not in html


def test_the_page_and_the_api_read_chosen_facets_with_one_helper() -> None:
    args = MultiDict([("kind", " Lesson "), ("kind", "lesson"), ("tag", ""), ("region", "North"), ("page", "2")])
    assert chosen_facets(args) == {"kind": ["lesson"], "region": ["north"]}
    many = MultiDict([("tag", f"t{number:02}") for number in range(15)])
    assert chosen_facets(many) == {"tag": [f"t{number:02}" for number in range(10)]}
