"""A review panel drafting findings together in Chromium, with axe-core on every page it opens.

One panel member drafts a finding; two edit it from the same revision and the second
is shown the merge page, their changes combined; the finding is proposed, agreed by a
moderator and published; a member then reads it from the review's page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from kb.entries.models import Review
from kb.extensions import db
from tests.accounts import make_user
from tests.browser.conftest import app_with_people, serving
from tests.browser.people import Person, Site, assert_accessible, page_as, panel_member_page

pytestmark = pytest.mark.browser

REVIEW = "nhs-111-programme-lessons-review"


@pytest.fixture(scope="module")
def panel_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    """The seeded site with one account per role, and a second member on the review's panel."""
    app, people, restricted = app_with_people(tmp_path_factory.mktemp("workspace"), seeded_database)
    with app.app_context():
        review = db.session.scalar(select(Review).where(Review.slug == REVIEW))
        second = make_user("second-panel@example.org", name="Sam Second", panels=(review,))
        people["second panel"] = Person(second.email)
        db.session.remove()
    with serving(app) as url:
        yield Site(url, people, restricted)


def test_drafting_merging_agreeing_and_publishing(browser: Browser, panel_site: Site) -> None:
    site = panel_site
    first = panel_member_page(browser, site, REVIEW)
    first.goto(f"{site.url}/reviews/{REVIEW}")
    assert_accessible(first)
    first.get_by_role("link", name="Open the panel's workspace").click()
    expect(first.get_by_role("heading", level=1)).to_contain_text("Panel workspace")
    assert_accessible(first)

    first.get_by_role("button", name="Draft a new finding").click()
    assert_accessible(first)
    first.get_by_role("button", name="Save finding").click()
    expect(first.locator(".nhsuk-error-summary")).to_contain_text("Enter a title for the finding.")
    assert_accessible(first)
    first.get_by_label("Title").fill("Go-live dates came before readiness")
    first.get_by_label("Finding", exact=True).fill("Providers said they were not ready.\n\nThe date did not move.")
    first.get_by_label("Recommendations").fill("Agree a readiness test before any go-live date.")
    first.get_by_role("button", name="Save finding").click()
    expect(first).to_have_url(re.compile(r"/findings/1$"))
    expect(first.locator(".kb-flash")).to_contain_text("Finding 1 was saved as a draft")
    assert_accessible(first)

    # Two panel members open the editor on the same revision; the second to save gets the merge view.
    second = page_as(browser, site, "second panel")
    edit = f"{site.url}/reviews/{REVIEW}/findings/1/edit"
    first.goto(edit)
    second.goto(edit)
    assert_accessible(second)
    first.get_by_label("Finding", exact=True).fill("Every provider said they were not ready.\n\nThe date did not move.")
    first.get_by_role("button", name="Save finding").click()
    expect(first.locator(".kb-flash")).to_contain_text("saved as revision 2")
    second.get_by_label("Finding", exact=True).fill("Providers said they were not ready.\n\nThe date never moved.")
    second.get_by_role("button", name="Save finding").click()
    expect(second.get_by_role("heading", level=1)).to_contain_text("Merge your changes into finding 1")
    expect(second.locator(".kb-merge-notice")).to_contain_text("nothing to choose")
    expect(second.locator(".kb-merge-changes")).to_contain_text("Every provider said")
    expect(second.locator(".kb-merge-changes")).to_contain_text("The date never moved.")
    assert_accessible(second)
    second.get_by_role("button", name="Save the merged finding").click()
    expect(second.locator(".kb-flash")).to_contain_text("saved as revision 3")
    expect(second.locator("main")).to_contain_text("Every provider said they were not ready.")
    expect(second.locator("main")).to_contain_text("The date never moved.")

    # History, one revision and a comparison.
    second.get_by_role("link", name=re.compile("^Compare revisions")).click()
    assert_accessible(second)
    second.get_by_role("button", name="Compare revisions").click()
    expect(second.get_by_role("heading", level=1)).to_contain_text("Revision 2 to revision 3")
    assert_accessible(second)
    second.goto(f"{site.url}/reviews/{REVIEW}/findings/1/history/1")
    expect(second.locator("main")).to_contain_text("This is an earlier version")
    assert_accessible(second)

    # Agreement: proposed by one member, agreed by a moderator; then published.
    first.goto(f"{site.url}/reviews/{REVIEW}/findings/1")
    first.get_by_role("button", name="Propose agreeing this finding").click()
    expect(first.locator("main")).to_contain_text("You proposed agreeing this finding")
    assert_accessible(first)
    moderator = page_as(browser, site, "moderator")
    moderator.goto(f"{site.url}/reviews/{REVIEW}/findings/1")
    moderator.get_by_role("button", name="Agree this finding").click()
    expect(moderator.locator(".kb-flash")).to_contain_text("Finding 1 is agreed")
    assert_accessible(moderator)
    first.goto(f"{site.url}/reviews/{REVIEW}/workspace")
    first.get_by_role("button", name="Publish the findings").click()
    expect(first.locator(".kb-flash")).to_contain_text("1 finding published")
    assert_accessible(first)

    # A member reads the published finding from the review's page.
    member = page_as(browser, site, "member")
    member.goto(f"{site.url}/reviews/{REVIEW}")
    expect(member.locator(".kb-review-findings")).to_contain_text("Finding 1: Go-live dates came before readiness")
    expect(member.get_by_role("link", name="Open the panel's workspace")).to_have_count(0)
    assert_accessible(member)
    member.goto(f"{site.url}/reviews/{REVIEW}/findings/1")
    expect(member.locator("main")).to_contain_text("The date never moved.")
    assert_accessible(member)
    assert member.goto(f"{site.url}/reviews/{REVIEW}/workspace").status == 404
    for page in (first, second, moderator, member):
        page.context.close()
