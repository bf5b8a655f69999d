"""Atom feeds: every one parses, holds exactly what its reader may see, and refuses a token that does not work.

One app for the module holds the seed content plus entries of every visibility under a
review of their own (a public review with a public and a panel paper, a published and a
draft finding, a consultation on each paper), a panel-only review, a members-only lesson
with a free tag of its own, a lesson whose visibility is `draft` and one not yet
published. A member, a panel member and a moderator each hold a personal feed token.
What each reader should find is worked out from the visibility rule (`can_view_entry`,
`can_view_finding`, `can_view_consultation`) over every row, so a feed that skips the
rule for any item fails.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kb.access.service import issue_token, revoke_token
from kb.consultations.models import Consultation
from kb.dates import utcnow
from kb.entries.models import Entry
from kb.extensions import db
from kb.feeds.builder import FeedItem, atom
from kb.panels.models import Finding
from kb.permissions import ANONYMOUS, Viewer, can_view_consultation, can_view_entry, can_view_finding, viewer_for
from kb.states import EntryStatus, FindingStatus, TokenKind
from kb.taxonomy.curation import rename_tag
from kb.taxonomy.models import Tag
from kb.users.models import User
from tests.accounts import login_as, make_user
from tests.conftest import import_files, make_app
from tests.factories import entry
from tests.outcome_factory import make_consultation, make_finding
from tests.web import seed
from tests.web.dom import parse

SITE = "https://kb.example.org"
TAG = seed.a_lesson_with_a_source_paper().tags[0]
THEME = next(theme for theme in seed.themes() if TAG in {tag.slug for tag in theme.tags})
BODY = "\n\n## Driving event\n\nA.\n\n## Lesson\n\nB.\n\n## Recommendation\n\nC.\n\n## Evidence\n\nD.\n"


def lesson(slug: str, title: str, extra: str, tags: tuple[str, ...] = (TAG,)) -> str:
    tag_lines = "".join(f"  - {tag}\n" for tag in tags)
    return (
        f"---\nkind: lesson\nslug: {slug}\ntitle: {title}\nsummary: About {title}.\n{extra}tags:\n{tag_lines}---{BODY}"
    )


CONTENT = {
    "lessons/feed-public.md": lesson("feed-public", "Feed public lesson", "", (TAG, "feed-open-tag")),
    "lessons/feed-members.md": lesson(
        "feed-members", "Feed members lesson", "visibility: members\n", (TAG, "feed-members-tag")
    ),
    "lessons/feed-draft-visibility.md": lesson(
        "feed-draft-visibility", "Feed draft visibility lesson", "visibility: draft\n"
    ),
    "lessons/feed-unpublished.md": lesson("feed-unpublished", "Feed unpublished lesson", "status: draft\n"),
    "reviews/feed-review.md": (
        "---\nkind: review\nslug: feed-review\ntitle: Feed review\nsummary: A public review.\n"
        f"commissioning_body: Board\nreview_status: in-progress\ntags:\n  - {TAG}\n---\n\nText.\n"
    ),
    "reviews/feed-panel-review.md": (
        "---\nkind: review\nslug: feed-panel-review\ntitle: Feed panel review\nsummary: For the panel.\n"
        "visibility: panel\ncommissioning_body: Board\nreview_status: in-progress\n---\n\nText.\n"
    ),
    "papers/feed-paper.md": (
        "---\nkind: paper\nslug: feed-paper\ntitle: Feed public paper\nsummary: Minutes.\nreview: feed-review\n"
        "paper_type: minutes\n---\n\nThe minutes.\n"
    ),
    "papers/feed-panel-paper.md": (
        "---\nkind: paper\nslug: feed-panel-paper\ntitle: Feed panel paper\nsummary: Briefing.\nreview: feed-review\n"
        "visibility: panel\npaper_type: briefing\n---\n\nFor the panel.\n"
    ),
}
HIDDEN_FROM_ANYONE = {
    "Feed members lesson",
    "Feed draft visibility lesson",
    "Feed unpublished lesson",
    "Feed panel paper",
}


@dataclass
class World:
    """The module's app, a token per reader, and the clients."""

    app: Flask
    tokens: dict[str, str]
    users: dict[str, User]

    def client(self) -> FlaskClient:
        return self.app.test_client()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("feeds")
    app = make_app(folder, seeded_database, SITE_URL=SITE)
    with app.app_context(), app.test_request_context():
        import_files(folder / "content", CONTENT)
        review = entry("feed-review")
        users = {
            "member": make_user("feed-member@example.org"),
            "panel": make_user("feed-panel@example.org", panels=(review,)),
            "moderator": make_user("feed-moderator@example.org", role="moderator"),
        }
        make_finding(review, number=1, status=FindingStatus.PUBLISHED, title="Feed published finding")
        make_finding(review, number=2, status=FindingStatus.DRAFT, title="Feed draft finding")
        make_consultation(entry("feed-paper"), closed=False, title="Feed consultation on the public paper")
        make_consultation(entry("feed-panel-paper"), closed=False, title="Feed consultation on the panel paper")
        tokens = {}
        for role, user in users.items():
            _, tokens[role] = issue_token(user, kind=TokenKind.FEED, name="Reader")
        db.session.commit()
        yield World(app, tokens, users)
        db.session.remove()
        db.engine.dispose()


def with_token(path: str, token: str | None) -> str:
    """`path` with `token` added to its query string (none when `token` is None)."""
    if token is None:
        return path
    return f"{path}{'&' if '?' in path else '?'}{urlencode({'token': token})}"


def read(client: FlaskClient, path: str, token: str | None = None) -> feedparser.FeedParserDict:
    """The feed at `path` (as the token's owner when given), checked to be well-formed Atom."""
    response = client.get(with_token(path, token))
    assert response.status_code == 200, (path, response.status_code)
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert feed.bozo == 0, (path, feed.get("bozo_exception"))
    assert feed.version == "atom10"
    return feed


def titles(feed: feedparser.FeedParserDict) -> set[str]:
    return {item.title for item in feed.entries}


def viewer_of(world: World, role: str | None) -> Viewer:
    return viewer_for(db.session.get(User, world.users[role].id)) if role else ANONYMOUS


def expected_entries(viewer: Viewer, **where: object) -> set[str]:
    """The titles of the published entries `viewer` may see, by the rule over every entry."""
    rows = db.session.scalars(select(Entry).filter_by(status=EntryStatus.PUBLISHED, **where))
    return {row.title for row in rows if can_view_entry(viewer, row)}


FEEDS = ["/feeds/all.atom", "/feeds/lessons.atom", "/feeds/reviews.atom", "/feeds/papers.atom"]
ROLES = [None, "member", "panel", "moderator"]


@pytest.mark.parametrize("role", ROLES)
def test_each_feed_holds_exactly_the_published_entries_its_reader_may_see(world: World, role: str | None) -> None:
    client = world.client()
    viewer = viewer_of(world, role)
    token = world.tokens[role] if role else None
    assert titles(read(client, "/feeds/all.atom", token)) == expected_entries(viewer)
    for kind in ("lesson", "review", "paper"):
        assert titles(read(client, f"/feeds/{kind}s.atom", token)) == expected_entries(viewer, kind=kind)
    theme = titles(read(client, f"/feeds/themes/{THEME.slug}.atom", token))
    theme_tags = {tag.slug for tag in THEME.tags}
    in_theme = db.session.scalars(select(Entry).where(Entry.status == EntryStatus.PUBLISHED))
    assert theme == {e.title for e in in_theme if can_view_entry(viewer, e) and {t.slug for t in e.tags} & theme_tags}
    tagged = db.session.scalars(select(Entry).where(Entry.status == EntryStatus.PUBLISHED))
    wanted = {e.title for e in tagged if can_view_entry(viewer, e) and TAG in {t.slug for t in e.tags}}
    assert titles(read(client, f"/feeds/tags/{TAG}.atom", token)) == wanted


def test_a_feed_without_a_token_holds_public_content_only_even_for_a_signed_in_browser(world: World) -> None:
    browser = login_as(world.client(), world.users["moderator"])
    for path in FEEDS:
        shown = titles(read(browser, path))
        assert not shown & HIDDEN_FROM_ANYONE
    assert "Feed public lesson" in titles(read(browser, "/feeds/all.atom"))


def test_review_feed_holds_its_papers_published_findings_and_consultations_as_the_rule_allows(world: World) -> None:
    client = world.client()
    review = entry("feed-review")
    findings = db.session.scalars(select(Finding).where(Finding.review_id == review.id)).all()
    consultations = db.session.scalars(select(Consultation)).all()
    for role in ROLES:
        viewer = viewer_of(world, role)
        feed = read(client, "/feeds/reviews/feed-review.atom", world.tokens[role] if role else None)
        wanted = expected_entries(viewer, kind="paper", review_id=review.id)
        wanted |= {
            f"Finding {f.number}: {f.title}"
            for f in findings
            if f.status == FindingStatus.PUBLISHED and can_view_finding(viewer, f)
        }
        wanted |= {
            f"Consultation: {c.title}"
            for c in consultations
            if c.entry.review_id == review.id and can_view_consultation(viewer, c)
        }
        assert titles(feed) == wanted, role
    anyone = titles(read(client, "/feeds/reviews/feed-review.atom"))
    assert anyone == {
        "Feed public paper",
        "Finding 1: Feed published finding",
        "Consultation: Feed consultation on the public paper",
    }
    panel = titles(read(client, "/feeds/reviews/feed-review.atom", world.tokens["panel"]))
    assert {"Feed panel paper", "Consultation: Feed consultation on the panel paper"} <= panel
    assert "Finding 2: Feed draft finding" not in panel


def test_items_are_newest_first_with_stable_ids_absolute_links_and_plain_summaries(world: World) -> None:
    client = world.client()
    first = read(client, "/feeds/all.atom")
    again = read(client, "/feeds/all.atom")
    assert [item.id for item in first.entries] == [item.id for item in again.entries]
    assert all(item.id.startswith("tag:kb.example.org,2024:kb/") for item in first.entries)
    assert len({item.id for item in first.entries}) == len(first.entries)
    assert all(item.link.startswith(f"{SITE}/") for item in first.entries)
    updated = [item.updated_parsed for item in first.entries]
    assert updated == sorted(updated, reverse=True)
    lesson_item = next(item for item in first.entries if item.title == "Feed public lesson")
    assert lesson_item.link == f"{SITE}/lessons/feed-public"
    assert lesson_item.summary == "About Feed public lesson."
    assert first.feed.links[0].href.startswith(SITE)


def test_unknown_and_hidden_subjects_answer_404(world: World) -> None:
    client = world.client()
    for path in (
        "/feeds/themes/no-such-theme.atom",
        "/feeds/tags/no-such-tag.atom",
        "/feeds/reviews/no-such-review.atom",
        "/feeds/reviews/feed-panel-review.atom",
        "/feeds/reviews/feed-public.atom",
        "/feeds/tags/feed-members-tag.atom",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_data(as_text=True) == "There is no such feed.\n"
    member = world.tokens["member"]
    assert client.get(with_token("/feeds/reviews/feed-panel-review.atom", member)).status_code == 404
    assert "Feed members lesson" in titles(read(client, "/feeds/tags/feed-members-tag.atom", member))
    panel = world.tokens["panel"]
    assert client.get(with_token("/feeds/reviews/feed-panel-review.atom", panel)).status_code == 404
    assert read(client, "/feeds/reviews/feed-panel-review.atom", world.tokens["moderator"]).feed.title


def refused(response) -> None:
    assert response.status_code == 403
    assert response.mimetype == "text/plain"
    assert b"<feed" not in response.data
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_token_that_does_not_work_is_refused_without_content_and_never_falls_back(world: World) -> None:
    client = world.client()
    owner = db.session.get(User, world.users["member"].id)
    revoked_row, revoked = issue_token(owner, kind=TokenKind.FEED, name="Old reader")
    expired_row, expired = issue_token(owner, kind=TokenKind.FEED, name="Short reader", expires_in_days=1)
    _, api_token = issue_token(owner, kind=TokenKind.API, name="Script")
    revoke_token(owner, revoked_row)
    expired_row.expires_at = utcnow() - dt.timedelta(minutes=1)
    db.session.commit()
    for token in (revoked, expired, api_token, "kb_wrong", "", world.tokens["member"] + "x"):
        for path in (*FEEDS, "/feeds/reviews/no-such-review.atom", "/feeds/search.atom?q=lesson"):
            refused(client.get(with_token(path, token)))


def test_a_deactivated_owners_token_is_refused(world: World) -> None:
    former = make_user("feed-former@example.org")
    _, token = issue_token(former, kind=TokenKind.FEED, name="Reader")
    db.session.commit()
    client = world.client()
    assert read(client, "/feeds/all.atom", token)
    former.active = False
    db.session.commit()
    refused(client.get(with_token("/feeds/all.atom", token)))


def test_a_token_feed_is_private_sets_no_cookie_and_signs_nobody_in(world: World) -> None:
    client = world.client()
    response = client.get(with_token("/feeds/all.atom", world.tokens["member"]))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response.headers
    assert client.get("/account").status_code == 302
    public = client.get("/feeds/all.atom")
    assert public.headers["Cache-Control"] == "public, max-age=300"
    assert "Set-Cookie" not in public.headers
    browser = login_as(world.client(), world.users["member"])
    assert "Set-Cookie" not in browser.get("/feeds/all.atom").headers


def test_a_browser_whose_session_ran_out_still_reads_its_feed_address(world: World) -> None:
    browser = login_as(world.client(), world.users["member"])
    with browser.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 24 * 3600
    response = browser.get(with_token("/feeds/all.atom", world.tokens["member"]))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert browser.get("/sitemap.xml").status_code == 200


@pytest.mark.parametrize(
    "query", ["q=lesson&kind=lesson", f"tag={TAG}", "q=deadline&sort=newest", f"q=readiness&theme={THEME.slug}"]
)
def test_the_search_feed_holds_the_search_pages_results(world: World, query: str) -> None:
    client = world.client()
    feed = read(client, f"/feeds/search.atom?{query}")
    page = client.get(f"/search?{query}")
    assert page.status_code == 200
    titles_shown = parse(page.get_data(as_text=True)).find_all("h2", cls="kb-result__title")
    shown = {urlsplit(title.one("a").attrs["href"]).path for title in titles_shown}
    assert shown, query
    found = {urlsplit(item.link).path for item in feed.entries}
    assert shown <= found
    assert not titles(feed) & HIDDEN_FROM_ANYONE
    member = read(client, f"/feeds/search.atom?{query}", world.tokens["member"])
    assert titles(feed) <= titles(member)


@pytest.mark.parametrize("query", ['q="unbalanced', "q=(((", "q=tag:", "sort=bogus&kind=%3Cx%3E", "year=abc&exact=2"])
def test_a_malformed_search_feed_query_still_answers_a_feed(world: World, query: str) -> None:
    read(world.client(), f"/feeds/search.atom?{query}")


def test_a_malformed_number_is_refused_as_the_search_page_refuses_it(world: World) -> None:
    client = world.client()
    for query in ("page=-1", "page=1e3", "page=abc"):
        feed, page = client.get(f"/feeds/search.atom?{query}"), client.get(f"/search?{query}")
        assert feed.status_code == page.status_code == 400


def feed_links(html: str) -> list[str]:
    head = parse(html).one("head")
    links = head.find_all("link", where=lambda link: link.attrs.get("type") == "application/atom+xml")
    assert all(link.attrs.get("rel") == "alternate" and link.attrs.get("title") for link in links)
    return [link.attrs["href"] for link in links]


def test_pages_name_their_feeds_for_feed_readers(world: World) -> None:
    client = world.client()
    pages = {
        "/": "/feeds/all.atom",
        "/lessons": "/feeds/lessons.atom",
        "/papers": "/feeds/papers.atom",
        f"/themes/{THEME.slug}": f"/feeds/themes/{THEME.slug}.atom",
        f"/tags/{TAG}": f"/feeds/tags/{TAG}.atom",
        "/reviews/feed-review": "/feeds/reviews/feed-review.atom",
        f"/search?q=lesson&tag={TAG}": f"/feeds/search.atom?q=lesson&tag={TAG}",
    }
    for page, feed in pages.items():
        links = feed_links(client.get(page).get_data(as_text=True))
        assert links == [feed], page
        read(client, links[0])
    member = login_as(world.client(), world.users["member"])
    assert feed_links(member.get("/lessons/feed-members").get_data(as_text=True)) == []


def test_a_renamed_tags_old_feed_address_leads_to_its_new_one_keeping_the_token(world: World) -> None:
    tag = db.session.scalar(select(Tag).where(Tag.slug == "feed-open-tag"))
    assert tag is not None
    rename_tag(tag, label="Feed renamed tag", slug="feed-renamed-tag", actor=world.users["moderator"])
    db.session.commit()
    client = world.client()
    moved = client.get("/feeds/tags/feed-open-tag.atom")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/feeds/tags/feed-renamed-tag.atom"
    token = world.tokens["member"]
    moved = client.get(with_token("/feeds/tags/feed-open-tag.atom", token))
    assert moved.headers["Location"] == with_token("/feeds/tags/feed-renamed-tag.atom", token)
    assert "Feed public lesson" in titles(read(client, moved.headers["Location"]))


def test_characters_xml_forbids_are_left_out_of_every_text_a_feed_writes(world: World) -> None:
    bad = "\ufffe\uffff\x01\x0b"
    item = FeedItem(
        key="entry/1",
        title=f"Odd{bad} title",
        path=f"/lessons/odd{bad}",
        summary=f"Odd{bad} summary",
        updated=utcnow(),
        author=f"Odd{bad} organisation",
        category=f"Odd{bad} kind",
    )
    only_bad = replace(item, key="entry/2", title=bad, summary=bad)
    with world.app.test_request_context():
        document = atom(title=f"Search: {bad}", path=f"/feeds/x{bad}.atom", page_path="/", items=[item, only_bad])
    feed = feedparser.parse(document)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.feed.title.startswith("Search: ")
    first, second = feed.entries
    assert (first.title, first.summary, first.author) == ("Odd title", "Odd summary", "Odd organisation")
    assert (first.link, first.tags[0].term) == (f"{SITE}/lessons/odd", "Odd kind")
    assert second.title
    assert not any(character in document.decode() for character in bad)


def test_a_search_feed_for_a_character_xml_forbids_is_refused_at_the_doorway(world: World) -> None:
    for raw, named in (("%EF%BF%BE", "U+FFFE (noncharacter)"), ("%EF%BF%BF", "U+FFFF (noncharacter)")):
        response = world.client().get(f"/feeds/search.atom?q=a{raw}b")
        assert response.status_code == 400, raw
        assert named in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_the_search_feed_holds_published_entries_only_even_for_staff(world: World, role: str | None) -> None:
    token = world.tokens[role] if role else None
    for query in ("q=feed", "q=feed+unpublished+lesson", "q=feed&sort=newest"):
        shown = titles(read(world.client(), f"/feeds/search.atom?{query}", token))
        assert shown, query
        assert shown <= expected_entries(viewer_of(world, role)), (role, query)


@pytest.mark.parametrize(
    "query", ["q=lesson", f"q=Lesson+&tag={TAG}&sort=newest", "sort=relevance", "", f"theme={THEME.slug}&kind=lesson"]
)
def test_a_search_feeds_own_address_is_the_one_its_search_page_names(world: World, query: str) -> None:
    client = world.client()
    [named] = feed_links(client.get(f"/search?{query}").get_data(as_text=True))
    feed = read(client, f"/feeds/search.atom?{query}")
    [own] = [link.href for link in feed.feed.links if link.rel == "self"]
    assert own == f"{SITE}{named}"
    assert feed.feed.id == own
