"""The panel's hub in Chromium, with axe-core: "My panels", the workspace, handing over the pen, and a phone's width.

A panel member finds the review from "My panels" in the navigation, opens its
workspace and hands a finding's pen to a colleague; the colleague sees it on a
390-pixel-wide screen, where the page does not scroll sideways.
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
from kb.panels.service import FindingText, create_finding
from tests.accounts import make_user
from tests.browser.conftest import app_with_people, serving
from tests.browser.people import Person, Site, assert_accessible, panel_member_page, sign_in
from tests.document_rows import add_document

pytestmark = pytest.mark.browser

REVIEW = "nhs-111-programme-lessons-review"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def hub_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    """The seeded site with one account per role, a second panel member, three findings and a document."""
    app, people, restricted = app_with_people(tmp_path_factory.mktemp("hub"), seeded_database)
    with app.app_context():
        review = db.session.scalar(select(Review).where(Review.slug == REVIEW))
        assert review is not None
        second = make_user("second-panel@example.org", name="Sam Second", panels=(review,))
        for title in (
            "Go-live dates came before providers were ready, and nobody wrote down why the date held",
            "Scripts written for a national service did not know the local services",
            "Ambulance dispatches rose in the first weeks after launch",
        ):
            create_finding(review, FindingText(title, "The panel heard this.", "Do better."), actor=second)
        add_document(review, "Terms of reference for the panel", ["The terms."], commit=False)
        db.session.commit()
        people["second panel"] = Person(second.email)
        db.session.remove()
    with serving(app) as url:
        yield Site(url, people, restricted)


def test_my_panels_leads_to_the_hub_where_the_pen_is_handed_over(browser: Browser, hub_site: Site) -> None:
    site = hub_site
    first = panel_member_page(browser, site, REVIEW)
    # The header may fold "My panels" under "More" when the row is full; it is there either way.
    expect(first.locator("header a[href='/panels']")).to_have_count(1)
    first.goto(f"{site.url}/panels")
    expect(first.get_by_role("heading", level=1)).to_have_text("My panels")
    expect(first.locator(".kb-my-panels")).to_contain_text("Draft: 3")
    assert_accessible(first)

    first.locator(".kb-my-panels a").first.click()
    expect(first.get_by_role("heading", level=1)).to_contain_text("Panel workspace")
    expect(first.locator("#finding-1")).to_contain_text("Sam Second")
    expect(first.locator(".kb-hub-documents")).to_contain_text("Terms of reference for the panel")
    expect(first.locator(".kb-hub-activity")).to_contain_text("Sam Second drafted finding 3")
    assert_accessible(first)

    first.get_by_role("button", name="Take the pen on finding 2").click()
    expect(first.locator(".kb-flash")).to_contain_text("You hold the pen on finding 2.")
    expect(first.locator("#finding-2")).to_contain_text("(you)")
    first.locator("#finding-2 summary").click()
    first.get_by_label("Hand finding 2 to").select_option(label="Sam Second")
    assert_accessible(first)
    first.get_by_role("button", name="Hand over finding 2").click()
    expect(first.locator(".kb-flash")).to_contain_text("Sam Second now holds the pen on finding 2.")
    assert_accessible(first)
    first.context.close()


def test_the_workspace_fits_a_phone(browser: Browser, hub_site: Site) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    sign_in(page, hub_site, "second panel")
    for path in (f"/reviews/{REVIEW}/workspace", "/panels"):
        page.goto(hub_site.url + path)
        expect(page.locator("main h1")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} pixels wide"
        assert_accessible(page)
    # The findings table scrolls inside its own region, which a keyboard can reach.
    region = page.get_by_role("region", name=re.compile("^Findings of"))
    page.goto(f"{hub_site.url}/reviews/{REVIEW}/workspace")
    expect(region).to_have_attribute("tabindex", "0")
    context.close()
