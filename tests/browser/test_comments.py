"""Discussion pages in Chromium: axe-core on the thread, the continue page and the forms; replying by keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from kb.entries.models import Entry
from kb.extensions import db
from kb.users.models import User
from tests.browser.conftest import serving
from tests.browser.people import Site, add_people, axe_blocking, sign_in
from tests.conftest import make_app
from tests.factories import add_comment

pytestmark = pytest.mark.browser

LESSON = "procurement-weighted-towards-cost"


@dataclass(frozen=True)
class Discussed:
    """The served site, a deep chain of comments, and the member's own comment."""

    site: Site
    chain: list[int]
    own: int


def _set_up(people: dict) -> tuple[list[int], int]:
    """A thread eight replies deep, a hidden comment with a reply, and one of the member's own."""
    member = db.session.scalar(select(User).where(User.email == people["member"].email))
    panel = db.session.scalar(select(User).where(User.email == people["panel"].email))
    lesson = db.session.scalar(select(Entry).where(Entry.slug == LESSON))
    chain = []
    parent = None
    for level in range(8):
        parent = add_comment(
            lesson, panel if level % 2 else member, f"Point number {level}, with *emphasis*.", parent=parent
        )
        chain.append(parent.id)
    hidden = add_comment(lesson, panel, "Something unkind", status="hidden")
    add_comment(lesson, member, "A calm answer to a hidden comment.", parent=hidden)
    own = add_comment(lesson, member, "My own comment, which I may edit.")
    return chain, own.id


@pytest.fixture(scope="module")
def discussed(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Discussed]:
    app = make_app(tmp_path_factory.mktemp("discussion"), seeded_database, LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    people, restricted = add_people(app)
    with app.app_context():
        chain, own = _set_up(people)
        db.session.remove()
    with serving(app) as url:
        yield Discussed(Site(url, people, restricted), chain, own)


def _member_page(page: Page, discussed: Discussed) -> Page:
    sign_in(page, discussed.site, "member")
    return page


def test_discussion_pages_pass_axe_for_a_reader(page: Page, discussed: Discussed) -> None:
    base = discussed.site.url
    for path in (f"/lessons/{LESSON}", f"/lessons/{LESSON}?order=newest", f"/comments/{discussed.chain[4]}/thread"):
        page.goto(base + path)
        assert page.locator(".kb-comment").count() >= 4, path
        assert not (report := axe_blocking(page)), f"{path}\n{report}"


def test_discussion_pages_pass_axe_for_a_member(page: Page, discussed: Discussed) -> None:
    _member_page(page, discussed)
    base = discussed.site.url
    paths = (
        f"/lessons/{LESSON}",
        f"/comments/{discussed.chain[4]}/thread",
        f"/comments/{discussed.chain[1]}/reply",
        f"/comments/{discussed.own}/edit",
    )
    for path in paths:
        page.goto(base + path)
        assert not (report := axe_blocking(page)), f"{path}\n{report}"


def test_an_invalid_post_passes_axe_and_keeps_the_text(page: Page, discussed: Discussed) -> None:
    _member_page(page, discussed)
    page.goto(f"{discussed.site.url}/comments/{discussed.chain[0]}/reply")
    page.get_by_label("Your comment").fill("x" * 10_001)
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("10,000 characters or fewer")
    expect(page.get_by_label("Your comment")).to_have_value("x" * 10_001)
    assert not (report := axe_blocking(page)), report


def test_a_member_replies_with_the_keyboard_alone(page: Page, discussed: Discussed) -> None:
    _member_page(page, discussed)
    page.goto(f"{discussed.site.url}/lessons/{LESSON}")
    reply_link = page.locator(f"#comment-{discussed.chain[0]} > article .kb-comment__actions a", has_text="Reply")
    reply_link.first.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/comments/{discussed.chain[0]}/reply$"))
    field = page.get_by_label("Your comment")
    field.focus()
    page.keyboard.type("Typed and sent from the keyboard.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Post reply")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/lessons/{LESSON}#comment-\d+$"))
    anchor = page.url.rsplit("#", 1)[1]
    reply = page.locator(f"#{anchor}")
    expect(reply).to_contain_text("Typed and sent from the keyboard.")
    parent = page.locator(f"#comment-{discussed.chain[0]}")
    expect(parent.locator(f"#{anchor}")).to_have_count(1)


def test_continue_this_thread_is_a_link_the_keyboard_reaches(page: Page, discussed: Discussed) -> None:
    page.goto(f"{discussed.site.url}/lessons/{LESSON}")
    link = page.get_by_role("link", name=re.compile("Continue this thread"))
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/comments/{discussed.chain[4]}/thread$"))
    expect(page.locator(f"#comment-{discussed.chain[7]}")).to_contain_text("Point number 7")
