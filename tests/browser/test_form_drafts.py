"""A member's lesson survives the end of their session in Chromium: saved as they type, kept when sent
signed out, back in the form after signing in again, and then saved.

The form offering a draft back and the restored form are checked with axe-core.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.accounts import PASSWORD
from tests.browser.people import Site, assert_accessible, sign_in

pytestmark = pytest.mark.browser

TITLE = "Night rotas need a second pair of eyes"
EVIDENCE = "Three incident reports from the winter, each naming an unfilled night shift."


def _fill_lesson(page: Page) -> None:
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Summary").fill("Rotas checked by one person missed gaps that a second check found.")
    page.get_by_label("Driving event").fill("A night shift went unfilled three times in one winter.")
    page.get_by_label("Lesson", exact=True).fill("A second check of the rota finds gaps early.")
    page.get_by_label("Recommendation").fill("Have someone else check each week's rota.")
    page.get_by_label("Evidence").fill(EVIDENCE)


def test_a_members_lesson_survives_an_expired_session(site: Site, page: Page) -> None:
    sign_in(page, site, "member")
    page.goto(site.url + "/lessons/new")
    _fill_lesson(page)
    # kb.js keeps a draft on the server a moment after typing stops.
    expect(page.locator(".kb-autosave-status")).to_contain_text("Draft saved", timeout=15_000)
    # Opened again elsewhere, the form offers that draft back.
    other = page.context.new_page()
    other.goto(site.url + "/lessons/new")
    expect(other.locator(".kb-draft-offer")).to_contain_text("Bring it back into the form")
    assert_accessible(other)
    other.close()

    # The session ends while the form is open: its cookie is gone.
    page.context.clear_cookies()
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator(".kb-flash").first).to_contain_text("What you typed has been kept")

    page.get_by_label("Email address").fill(site.people["member"].email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/lessons/new\?draft="))
    expect(page.get_by_label("Title")).to_have_value(TITLE)
    expect(page.get_by_label("Evidence")).to_have_value(EVIDENCE)
    expect(page.locator("main")).to_contain_text("Your text was kept and has not been sent yet")
    assert_accessible(page)

    page.get_by_role("button", name="Save draft").click()
    expect(page).not_to_have_url(re.compile(r"/lessons/new|/login"))
    expect(page.locator(".kb-flash").first).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    page.goto(site.url + "/lessons/new")
    expect(page.locator(".kb-draft-offer")).to_have_count(0)
