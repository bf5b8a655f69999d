"""Pages of documents in Chromium, with axe-core on every page: found by search, then cited from a finding.

A member finds a phrase that occurs only on page 3 of a paper's document: the result names
the document and page and links to the page; someone who may not read a panel-only paper
does not find its pages. A panel member searches for evidence, cites that page from the
results and from the paper's list of pages, and the finding links to the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from kb.extensions import db
from tests.browser.conftest import app_with_people, serving
from tests.browser.people import Site, assert_accessible, page_as, panel_member_page
from tests.document_rows import add_document
from tests.factories import entry

pytestmark = pytest.mark.browser

REVIEW = "nhs-111-programme-lessons-review"
PAPER = "nhs-alliance-discussion-paper"
PANEL_NOTE = "lessons-review-panel-evidence-to-gather"
PHRASE = "heronsgate overflow protocol"
PAGES = ["Agenda and apologies.", "Minutes of the last meeting.", f"Members agreed the {PHRASE} for winter.", "AOB."]


@pytest.fixture(scope="module")
def document_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[tuple[Site, int]]:
    """The seeded site with one account per role, a public paper's minutes and a panel note's scan."""
    app, people, restricted = app_with_people(tmp_path_factory.mktemp("document-pages"), seeded_database)
    with app.app_context():
        minutes = add_document(entry(PAPER), "Winter minutes", PAGES)
        add_document(entry(PANEL_NOTE), "Panel scan", ["Cover.", "The wrenfield escalation was discussed."])
        minutes_id = minutes.id
        db.session.remove()
    with serving(app) as url:
        yield Site(url, people, restricted), minutes_id


def test_a_member_finds_a_phrase_on_page_3_and_the_result_links_to_that_page(
    browser: Browser, document_site: tuple[Site, int]
) -> None:
    site, minutes_id = document_site
    member = page_as(browser, site, "member")
    member.goto(f"{site.url}/search?q=%22{PHRASE.replace(' ', '+')}%22")
    result = member.locator(".kb-result")
    expect(result).to_have_count(1)
    page_link = result.get_by_role("link", name="In Winter minutes, page 3")
    expect(page_link).to_have_attribute("href", f"/papers/{PAPER}/documents/{minutes_id}#page-3")
    expect(result.locator(".kb-result__pages mark")).to_have_count(3)
    assert_accessible(member)
    member.goto(f"{site.url}/search?q=wrenfield")
    expect(member.locator(".kb-result")).to_have_count(0)


def test_a_panel_member_cites_the_page_from_the_evidence_search(
    browser: Browser, document_site: tuple[Site, int]
) -> None:
    site, minutes_id = document_site
    panel = panel_member_page(browser, site, REVIEW)
    panel.goto(f"{site.url}/reviews/{REVIEW}/workspace")
    panel.get_by_role("button", name="Draft a new finding").click()
    panel.get_by_label("Title").fill("Winter plans were agreed late")
    panel.get_by_label("Finding", exact=True).fill("The overflow protocol was agreed only in the winter.")
    panel.get_by_label("Recommendations").fill("Agree winter plans by the summer.")
    panel.get_by_role("button", name="Save finding").click()
    expect(panel).to_have_url(re.compile(r"/findings/\d+$"))
    finding = panel.url.removeprefix(site.url)

    panel.get_by_label("Find evidence to cite").fill("wrenfield")
    panel.get_by_role("button", name="Search for evidence").click()
    expect(panel.locator(".kb-cite-result")).to_contain_text("In Panel scan, page 2")
    panel.get_by_label("Search lessons, papers and their discussions").fill(PHRASE)
    panel.locator("#maincontent").get_by_role("button", name="Search", exact=True).click()
    assert_accessible(panel)
    panel.get_by_role("button", name="Cite page 3 of Winter minutes").click()
    expect(panel).to_have_url(re.compile(r"#citations$"))
    cited = panel.locator("#finding-1-note-1").get_by_role("link", name="Page 3 of Winter minutes")
    expect(cited).to_have_attribute("href", f"/papers/{PAPER}/documents/{minutes_id}#page-3")
    assert_accessible(panel)

    panel.goto(f"{site.url}{finding}/cite/{PAPER}")
    pages = panel.locator(".kb-cite-page")
    expect(pages).to_have_count(len(PAGES))
    expect(pages.nth(2)).to_contain_text("Already cited")
    assert_accessible(panel)
    pages.nth(1).get_by_role("button", name="Cite page 2 of Winter minutes").click()
    expect(panel.locator("#finding-1-note-2")).to_contain_text("Page 2 of Winter minutes")
