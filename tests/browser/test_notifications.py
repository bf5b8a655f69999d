"""Notifications in Chromium: the pages pass axe-core, and following and marking read work by keyboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from kb.extensions import db
from kb.notifications import service
from kb.notifications.mails import unsubscribe_path
from kb.users.models import User
from tests.browser.conftest import serving
from tests.browser.people import Site, add_people, axe_blocking, sign_in
from tests.conftest import make_app
from tests.services.test_notifications import add_comment, public_lesson

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def told(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[tuple[Site, str, str]]:
    """A served site where the member has two unread notifications; yields it, a lesson path and an unsubscribe path."""
    app = make_app(tmp_path_factory.mktemp("notifications"), seeded_database, LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    people, restricted = add_people(app)
    with app.app_context():
        member = db.session.query(User).filter_by(email=people["member"].email).one()
        other = db.session.query(User).filter_by(email=people["panel"].email).one()
        lesson = public_lesson()
        service.follow(member, "entry", lesson.id)
        handle = "@" + re.sub(r"[^a-z0-9]+", "-", member.display_name.lower()).strip("-")
        for body in (f"What do you think, {handle}?", "A comment for followers."):
            service.comment_posted(add_comment(lesson, other, body), actor=other)
        unsubscribe = unsubscribe_path(member, "digest")
        lesson_path = lesson.path
        db.session.commit()
        db.session.remove()
    with serving(app) as url:
        yield Site(url, people, restricted), lesson_path, unsubscribe


@pytest.fixture
def member_page(browser: Browser, told: tuple[Site, str, str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    sign_in(page, told[0], "member")
    yield page
    context.close()


def test_the_notifications_page_passes_axe_and_marks_read_by_keyboard(member_page: Page, told):
    site = told[0]
    member_page.goto(site.url + "/notifications")
    expect(member_page.locator(".kb-account-links")).to_contain_text("Notifications (2 unread)")
    expect(member_page.locator(".kb-notification--unread")).to_have_count(2)
    assert axe_blocking(member_page) == ""

    member_page.locator(".kb-notification__read").first.focus()
    member_page.keyboard.press("Enter")
    expect(member_page.locator(".kb-notification--unread")).to_have_count(1)
    member_page.get_by_role("button", name="Mark all as read").focus()
    member_page.keyboard.press("Enter")
    expect(member_page.locator(".kb-notification--unread")).to_have_count(0)
    expect(member_page.locator(".kb-account-links")).not_to_contain_text("unread")


def test_the_settings_page_passes_axe_and_saves(member_page: Page, told):
    site = told[0]
    member_page.goto(site.url + "/account/notifications")
    assert axe_blocking(member_page) == ""
    member_page.get_by_label("Mail me when someone replies to my comment").uncheck()
    member_page.get_by_role("button", name="Save settings").click()
    expect(member_page.locator(".kb-flash")).to_contain_text("saved")
    expect(member_page.get_by_label("Mail me when someone replies to my comment")).not_to_be_checked()
    expect(member_page.get_by_label("Mail me when someone mentions me")).to_be_checked()


def test_a_topic_choice_is_made_by_keyboard_and_kept(member_page: Page, told):
    site = told[0]
    member_page.goto(site.url + "/account/notifications")
    panel_work = member_page.get_by_role("group", name="Panel work: new findings, proposals, agreements")
    panel_work.get_by_label("Put it in my daily digest").focus()
    member_page.keyboard.press("Space")
    panel_work.get_by_label("Show on my notifications page").focus()
    member_page.keyboard.press("Space")
    member_page.get_by_role("button", name="Save settings").click()
    expect(member_page.locator(".kb-flash")).to_contain_text("saved")
    assert axe_blocking(member_page) == ""
    panel_work = member_page.get_by_role("group", name="Panel work: new findings, proposals, agreements")
    expect(panel_work.get_by_label("Put it in my daily digest")).to_be_checked()
    expect(panel_work.get_by_label("Show on my notifications page")).not_to_be_checked()
    receipts = member_page.get_by_role("group", name="Receipts")
    expect(receipts.get_by_label("Mail me at once")).to_be_checked()


def test_follow_button_on_the_entry_page(member_page: Page, told):
    site, lesson_path, _ = told
    member_page.goto(site.url + lesson_path)
    member_page.get_by_role("button", name="Stop following this lesson").click()
    expect(member_page.get_by_role("button", name="Follow this lesson")).to_be_visible()
    assert axe_blocking(member_page) == ""
    member_page.get_by_role("button", name="Follow this lesson").click()
    expect(member_page.get_by_text("You follow this lesson.")).to_be_visible()


def test_the_unsubscribe_pages_pass_axe_signed_out(page: Page, told):
    site, _, unsubscribe = told
    page.goto(site.url + unsubscribe)
    expect(page.get_by_role("heading", name="Stop the daily digest of what you follow?")).to_be_visible()
    assert axe_blocking(page) == ""
    page.get_by_role("button", name="Stop the daily digest of what you follow").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    assert axe_blocking(page) == ""
    page.get_by_role("button", name="Turn it back on").click()
    expect(page.get_by_role("heading", name="Mail turned back on")).to_be_visible()
