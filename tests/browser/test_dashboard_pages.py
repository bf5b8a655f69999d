"""In Chromium: a moderator confirms a recurrence; readers see it counted; axe throughout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import served_site
from tests.browser.people import Site, assert_accessible, page_as

pytestmark = pytest.mark.browser

LESSON = "providers-pressed-to-go-live-before-ready"


@pytest.fixture(scope="module")
def dashboard_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    with served_site(tmp_path_factory.mktemp("dashboard"), seeded_database) as served:
        yield served


def test_a_moderator_confirms_a_recurrence_and_readers_see_it_counted(browser: Browser, dashboard_site: Site) -> None:
    site = dashboard_site
    lesson = f"{site.url}/lessons/{LESSON}"

    reader = page_as(browser, site, None)
    reader.goto(f"{site.url}/dashboard")
    assert_accessible(reader)
    expect(reader.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    reader.get_by_text("Data for lessons by theme").click()
    expect(reader.get_by_role("table", name="Lessons by theme")).to_be_visible()
    assert_accessible(reader)
    reader.goto(f"{site.url}/recurrences")
    assert_accessible(reader)
    expect(reader.get_by_text("No recurrences have been confirmed yet")).to_be_visible()

    moderator = page_as(browser, site, "moderator")
    moderator.goto(lesson)
    assert_accessible(moderator)
    section = moderator.locator(".kb-recurrence")
    expect(section.get_by_role("heading", name="The same problem in another region or year")).to_be_visible()
    first = section.locator("ol.kb-recurrence__list > li:not(.kb-timeline__item--current)").first
    title = first.get_by_role("link").first.inner_text()
    first.get_by_role("link", name=re.compile("^Decide")).click()
    expect(moderator).to_have_url(re.compile(r"/recurrences/[a-z0-9-]+$"))
    assert_accessible(moderator)

    # Saving without choosing comes back with the note kept.
    moderator.get_by_label("Note (optional)").fill("Both say services went live before they were ready.")
    moderator.get_by_role("button", name="Save decision").click()
    expect(moderator.locator(".nhsuk-error-summary")).to_contain_text("Choose whether")
    expect(moderator.get_by_label("Note (optional)")).to_have_value(
        "Both say services went live before they were ready."
    )
    assert_accessible(moderator)
    moderator.get_by_label("The same lesson again").check()
    moderator.get_by_role("button", name="Save decision").click()
    expect(moderator).to_have_url(re.compile(rf"/lessons/{LESSON}#recurrence-heading$"))
    expect(moderator.locator(".kb-flash")).to_contain_text("are the same lesson again")
    assert_accessible(moderator)

    reader.goto(lesson)
    section = reader.locator(".kb-recurrence")
    expect(section).to_contain_text("confirmed as the same lesson again 1 time")
    confirmed = section.locator("ol.kb-recurrence__list > li", has_text=title)
    expect(confirmed).to_have_count(1)
    expect(confirmed).to_contain_text("Same lesson again")
    assert_accessible(reader)
    reader.goto(f"{site.url}/recurrences")
    expect(reader.get_by_role("table")).to_contain_text(title)
    assert_accessible(reader)
    reader.goto(f"{site.url}/dashboard")
    expect(reader.locator(".kb-dashboard-figures")).to_contain_text("Confirmed recurrences")
    expect(reader.get_by_role("img", name="Lessons most often learned again")).to_be_visible()
    assert_accessible(reader)
    for page in (reader, moderator):
        page.context.close()
