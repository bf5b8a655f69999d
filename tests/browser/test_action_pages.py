"""Recording action on a lesson in Chromium: refused and saved updates, verification, open actions; axe on each."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import serving
from tests.browser.people import Site, add_people, axe_blocking, sign_in
from tests.conftest import make_app

pytestmark = pytest.mark.browser

LESSON = "procurement-weighted-towards-cost"
OWNER = "Test out-of-hours provider"


@pytest.fixture(scope="module")
def action_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    app = make_app(tmp_path_factory.mktemp("actions"), seeded_database, LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    people, restricted = add_people(app)
    with serving(app) as url:
        yield Site(url, people, restricted)


def _as(browser: Browser, site: Site, role: str | None) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    if role is not None:
        sign_in(page, site, role)
    return page


def _checked(page: Page) -> None:
    report = axe_blocking(page)
    assert not report, f"{page.url}\n{report}"


def test_a_moderator_records_and_verifies_action(browser: Browser, action_site: Site) -> None:
    site = action_site
    moderator = _as(browser, site, "moderator")
    moderator.goto(f"{site.url}/lessons/{LESSON}")
    section = moderator.locator("#lesson-action")
    expect(section).to_contain_text("Identified")
    _checked(moderator)
    section.get_by_role("link", name=re.compile("^Update the action")).click()
    expect(moderator).to_have_url(re.compile(rf"/lessons/{LESSON}/action$"))
    expect(moderator.get_by_role("heading", level=1)).to_contain_text("Action on the lesson")
    _checked(moderator)

    moderator.get_by_label("Actioned", exact=True).check()
    moderator.get_by_label("Evidence of action").fill("Scoring now weighs **quality** first; checked in the audit.")
    moderator.get_by_role("button", name="Save the action").click()
    summary = moderator.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Choose the organisation that owns the action")
    expect(summary).to_contain_text("Enter the date the action is due")
    expect(moderator.get_by_label("Evidence of action")).to_have_value(
        "Scoring now weighs **quality** first; checked in the audit."
    )
    _checked(moderator)

    moderator.get_by_label("Owner organisation").select_option(OWNER)
    moderator.get_by_label("Due date").fill("2027-03-31")
    moderator.get_by_role("button", name="Save the action").click()
    expect(moderator).to_have_url(re.compile(rf"/lessons/{LESSON}#lesson-action$"))
    section = moderator.locator("#lesson-action")
    expect(section).to_contain_text("Actioned")
    expect(section).to_contain_text(OWNER)
    expect(section).to_contain_text("31 March 2027")
    expect(section.locator("strong", has_text="quality")).to_have_count(1)
    _checked(moderator)

    moderator.goto(f"{site.url}/actions")
    row = moderator.get_by_role("row").filter(has_text=OWNER)
    expect(row).to_contain_text("Actioned")
    _checked(moderator)

    moderator.goto(f"{site.url}/lessons/{LESSON}/action")
    moderator.get_by_label("Verified", exact=True).check()
    moderator.get_by_role("button", name="Save the action").click()
    expect(moderator.locator(".nhsuk-error-summary")).to_contain_text("someone else should verify it")
    _checked(moderator)
    moderator.get_by_label("Why you made this change").fill("The panel asked the moderators to check it.")
    moderator.get_by_role("button", name="Save the action").click()
    expect(moderator.locator("#lesson-action")).to_contain_text("Verified")
    expect(moderator.locator("[aria-current=step]")).to_have_text("Lesson learned")

    member = _as(browser, site, "member")
    member.goto(f"{site.url}/actions?status=actioned")
    expect(member.get_by_role("heading", level=1)).to_have_text("Open actions")
    expect(member.locator(".kb-open-actions")).to_have_count(0)
    _checked(member)
    member.goto(f"{site.url}/lessons/{LESSON}")
    expect(member.locator("#lesson-action")).to_contain_text("Verified")
    expect(member.locator("#lesson-action").get_by_role("link", name=re.compile("^Update the action"))).to_have_count(0)
