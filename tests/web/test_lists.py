"""List pages: filters, sorting, odd query values, and pagination."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from kb.content.service import import_directory
from kb.extensions import db
from tests.accounts import client_for, make_cast, page_text
from tests.conftest import make_app
from tests.web import seed
from tests.web.dom import main_of

LESSONS = seed.of_kind("lesson")


def listed(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    return main_of(response.data).entry_paths()


def total_shown(client, url: str) -> str:
    return main_of(client.get(url).data).text()


def a_narrowing_tag() -> str:
    counts = Counter(tag for document in LESSONS for tag in document.tags)
    return next(tag for tag, number in counts.most_common() if 1 < number < len(LESSONS))


def test_tag_filter(client):
    tag = a_narrowing_tag()
    expected = seed.paths(seed.with_tag(tag, "lesson"))
    assert 1 < len(expected) < len(LESSONS)
    assert set(listed(client, f"/lessons?tag={tag}")) == expected
    assert f"of {len(expected)} lessons matching the filters" in total_shown(client, f"/lessons?tag={tag}")


def test_region_filter(client):
    regions = Counter(document.region for document in LESSONS if document.region)
    region = min(regions, key=regions.get)
    expected = seed.paths([d for d in LESSONS if d.region == region])
    assert set(listed(client, f"/lessons?region={region}")) == expected


def test_region_and_tag_together(client):
    region = "North West"
    in_region = [d for d in LESSONS if d.region == region]
    tag = next(tag for d in in_region for tag in d.tags)
    expected = seed.paths([d for d in in_region if tag in d.tags])
    assert set(listed(client, f"/lessons?region={region}&tag={tag}")) == expected
    assert len(expected) < len(LESSONS)


def test_filter_with_no_match(client):
    assert listed(client, "/lessons?region=Atlantis") == []
    assert "No lessons match these filters" in total_shown(client, "/lessons?region=Atlantis")


def test_filter_options_come_from_visible_entries(client):
    main = main_of(client.get("/lessons").data)
    options = {
        select.attrs["name"]: [option.attrs.get("value") for option in select.find_all("option")]
        for select in main.find_all("select")
    }
    assert set(options["region"]) - {""} == {d.region for d in LESSONS if d.region}
    assert set(options["tag"]) - {""} == {tag for d in LESSONS for tag in d.tags}
    assert set(options["year"]) - {""} == {str(d.event_date.year) for d in LESSONS if d.event_date}


def test_chosen_filter_is_selected(client):
    tag = a_narrowing_tag()
    main = main_of(client.get(f"/lessons?tag={tag}").data)
    [chosen] = main.find_all("option", where=lambda e: "selected" in e.attrs and e.parent.attrs.get("name") == "tag")
    assert chosen.attrs["value"] == tag


@pytest.fixture
def with_other_years(seeded_app, tmp_path):
    """Two lessons from other years than the seed content's."""
    folder = tmp_path / "extra" / "lessons"
    folder.mkdir(parents=True)
    body = "\n\n## Driving event\n\nA.\n\n## Lesson\n\nB.\n\n## Recommendation\n\nC.\n\n## Evidence\n\nD.\n"
    for slug, date in (("lesson-from-2011", "2011-06"), ("lesson-from-2015", "2015-02-03")):
        (folder / f"{slug}.md").write_text(
            f"---\nkind: lesson\ntitle: Lesson of {date}\nsummary: From {date}.\nevent_date: {date}\n---{body}"
        )
    report = import_directory(tmp_path / "extra")
    assert not report.problems
    db.session.commit()


def test_year_filter(client, with_other_years):
    assert listed(client, "/lessons?year=2011") == ["/lessons/lesson-from-2011"]
    assert listed(client, "/lessons?year=2015") == ["/lessons/lesson-from-2015"]
    in_2013 = seed.paths([d for d in LESSONS if d.event_date and d.event_date.year == 2013])
    shown = set(listed(client, "/lessons?year=2013"))
    assert shown <= in_2013
    assert "/lessons/lesson-from-2011" not in shown
    assert f"of {len(in_2013)} lessons" in total_shown(client, "/lessons?year=2013")
    assert listed(client, "/lessons?year=1999") == []


def test_sort_by_title(client):
    expected = [seed.path_of(d) for d in sorted(LESSONS, key=lambda d: d.title)]
    assert listed(client, "/lessons?sort=title") == expected[:20]


def test_sort_oldest_and_newest(client, with_other_years):
    oldest = listed(client, "/lessons?sort=oldest")
    newest = listed(client, "/lessons?sort=newest")
    assert oldest[0] == "/lessons/lesson-from-2011"
    assert newest[0] == "/lessons/lesson-from-2015"
    assert listed(client, "/lessons") == newest
    last_page = math.ceil((len(LESSONS) + 2) / 20)
    assert listed(client, f"/lessons?sort=oldest&page={last_page}")[-1] == "/lessons/lesson-from-2015"


def test_newest_first_breaks_ties_by_title(client):
    dated = sorted((d for d in LESSONS if d.event_date), key=lambda d: d.title)
    dated.sort(key=lambda d: d.event_date.first_day, reverse=True)
    undated = sorted((d for d in LESSONS if not d.event_date), key=lambda d: d.title)
    expected = [seed.path_of(d) for d in dated + undated]
    assert listed(client, "/lessons") == expected[:20]


@pytest.mark.parametrize(
    "query",
    [
        "year=",
        "page=0",
        "page=9999",
        "sort=evil",
        "sort=title;drop table entries",
        "tag=%3Cscript%3Ealert(1)%3C/script%3E",
        "tag=no-such-tag",
        "region=%27%20OR%201=1--",
        "region=%E2%9C%93",
        "tag=a&tag=b",
        "unknown=1",
    ],
)
def test_odd_query_values_never_fail(client, query):
    for plural in ("lessons", "reviews", "papers"):
        response = client.get(f"/{plural}?{query}")
        assert response.status_code == 200, (plural, query)
        assert b"<script>alert(1)</script>" not in response.data


@pytest.mark.parametrize(
    "query",
    [
        "year=zz",
        "year=-1",
        "year=2013.5",
        "year=99999999999999999999",
        "year=%C2%B2",
        "page=abc",
        "page=-3",
        "page=1e3",
        "page=1;DROP",
        "page=99999999999999999999",
        "page=%C2%B2",
        "page=%D9%A3",
    ],
)
def test_a_malformed_number_is_refused_not_reinterpreted(client, query):
    for plural in ("lessons", "reviews", "papers"):
        response = client.get(f"/{plural}?{query}")
        assert response.status_code == 400, (plural, query)
        assert "must be a whole number" in page_text(response)


def test_bad_sort_means_newest(client):
    assert listed(client, "/lessons?sort=evil") == listed(client, "/lessons?sort=newest")


def test_page_zero_means_first_page(client):
    assert listed(client, "/lessons?page=0") == listed(client, "/lessons")


@pytest.mark.parametrize("url", ["/themes/{theme}?page=9999", "/tags/{tag}?page=0"])
def test_odd_pages_on_theme_and_tag_pages(client, url):
    response = client.get(url.format(theme=seed.themes()[0].slug, tag=a_narrowing_tag()))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url", ["/themes/{theme}?page=abc", "/tags/{tag}?page=-1", "/tags/{tag}?page=%C2%B2", "/tags/{tag}?page=2%5E63"]
)
def test_malformed_pages_on_theme_and_tag_pages(client, url):
    response = client.get(url.format(theme=seed.themes()[0].slug, tag=a_narrowing_tag()))
    assert response.status_code == 400


# --- Pagination ---------------------------------------------------------------

PER_PAGE = 5


@pytest.fixture
def paged_app(tmp_path, seeded_database) -> Iterator[Flask]:
    folder = tmp_path / "paged"
    folder.mkdir()
    application = make_app(folder, seeded_database, ENTRIES_PER_PAGE=PER_PAGE)
    yield application
    with application.app_context():
        db.engine.dispose()


def page_links(client, url: str) -> dict[str, str]:
    """Links in the page's pagination, by their text, e.g. {"2": "/lessons?page=2", "Next": ...}."""
    nav = main_of(client.get(url).data).find("nav", where=lambda e: "pagination" in e.attrs.get("class", ""))
    if nav is None:
        return {}
    return {link.text().split()[0] if link.text() else "": link.attrs["href"] for link in nav.find_all("a")}


def test_lessons_are_paged(paged_app):
    client = paged_app.test_client()
    pages = math.ceil(len(LESSONS) / PER_PAGE)
    assert pages > 2
    seen: list[str] = []
    for number in range(1, pages + 1):
        on_page = listed(client, f"/lessons?page={number}")
        expected_count = PER_PAGE if number < pages else len(LESSONS) - PER_PAGE * (pages - 1)
        assert len(on_page) == expected_count
        seen.extend(on_page)
    assert len(seen) == len(set(seen)) == len(LESSONS)
    assert set(seen) == seed.paths(LESSONS)


def test_pagination_links(paged_app):
    client = paged_app.test_client()
    links = page_links(client, "/lessons")
    assert links, "a list longer than a page has pagination"
    targets = {parse_qs(urlsplit(href).query).get("page", [""])[0] for href in links.values()}
    assert "2" in targets
    assert str(math.ceil(len(LESSONS) / PER_PAGE)) in targets
    main = main_of(client.get("/lessons").data)
    assert f"Showing 1 to {PER_PAGE} of {len(LESSONS)} lessons" in main.text()


def test_pagination_keeps_the_filters(paged_app):
    client = paged_app.test_client()
    region = "England"
    matching = [d for d in LESSONS if d.region == region]
    assert len(matching) > PER_PAGE
    links = page_links(client, f"/lessons?region={region}&sort=title")
    for href in links.values():
        query = parse_qs(urlsplit(href).query)
        assert query["region"] == [region]
        assert query["sort"] == ["title"]
    collected: list[str] = []
    for number in range(1, math.ceil(len(matching) / PER_PAGE) + 1):
        collected.extend(listed(client, f"/lessons?region={region}&sort=title&page={number}"))
    assert collected == [seed.path_of(d) for d in sorted(matching, key=lambda d: d.title)]


def test_page_past_the_end_shows_the_last_page(paged_app):
    client = paged_app.test_client()
    last = math.ceil(len(LESSONS) / PER_PAGE)
    assert listed(client, "/lessons?page=9999") == listed(client, f"/lessons?page={last}")


def test_short_list_has_no_pagination(paged_app):
    client = paged_app.test_client()
    assert len(seed.of_kind("review")) <= PER_PAGE
    assert page_links(client, "/reviews") == {}


def test_theme_and_tag_pages_are_paged(paged_app):
    client = paged_app.test_client()
    theme = max(seed.themes(), key=lambda t: len(seed.theme_entries(t)))
    entries = seed.theme_entries(theme)
    assert len(entries) > PER_PAGE
    collected: list[str] = []
    for number in range(1, math.ceil(len(entries) / PER_PAGE) + 1):
        on_page = listed(client, f"/themes/{theme.slug}?page={number}")
        assert len(on_page) <= PER_PAGE
        collected.extend(on_page)
    assert sorted(collected) == sorted(seed.paths(entries))
    assert page_links(client, f"/themes/{theme.slug}")


@pytest.mark.parametrize("extra", ["plural=papers", "_anchor=evil", "_external=1", "endpoint=x", "page=2&values=1"])
def test_unknown_arguments_are_not_carried_into_page_links(seeded_database, tmp_path, extra):
    small = make_app(tmp_path, seeded_database, ENTRIES_PER_PAGE=5).test_client()
    response = small.get(f"/lessons?region=England&{extra}")
    assert response.status_code == 200
    html = response.get_data(as_text=True).split("<main", 1)[1]
    assert "page=2" in html or "page=1" in html
    assert "evil" not in html
    assert "http://localhost" not in html
    assert "plural=" not in html


def test_related_and_similar_lists_leave_merged_duplicates_out_even_for_staff(seeded_app: Flask) -> None:
    """The seed's replaced slugs live on as merged entries whose address leads on; no entry lists them as related."""
    replaced = sorted(slug for document in seed.all_documents().values() for slug in document.replaces)
    assert replaced, "the seed content replaces some slugs"
    with seeded_app.app_context():
        cast = make_cast()
        moderator = client_for(seeded_app, cast.moderator)
        pages = [f"/{document.kind}s/{slug}" for slug, document in seed.all_documents().items()]
        for url in pages:
            response = moderator.get(url)
            assert response.status_code == 200, url
            html = response.get_data(as_text=True)
            shown = [slug for slug in replaced if f'href="/lessons/{slug}"' in html]
            assert shown == [], f"{url} lists merged duplicates {shown}"
