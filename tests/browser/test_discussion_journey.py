"""A discussion from start to finish in Chromium, as three people and a moderator live it.

A member comments, a panel member replies, the member replies to the reply; a third
member flags the reply; a moderator hides it from the flag queue; other readers then see
a placeholder where it was, with the reply below it still in place. axe-core runs on
every page the journey opens.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import served_site
from tests.browser.people import Site, assert_accessible, page_as

pytestmark = pytest.mark.browser

LESSON = "providers-pressed-to-go-live-before-ready"


@pytest.fixture(scope="module")
def journey_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    with served_site(tmp_path_factory.mktemp("journey"), seeded_database) as served:
        yield served


def _post(page: Page, text: str, button: str) -> str:
    """Type `text` into the comment form on the page, send it, and return the new comment's anchor."""
    page.get_by_label("Your comment").fill(text)
    page.get_by_role("button", name=button).click()
    expect(page).to_have_url(re.compile(r"#comment-\d+$"))
    return page.url.rsplit("#", 1)[1]


def _reply_to(page: Page, anchor: str, text: str) -> str:
    page.locator(f"#{anchor} > article .kb-comment__actions").get_by_role("link", name=re.compile("^Reply")).click()
    expect(page).to_have_url(re.compile(r"/comments/\d+/reply$"))
    assert_accessible(page)
    return _post(page, text, "Post reply")


def test_reply_to_a_reply_flag_and_hide(browser: Browser, journey_site: Site) -> None:
    site = journey_site
    lesson = f"{site.url}/lessons/{LESSON}"

    member = page_as(browser, site, "member")
    member.goto(lesson)
    assert_accessible(member)
    first = _post(member, "Were providers asked whether they were ready?", "Post comment")

    panel = page_as(browser, site, "panel")
    panel.goto(lesson)
    answer = _reply_to(panel, first, "They were asked, but the date did not move.")

    member.goto(lesson)
    rejoinder = _reply_to(member, answer, "Then the question was for show: **unkind** words about named people.")
    thread = member.locator(f"#{first}")
    expect(thread.locator(f"#{answer}").locator(f"#{rejoinder}")).to_have_count(1)

    # Someone else flags the rejoinder.
    other = page_as(browser, site, "other panel")
    other.goto(lesson)
    other.locator(f"#{rejoinder} > article .kb-comment__actions").get_by_role("link", name=re.compile("^Flag")).click()
    assert_accessible(other)
    other.get_by_label("Abusive").check()
    other.get_by_role("button", name="Send to the moderators").click()
    expect(other.locator(".kb-flash")).to_be_visible()

    # The moderator works the queue and hides it with a reason.
    moderator = page_as(browser, site, "moderator")
    moderator.goto(f"{site.url}/moderation/flags")
    assert_accessible(moderator)
    item = moderator.locator(".kb-flag-queue > li", has_text="unkind").first
    item.get_by_label(re.compile("^Reason")).fill("Please discuss what was done, not the people.")
    item.get_by_role("button", name=re.compile("^Hide")).click()
    expect(moderator.locator(".kb-flash")).to_contain_text("hidden")

    # For everyone else the comment has left the page; the thread around it stays.
    for reader in (page_as(browser, site, None), other):
        reader.goto(lesson)
        assert_accessible(reader)
        expect(reader.locator(f"#{rejoinder}")).not_to_contain_text("unkind")
        expect(reader.locator(f"#{rejoinder}")).to_contain_text("hidden by a moderator")
        expect(reader.locator(f"#{answer}")).to_contain_text("the date did not move")
    # Its author still reads it, with the reason.
    member.goto(lesson)
    expect(member.locator(f"#{rejoinder}")).to_contain_text("unkind")
    expect(member.locator(f"#{rejoinder}")).to_contain_text("Please discuss what was done, not the people.")
    for page in (member, panel, other, moderator):
        page.context.close()
