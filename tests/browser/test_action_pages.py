"""Recording action on a lesson in Chromium: refused and saved updates, verification, open actions; axe on each."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import served_site
from tests.browser.people import Site, assert_accessible, page_as

pytestmark = pytest.mark.browser

LESSON = "procurement-weighted-towards-cost"
OWNER = "Test out-of-hours provider"


@pytest.fixture(scope="module")
def action_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    with served_site(tmp_path_factory.mktemp("actions"), seeded_database) as served:
        yield served


def test_a_moderator_records_and_verifies_action(browser: Browser, action_site: Site) -> None:
    site = action_site
    moderator = page_as(browser, site, "moderator")
    moderator.goto(f"{site.url}/lessons/{LESSON}")
    section = moderator.locator("#lesson-action")
    expect(section).to_contain_text("Identified")
    assert_accessible(moderator)
    section.get_by_role("link", name=re.compile("^Update the action")).click()
    expect(moderator).to_have_url(re.compile(rf"/lessons/{LESSON}/action$"))
    expect(moderator.get_by_role("heading", level=1)).to_contain_text("Action on the lesson")
    assert_accessible(moderator)

    moderator.get_by_label("Actioned", exact=True).check()
    moderator.get_by_label("Evidence of action").fill("Scoring now weighs **quality** first; checked in the audit.")
    moderator.get_by_role("button", name="Save the action").click()
    summary = moderator.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Choose the organisation that owns the action")
    expect(summary).to_contain_text("Enter the date the action is due")
    expect(moderator.get_by_label("Evidence of action")).to_have_value(
        "Scoring now weighs **quality** first; checked in the audit."
    )
    assert_accessible(moderator)

    moderator.get_by_label("Owner organisation").select_option(OWNER)
    moderator.get_by_label("Due date").fill("2027-03-31")
    moderator.get_by_role("button", name="Save the action").click()
    expect(moderator).to_have_url(re.compile(rf"/lessons/{LESSON}#lesson-action$"))
    section = moderator.locator("#lesson-action")
    expect(section).to_contain_text("Actioned")
    expect(section).to_contain_text(OWNER)
    expect(section).to_contain_text("31 March 2027")
    expect(section.locator("strong", has_text="quality")).to_have_count(1)
    assert_accessible(moderator)

    moderator.goto(f"{site.url}/actions")
    row = moderator.get_by_role("row").filter(has_text=OWNER)
    expect(row).to_contain_text("Actioned")
    assert_accessible(moderator)

    moderator.goto(f"{site.url}/lessons/{LESSON}/action")
    moderator.get_by_label("Verified", exact=True).check()
    moderator.get_by_role("button", name="Save the action").click()
    expect(moderator.locator(".nhsuk-error-summary")).to_contain_text("someone else should verify it")
    assert_accessible(moderator)
    moderator.get_by_label("Why you made this change").fill("The panel asked the moderators to check it.")
    moderator.get_by_role("button", name="Save the action").click()
    expect(moderator.locator("#lesson-action")).to_contain_text("Verified")
    expect(moderator.locator("[aria-current=step]")).to_have_text("Lesson learned")

    member = page_as(browser, site, "member")
    member.goto(f"{site.url}/actions?status=actioned")
    expect(member.get_by_role("heading", level=1)).to_have_text("Open actions")
    expect(member.locator(".kb-open-actions")).to_have_count(0)
    assert_accessible(member)
    member.goto(f"{site.url}/lessons/{LESSON}")
    expect(member.locator("#lesson-action")).to_contain_text("Verified")
    expect(member.locator("#lesson-action").get_by_role("link", name=re.compile("^Update the action"))).to_have_count(0)
