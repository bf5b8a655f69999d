"""A panel member drafts a finding that cites a lesson and a paragraph, in Chromium, with axe-core on every page.

The member drafts and saves a finding, searches for evidence, cites a lesson from the
results and one paragraph of the panel's working note, saves the finding again, and
sees "cited by" on the lesson and the paragraph marked on the paper; the matrix shows
both. Once a moderator agrees it and it is published, a member reads the report, where
the panel-only note is shown only as evidence held by the panel, and sees "cited by" on
the lesson.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import served_site
from tests.browser.people import Site, assert_accessible, page_as, panel_member_page
from tests.web import seed

pytestmark = pytest.mark.browser

REVIEW = "nhs-111-programme-lessons-review"
LESSON = "providers-pressed-to-go-live-before-ready"
LESSON_TITLE = seed.all_documents()[LESSON].title
PANEL_NOTE = "lessons-review-panel-evidence-to-gather"


@pytest.fixture(scope="module")
def finding_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    """The seeded site with one account per role."""
    with served_site(tmp_path_factory.mktemp("findings"), seeded_database) as served:
        yield served


def test_a_panel_member_drafts_a_finding_that_cites_a_lesson(browser: Browser, finding_site: Site) -> None:
    site = finding_site
    panel = panel_member_page(browser, site, REVIEW)
    panel.goto(f"{site.url}/reviews/{REVIEW}/workspace")
    assert_accessible(panel)
    panel.get_by_role("button", name="Draft a new finding").click()
    panel.get_by_label("Title").fill("Providers went live before they were ready")
    panel.get_by_label("Finding", exact=True).fill("Providers told the alliance they were pressed to launch early.")
    panel.get_by_label("Recommendations").fill("Agree a readiness test before any go-live date.")
    panel.get_by_role("button", name="Save finding").click()
    expect(panel).to_have_url(re.compile(r"/findings/1$"))
    expect(panel.locator("#citations")).to_contain_text("This finding cites no evidence yet.")
    assert_accessible(panel)

    # Search, then cite the lesson from the results.
    panel.get_by_label("Find evidence to cite").fill("pressed to go live")
    panel.get_by_role("button", name="Search for evidence").click()
    expect(panel).to_have_url(re.compile(r"/findings/1/cite\?q="))
    result = panel.locator(".kb-cite-result", has=panel.locator(f'a[href="/lessons/{LESSON}"]'))
    expect(result).to_have_count(1)
    assert_accessible(panel)
    result.get_by_role("button", name=re.compile("^Cite")).click()
    expect(panel).to_have_url(re.compile(r"/findings/1#citations$"))
    expect(panel.locator(".kb-flash")).to_contain_text("Finding 1 now cites it")
    expect(panel.locator("#finding-1-note-1")).to_contain_text(LESSON_TITLE)
    assert_accessible(panel)

    # One paragraph of the panel's working note.
    panel.goto(f"{site.url}/reviews/{REVIEW}/findings/1/cite/{PANEL_NOTE}")
    assert_accessible(panel)
    first_paragraph = panel.locator(".kb-cite-paragraph").first
    quoted = first_paragraph.locator("blockquote").inner_text().strip()
    first_paragraph.get_by_role("button", name=re.compile("^Cite")).click()
    expect(panel.locator("#finding-1-note-2")).to_contain_text("Paragraph of")
    expect(panel.locator("#finding-1-note-2 blockquote")).to_contain_text(quoted[:40])

    # Save the finding again: its citations stay.
    panel.goto(f"{site.url}/reviews/{REVIEW}/findings/1/edit")
    panel.get_by_label("Finding", exact=True).fill("Providers said they were pressed to launch before they were ready.")
    panel.get_by_role("button", name="Save finding").click()
    expect(panel.locator(".kb-flash")).to_contain_text("saved as revision 2")
    expect(panel.locator("#citations li.kb-citation")).to_have_count(2)
    assert_accessible(panel)

    # "Cited by" on the lesson, the paragraph marked on the paper, and the matrix.
    panel.goto(f"{site.url}/lessons/{LESSON}")
    expect(panel.locator(".kb-cited-by")).to_contain_text("Cited by finding 1 of")
    assert_accessible(panel)
    panel.goto(f"{site.url}/papers/{PANEL_NOTE}")
    expect(panel.locator(".kb-cited-mark")).to_have_count(1)
    assert_accessible(panel)
    panel.goto(f"{site.url}/reviews/{REVIEW}/matrix")
    expect(panel.locator("table.kb-matrix")).to_contain_text(LESSON_TITLE)
    expect(panel.locator("table.kb-matrix")).to_contain_text("Cited: 1 paragraph")
    assert_accessible(panel)

    # Agreed by a moderator, published, then read by a member.
    panel.goto(f"{site.url}/reviews/{REVIEW}/findings/1")
    panel.get_by_role("button", name="Propose agreeing this finding").click()
    moderator = page_as(browser, site, "moderator")
    moderator.goto(f"{site.url}/reviews/{REVIEW}/findings/1")
    moderator.get_by_role("button", name="Agree this finding").click()
    panel.goto(f"{site.url}/reviews/{REVIEW}/workspace")
    panel.get_by_role("button", name="Publish the findings").click()
    expect(panel.locator(".kb-flash")).to_contain_text("1 finding published")

    member = page_as(browser, site, "member")
    member.goto(f"{site.url}/reviews/{REVIEW}/report")
    expect(member.locator("#finding-1")).to_contain_text("Providers went live before they were ready")
    expect(member.locator("#finding-1-note-1")).to_contain_text(LESSON_TITLE)
    expect(member.locator("#finding-1-note-2")).to_contain_text("Evidence held by the panel")
    expect(member.locator("#finding-1-note-2")).not_to_contain_text(quoted[:40])
    assert_accessible(member)
    member.get_by_role("link", name="Traceability matrix").click()
    expect(member.locator("table.kb-matrix")).to_contain_text("Evidence held by the panel")
    assert_accessible(member)
    member.goto(f"{site.url}/lessons/{LESSON}")
    expect(member.locator(".kb-cited-by")).to_contain_text("Cited by finding 1 of")
    assert_accessible(member)
