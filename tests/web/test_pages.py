"""Every page of the seeded site: it answers, and shows what the content holds."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from kb.entries.related import MUTUAL_SEE_ALSO
from kb.entries.vocabulary import (
    ACTION_STATUSES,
    BACKLINK_RELATIONS,
    KIND_LIST_TITLES,
    LESSON_SECTIONS,
    MATURITIES,
    PAPER_TYPES,
    REVIEW_STATUSES,
)
from kb.markdown import render
from tests.conftest import import_files
from tests.web import seed
from tests.web.dom import ENTRY_PATH, block_after_heading, heading, main_of, parse

LESSON = seed.a_lesson_with_a_source_paper()
SOURCE_PAPER = seed.documents()[LESSON.source]


def get_ok(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "text/html"
    return response


def import_extra(tmp_path: Path, files: dict[str, str]) -> None:
    """Import extra content files into the seeded app's database."""
    import_files(tmp_path / "extra", files)


# --- The site's frame ---------------------------------------------------------

EVERY_KIND_OF_PAGE = [
    "/",
    "/lessons",
    "/reviews",
    "/papers",
    "/themes",
    "/tags",
    f"/themes/{seed.themes()[0].slug}",
    f"/tags/{LESSON.tags[0]}",
    seed.path_of(LESSON),
    seed.path_of(SOURCE_PAPER),
    seed.path_of(seed.of_kind("review")[0]),
    f"{seed.path_of(LESSON)}/history",
    f"{seed.path_of(LESSON)}/history/1",
    f"{seed.path_of(LESSON)}/compare?from=1&to=1",
]


@pytest.mark.parametrize("url", EVERY_KIND_OF_PAGE)
def test_page_has_the_site_frame(client, url):
    response = get_ok(client, url)
    page = parse(response.data)
    header = page.one("header")
    assert header.find("a", cls="nhsuk-header__service-name").text().startswith("kb")
    assert page.one("main").find("h1") is not None
    title = page.one("title").text()
    assert title.endswith("kb")
    assert len(title) > len(" – kb")


@pytest.mark.parametrize("url", EVERY_KIND_OF_PAGE)
def test_print_stylesheet_is_linked(client, url):
    page = parse(get_ok(client, url).data)
    print_links = page.find_all("link", where=lambda e: e.attrs.get("media") == "print")
    assert len(print_links) == 1
    assert print_links[0].attrs["rel"] == "stylesheet"
    assert re.search(r"/static/build/print\.[0-9a-f]{10}\.css$", print_links[0].attrs["href"])
    stylesheet = client.get(print_links[0].attrs["href"])
    assert stylesheet.status_code == 200
    assert b"display: none" in stylesheet.data


@pytest.mark.parametrize("url", EVERY_KIND_OF_PAGE)
def test_no_nhs_logo(client, url):
    html = get_ok(client, url).get_data(as_text=True)
    assert "nhsuk-header__logo" not in html
    assert "nhsuk-logo" not in html
    pictures = parse(html).one("header").find_all("svg")
    assert [svg.attrs.get("class") for svg in pictures] == ["nhsuk-icon nhsuk-icon--search"]


@pytest.mark.parametrize("url", EVERY_KIND_OF_PAGE)
def test_ids_are_unique_and_in_page_links_resolve(client, url):
    page = parse(get_ok(client, url).data)
    ids = [element.attrs["id"] for element in page.elements() if "id" in element.attrs]
    duplicates = [value for value, count in Counter(ids).items() if count > 1]
    assert duplicates == []
    for href in page.hrefs():
        if href.startswith("#"):
            assert href[1:] in ids, f"{href} on {url} points at nothing"


def test_every_seed_entry_page_answers_with_its_title(client):
    for document in seed.documents().values():
        page = main_of(get_ok(client, seed.path_of(document)).data)
        assert page.one("h1").text() == document.title
        assert document.summary in page.text()


def test_every_seed_entry_page_has_unique_ids(client):
    for document in seed.documents().values():
        page = parse(get_ok(client, seed.path_of(document)).data)
        ids = [element.attrs["id"] for element in page.elements() if "id" in element.attrs]
        assert len(ids) == len(set(ids)), seed.path_of(document)
        for href in page.hrefs():
            if href.startswith("#"):
                assert href[1:] in ids, (seed.path_of(document), href)


# --- Home and lists -----------------------------------------------------------


def test_home(client):
    main = main_of(get_ok(client, "/").data)
    text = main.text()
    for kind, title in KIND_LIST_TITLES.items():
        count = len(seed.of_kind(kind))
        assert re.search(rf"\b{count} {title.lower()}\b", text), (count, title)
    for theme in seed.themes():
        assert theme.label in text
    hrefs = main.hrefs()
    assert "/lessons" in hrefs
    assert f"/themes/{seed.themes()[0].slug}" in hrefs
    assert main.entry_paths(), "the home page lists some entries"


def test_home_shows_theme_counts(client):
    main = main_of(get_ok(client, "/").data)
    for theme in seed.themes():
        [link] = main.find_all("a", where=lambda e, t=theme: e.attrs.get("href") == f"/themes/{t.slug}")
        item = link.ancestor("li")
        assert f"({len(seed.theme_entries(theme))}" in item.text()


def test_home_lists_open_reviews(client):
    main = main_of(get_ok(client, "/").data)
    block = block_after_heading(main, "Reviews under way")
    open_reviews = [d for d in seed.of_kind("review") if d.review_status != "published"]
    assert set(block.entry_paths()) == seed.paths(open_reviews)


@pytest.mark.parametrize("kind", ["lesson", "review", "paper"])
def test_list_page_shows_every_entry_of_its_kind(client, kind):
    documents = seed.of_kind(kind)
    plural = f"/{kind}s"
    main = main_of(get_ok(client, plural).data)
    assert main.one("h1").text() == KIND_LIST_TITLES[kind]
    listed = main.entry_paths()
    assert len(documents) <= 20 or len(listed) == 20
    assert set(listed) <= seed.paths(documents)
    if len(documents) <= 20:
        assert set(listed) == seed.paths(documents)
    assert f"of {len(documents)} " in main.text()
    for document in documents:
        if seed.path_of(document) in listed:
            assert document.summary in main.text()


def test_list_items_show_kind_date_region_and_tags(client):
    main = main_of(get_ok(client, "/lessons?sort=title").data)
    [link] = main.find_all("a", where=lambda e: e.attrs.get("href") == seed.path_of(LESSON))
    item = link.ancestor("li")
    assert LESSON.event_date.display() in item.text()
    assert LESSON.region in item.text()
    assert "Lesson" in item.text()
    assert {f"/tags/{tag}" for tag in LESSON.tags} <= set(item.hrefs())


def test_themes_page(client):
    main = main_of(get_ok(client, "/themes").data)
    for theme in seed.themes():
        link = main.find("a", where=lambda e, t=theme: e.attrs.get("href") == f"/themes/{t.slug}")
        assert link is not None
        assert link.text() == theme.label
        assert theme.description in main.text()


def test_theme_page(client):
    theme = max(seed.themes(), key=lambda t: len(seed.theme_entries(t)))
    main = main_of(get_ok(client, f"/themes/{theme.slug}").data)
    assert theme.label in main.one("h1").text()
    assert theme.description in main.text()
    expected = seed.theme_entries(theme)
    listed = main.entry_paths()
    if len(expected) <= 20:
        assert set(listed) == seed.paths(expected)
    for tag in theme.tags:
        users = seed.with_tag(tag.slug)
        if users:
            assert f"/tags/{tag.slug}" in main.hrefs()
            assert f"{tag.label} ({len(users)})" in main.text()


def test_tags_page_lists_tags_in_use_with_counts(client):
    main = main_of(get_ok(client, "/tags").data)
    counts = Counter(tag for document in seed.documents().values() for tag in document.tags)
    hrefs = main.hrefs()
    for tag, number in counts.items():
        assert f"/tags/{tag}" in hrefs
        [link] = main.find_all("a", where=lambda e, t=tag: e.attrs.get("href") == f"/tags/{t}")
        assert f"({number}" in link.ancestor("li").text()


def test_tag_page(client):
    tag = LESSON.tags[0]
    main = main_of(get_ok(client, f"/tags/{tag}").data)
    expected = seed.with_tag(tag)
    label = next(t.label for theme in seed.themes() for t in theme.tags if t.slug == tag)
    assert label in main.one("h1").text()
    assert set(main.entry_paths()) == seed.paths(expected)
    assert f"{len(expected)} entr" in main.text()


# --- Entry pages --------------------------------------------------------------


def test_lesson_page_sections_in_order(client):
    main = main_of(get_ok(client, seed.path_of(LESSON)).data)
    headings = [element.text() for element in main.find_all("h2")]
    labels = list(LESSON_SECTIONS.values())
    assert labels == ["Driving event", "Lesson", "Recommendation", "Evidence"]
    positions = [headings.index(label) for label in labels]
    assert positions == sorted(positions)
    for key, label in LESSON_SECTIONS.items():
        block = block_after_heading(main, label)
        expected = parse(render(LESSON.sections[key], seed.resolver()).html)
        assert expected.text() in block.text(), label


def test_lesson_page_shows_maturity_action_and_tags(client):
    main = main_of(get_ok(client, seed.path_of(LESSON)).data)
    details = block_after_heading(main, "Details").ancestor("aside") or main
    text = main.text()
    assert MATURITIES[LESSON.maturity] in text
    current = main.find_all(where=lambda e: e.attrs.get("aria-current") == "step")
    assert [element.text() for element in current] == [MATURITIES[LESSON.maturity]]
    assert ACTION_STATUSES[LESSON.action_status] in details.text()
    tag_links = {href for href in main.hrefs() if href.startswith("/tags/")}
    assert tag_links == {f"/tags/{tag}" for tag in LESSON.tags}


def test_lesson_page_shows_action_owner_due_date_and_note(seeded_app, client, tmp_path):
    lesson = (
        "---\nkind: lesson\nslug: acted-on\ntitle: Acted on\nsummary: Has an action.\n"
        "maturity: learned\naction_status: not-accepted\naction_owner: The Programme Board\n"
        "action_due: 2014-01-31\naction_note: Rejected for lack of funds.\n---\n\n"
        "## Driving event\n\nA.\n\n## Lesson\n\nB.\n\n## Recommendation\n\nC.\n\n## Evidence\n\nD.\n"
    )
    import_extra(tmp_path, {"lessons/acted-on.md": lesson})
    main = main_of(get_ok(client, "/lessons/acted-on").data)
    details = main.one("aside").text()
    assert ACTION_STATUSES["not-accepted"] in details
    assert "The Programme Board" in details
    assert "31 January 2014" in details
    assert "Rejected for lack of funds." in details
    current = main.find_all(where=lambda e: e.attrs.get("aria-current") == "step")
    assert [element.text() for element in current] == [MATURITIES["learned"]]


def test_lesson_page_came_from_the_source_paper(client):
    main = main_of(get_ok(client, seed.path_of(LESSON)).data)
    links = block_after_heading(main, "Links from this lesson")
    assert links.entry_paths()[0] == seed.path_of(SOURCE_PAPER)
    [item] = [li for li in links.find_all("li") if SOURCE_PAPER.title in li.text()]
    assert "this lesson was drawn from it" in item.text()


def test_lesson_page_see_also(client):
    lesson = next(d for d in seed.of_kind("lesson") if d.see_also)
    main = main_of(get_ok(client, seed.path_of(lesson)).data)
    links = block_after_heading(main, "Links from this lesson")
    see_also = re.compile(r"under this lesson's see also|each lists the other")
    listed = [li for li in links.find_all("li") if see_also.search(li.text())]
    assert [li.entry_paths()[0] for li in listed] == [seed.path_of(seed.documents()[slug]) for slug in lesson.see_also]


def linking_items(main) -> dict[str, str]:
    """The related entries that link to the page's entry, as path to the words saying how."""
    related = main.one("section", cls="kb-related")
    incoming = (*BACKLINK_RELATIONS.values(), MUTUAL_SEE_ALSO)
    return {
        item.entry_paths()[0]: item.text()
        for item in related.find_all("li")
        if item.entry_paths() and any(label in item.text() for label in incoming)
    }


def test_paper_page_lists_the_lesson_that_draws_on_it(client):
    main = main_of(get_ok(client, seed.path_of(SOURCE_PAPER)).data)
    linking = linking_items(main)
    assert LESSON.title in linking[seed.path_of(LESSON)]
    assert BACKLINK_RELATIONS["source"] in linking[seed.path_of(LESSON)]
    # Every entry that names the paper as its source is listed.
    from_source = [d for d in seed.documents().values() if d.source == SOURCE_PAPER.slug]
    assert seed.paths(from_source) <= set(linking)


def test_backlinks_list_every_linking_entry(client):
    target = SOURCE_PAPER
    linking = {
        seed.path_of(d)
        for d in seed.documents().values()
        if d.slug != target.slug
        and (
            d.source == target.slug
            or target.slug in d.see_also
            or any(f"[[{target.slug}]]" in text or f"[[{target.slug}|" in text for text in d.markdown_texts().values())
        )
    }
    main = main_of(get_ok(client, seed.path_of(target)).data)
    assert set(linking_items(main)) == linking


def test_an_entry_page_lists_each_related_entry_once_saying_why(client):
    for document in seed.documents().values():
        main = main_of(get_ok(client, seed.path_of(document)).data)
        related = main.find("section", cls="kb-related")
        if related is None:
            continue
        listed = [href for href in related.hrefs() if ENTRY_PATH.match(href)]
        assert len(listed) == len(set(listed)), document.slug
        assert seed.path_of(document) not in listed, document.slug
        headings = [heading.text() for heading in related.find_all("h2")]
        assert headings == ["Related entries"], document.slug


def test_paper_page_details(client):
    paper = SOURCE_PAPER
    main = main_of(get_ok(client, seed.path_of(paper)).data)
    text = main.text()
    assert PAPER_TYPES[paper.paper_type] in text
    if paper.meeting:
        assert paper.meeting in text
    if paper.event_date:
        assert paper.event_date.display() in text
    for source in paper.sources:
        assert source.title in text


def test_paper_body_renders_its_links(client):
    paper = next(d for d in seed.of_kind("paper") if "[[" in d.body)
    main = main_of(get_ok(client, seed.path_of(paper)).data)
    links = main.find_all("a", cls="kb-entry-link")
    assert links
    for link in links:
        assert client.get(link.attrs["href"]).status_code == 200
    assert "[[" not in main.text()
    assert main.find(cls="kb-missing-link") is None


def test_review_page(client):
    review = seed.of_kind("review")[0]
    main = main_of(get_ok(client, seed.path_of(review)).data)
    text = main.text()
    assert main.one("h1").text() == review.title
    assert REVIEW_STATUSES[review.review_status] in text
    assert review.commissioning_body in text
    if review.terms_of_reference:
        terms = block_after_heading(main, "Terms of reference")
        assert " ".join(review.terms_of_reference.split()[:6]) in terms.text()
    about = block_after_heading(main, "About this review")
    assert about.find("p") is not None


# --- History ------------------------------------------------------------------


def test_history_page(client):
    main = main_of(get_ok(client, f"{seed.path_of(LESSON)}/history").data)
    assert LESSON.title in main.one("h1").text()
    text = main.text()
    assert "content import" in text
    assert f"{seed.path_of(LESSON)}/history/1" in main.hrefs()


def test_revision_page(client):
    main = main_of(get_ok(client, f"{seed.path_of(LESSON)}/history/1").data)
    assert "Revision 1" in main.one("h1").text()
    assert LESSON.title in main.one("h1").text()
    assert f"slug: {LESSON.slug}" in main.text()
    for label in LESSON_SECTIONS.values():
        heading(main, label)


def test_compare_a_revision_with_itself(client):
    main = main_of(get_ok(client, f"{seed.path_of(LESSON)}/compare?from=1&to=1").data)
    assert "Revision 1 to revision 1" in main.one("h1").text()
    assert "same" in main.text()
    assert main.find("del") is None
    assert main.find("ins") is None


def test_compare_without_numbers_goes_to_history(client):
    response = client.get(f"{seed.path_of(LESSON)}/compare")
    assert response.status_code in (301, 302, 303)
    assert response.headers["Location"].endswith(f"{seed.path_of(LESSON)}/history")


@pytest.fixture
def edited_lesson(seeded_app, tmp_path):
    """The lesson, changed by importing an edited copy of its file: revision 2."""
    text = seed.content_file(LESSON).read_text(encoding="utf-8")
    old_words = LESSON.sections["lesson"].split()[:4]
    edited = text.replace(" ".join(old_words), " ".join(["Entirely", "rewritten", *old_words[2:]]), 1)
    assert edited != text
    import_extra(tmp_path, {f"lessons/{LESSON.slug}.md": edited})
    return old_words


def test_compare_two_different_revisions(client, edited_lesson):
    main = main_of(get_ok(client, f"{seed.path_of(LESSON)}/compare?from=1&to=2").data)
    assert "Revision 1 to revision 2" in main.one("h1").text()
    table = main.one("table")
    deleted = " ".join(element.text() for element in table.find_all("del"))
    inserted = " ".join(element.text() for element in table.find_all("ins"))
    assert edited_lesson[0] in deleted
    assert "Entirely" in inserted
    assert "rewritten" in inserted
    # Only the changed words are marked, not the whole line.
    assert edited_lesson[2] not in inserted
    assert "1 line removed and 1 line added" in main.text()


def test_compare_in_either_order(client, edited_lesson):
    forward = client.get(f"{seed.path_of(LESSON)}/compare?from=1&to=2")
    backward = client.get(f"{seed.path_of(LESSON)}/compare?from=2&to=1")
    assert backward.status_code == 200
    assert main_of(backward.data).one("table").text() == main_of(forward.data).one("table").text()


def test_history_after_an_edit(client, edited_lesson):
    main = main_of(get_ok(client, f"{seed.path_of(LESSON)}/history").data)
    hrefs = main.hrefs()
    assert f"{seed.path_of(LESSON)}/history/2" in hrefs
    assert f"{seed.path_of(LESSON)}/history/1" in hrefs
    assert "Updated from" in main.text()
    assert hrefs.index(f"{seed.path_of(LESSON)}/history/2") < hrefs.index(f"{seed.path_of(LESSON)}/history/1")


def test_old_revision_page_points_to_the_current_one(client, edited_lesson):
    main = main_of(get_ok(client, f"{seed.path_of(LESSON)}/history/1").data)
    assert "earlier version" in main.text()
    assert f"{seed.path_of(LESSON)}/compare?from=1&to=2" in main.hrefs()
    assert " ".join(edited_lesson) in main.text()


def test_entry_page_shows_the_latest_revision(client, edited_lesson):
    main = main_of(get_ok(client, seed.path_of(LESSON)).data)
    lesson_block = block_after_heading(main, "Lesson")
    assert lesson_block.text().startswith("Lesson Entirely rewritten")
    assert " ".join(edited_lesson) not in lesson_block.text()
    assert "(2 revisions)" in main.text()


# --- Rendering that the pages rely on --------------------------------------------


def test_footnotes_in_two_lesson_sections_do_not_share_ids(seeded_app, client, tmp_path):
    lesson = (
        "---\nkind: lesson\nslug: footnoted-lesson\ntitle: Footnoted lesson\nsummary: Has notes.\n---\n\n"
        "## Driving event\n\nIt happened.[^1]\n\n[^1]: First source.\n\n"
        "## Lesson\n\nLearned.\n\n## Recommendation\n\nDo.\n\n"
        "## Evidence\n\nShown.[^1]\n\n[^1]: Second source.\n"
    )
    import_extra(tmp_path, {"lessons/footnoted-lesson.md": lesson})
    page = parse(get_ok(client, "/lessons/footnoted-lesson").data)
    ids = [element.attrs["id"] for element in page.elements() if "id" in element.attrs]
    assert [value for value, count in Counter(ids).items() if count > 1] == []


def test_contents_list_shows_heading_text_once_escaped(seeded_app, client, tmp_path):
    words = " ".join(["word"] * 120)
    body = f"## Cost & quality\n\n{words}\n\n## Who met\n\n{words}\n\n## What came of it\n\n{words}\n"
    paper = (
        "---\nkind: paper\nslug: long-paper\ntitle: A long paper\nsummary: Long.\npaper_type: report\n---\n\n" + body
    )
    import_extra(tmp_path, {"papers/long-paper.md": paper})
    html = get_ok(client, "/papers/long-paper").get_data(as_text=True)
    assert "&amp;amp;" not in html
    nav = main_of(html).find("nav")
    assert nav is not None, "a long paper with three headings has a contents list"
    assert [link.text() for link in nav.find_all("a")] == ["Cost & quality", "Who met", "What came of it"]
    assert heading(main_of(html), "Cost & quality").attrs["id"] == nav.find("a").attrs["href"][1:]


def test_backlink_relations_are_listed_strongest_first(client):
    html = client.get("/papers/nhs-england-board-meeting-may-2013").get_data(as_text=True)
    assert "(lesson: drawn from this; mentions this in its text)" in html
    assert "mentions this in its text; drawn from this" not in html
