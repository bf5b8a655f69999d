"""Flags, moderators' queues and curation in Chromium: axe-core on every page, keyboard use without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from kb.entries.models import Entry
from kb.extensions import db
from kb.moderation import curation
from kb.moderation.service import raise_flag
from kb.users.models import User
from tests.browser.conftest import serving
from tests.browser.people import Site, add_people, axe_blocking, sign_in
from tests.conftest import make_app
from tests.factories import add_comment

pytestmark = pytest.mark.browser

LESSON = "procurement-weighted-towards-cost"
DUPLICATE = "north-west-contract-won-on-cheaper-bid"
TARGET = "north-west-service-failed-within-hours"
FLAGGED_LESSON = "pilot-feedback-not-properly-heard"


@dataclass(frozen=True)
class Moderated:
    """The served site and the comments the tests act on."""

    site: Site
    top_id: int
    reply_id: int


def _entry(slug: str) -> Entry:
    found = db.session.scalar(select(Entry).where(Entry.slug == slug))
    assert found is not None
    return found


def _user(email: str) -> User:
    found = db.session.scalar(select(User).where(User.email == email))
    assert found is not None
    return found


def _set_up(people: dict[str, Any]) -> tuple[int, int]:
    """A thread with flags, a flagged entry, a merge, a featured entry and a locked one."""
    member, panel, moderator = (_user(people[role].email) for role in ("member", "panel", "moderator"))
    lesson = _entry(LESSON)
    top = add_comment(lesson, panel, "The tender was scored on **price** alone.")
    reply = add_comment(lesson, moderator, "The minutes agree.", parent=top)
    raise_flag(lesson, actor=member, reason="other", note="Names a person.", comment=top)
    raise_flag(_entry(FLAGGED_LESSON), actor=member, reason="inaccurate")
    curation.merge_entry(_entry(DUPLICATE), _entry(TARGET), actor=moderator)
    curation.feature_entry(lesson, actor=moderator)
    curation.set_locked(_entry(TARGET), True, actor=moderator)
    db.session.commit()
    return top.id, reply.id


@pytest.fixture(scope="module")
def moderated(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Moderated]:
    app = make_app(tmp_path_factory.mktemp("moderation"), seeded_database, LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    people, restricted = add_people(app)
    with app.app_context():
        top_id, reply_id = _set_up(people)
        db.session.remove()
    with serving(app) as url:
        yield Moderated(Site(url, people, restricted), top_id, reply_id)


@pytest.fixture(scope="module")
def signed_in(moderated: Moderated, browser: Browser) -> dict[str, Any]:
    """The member's and the moderator's signed-in browser state, made once each."""
    states: dict[str, Any] = {}
    for role in ("member", "moderator"):
        context = browser.new_context()
        sign_in(context.new_page(), moderated.site, role)
        states[role] = context.storage_state()
        context.close()
    return states


@pytest.fixture
def open_as(browser: Browser, signed_in: dict[str, Any]) -> Iterator[Any]:
    contexts = []

    def open_page(role: str, *, javascript: bool = True) -> Page:
        context = browser.new_context(storage_state=signed_in[role], java_script_enabled=javascript)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


MEMBER_PAGES = {
    "flag a comment": "/comments/{top}/flag",
    "flag an entry": f"/lessons/{LESSON}/flag",
    "entry with flag links": f"/lessons/{LESSON}",
}
MODERATOR_PAGES = {
    "flag queue": "/moderation/flags",
    "one comment": "/moderation/comments/{top}",
    "one entry": f"/moderation/entries/{FLAGGED_LESSON}",
    "curation": "/moderation/curation",
    "merge search": f"/moderation/entries/{LESSON}/merge?q=north+west",
    "merge confirmation": f"/moderation/entries/{LESSON}/merge?into={TARGET}",
    "entry with curation and comment tools": f"/lessons/{LESSON}",
    "history with a merged entry": f"/lessons/{TARGET}/history",
    "home with featured entries": "/",
}


def _path(moderated: Moderated, template: str) -> str:
    return moderated.site.url + template.format(top=moderated.top_id, reply=moderated.reply_id)


@pytest.mark.parametrize("path", MEMBER_PAGES.values(), ids=MEMBER_PAGES.keys())
def test_members_pages_pass_axe(moderated: Moderated, open_as: Any, path: str) -> None:
    page = open_as("member")
    response = page.goto(_path(moderated, path))
    assert response is not None
    assert response.status == 200
    report = axe_blocking(page)
    assert not report, report


@pytest.mark.parametrize("path", MODERATOR_PAGES.values(), ids=MODERATOR_PAGES.keys())
def test_moderators_pages_pass_axe(moderated: Moderated, open_as: Any, path: str) -> None:
    page = open_as("moderator")
    response = page.goto(_path(moderated, path))
    assert response is not None
    assert response.status == 200
    page.locator("details").evaluate_all("(all) => all.forEach((d) => d.open = true)")
    report = axe_blocking(page)
    assert not report, report


def test_a_flag_form_with_errors_passes_axe_and_keeps_the_choice(moderated: Moderated, open_as: Any) -> None:
    page = open_as("member")
    page.goto(_path(moderated, "/comments/{reply}/flag"))
    page.get_by_label("Something else").check()
    page.get_by_role("button", name="Send to the moderators").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Say what is wrong")
    expect(page.get_by_label("Something else")).to_be_checked()
    report = axe_blocking(page)
    assert not report, report


def test_a_moderator_hides_a_comment_with_the_keyboard_and_no_javascript(moderated: Moderated, open_as: Any) -> None:
    page = open_as("moderator", javascript=False)
    page.goto(_path(moderated, "/moderation/flags"))
    reason = page.get_by_label("Reason (shown to the author)").first
    reason.focus()
    page.keyboard.type("Please do not name people.")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text(re.compile(r"^Hide: comment by "))
    page.keyboard.press("Enter")
    expect(page.locator(".kb-flash")).to_contain_text("The comment is now hidden.")
    page.goto(_path(moderated, f"/lessons/{LESSON}"))
    expect(page.locator(f"#comment-{moderated.top_id}")).to_contain_text("Please do not name people.")
    anonymous = page.context.browser.new_context(java_script_enabled=False)
    try:
        reader = anonymous.new_page()
        reader.goto(_path(moderated, f"/lessons/{LESSON}"))
        expect(reader.locator(f"#comment-{moderated.top_id}")).not_to_contain_text("price")
        expect(reader.locator(f"#comment-{moderated.reply_id}")).to_contain_text("The minutes agree.")
    finally:
        anonymous.close()
