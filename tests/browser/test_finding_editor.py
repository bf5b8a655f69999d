"""The finding editor's citation picker in Chromium: chosen with the keyboard, its note marker typed at the cursor.

A panel member drafts a finding, places the cursor after a claim, opens the picker from the
keyboard, searches, cites a lesson, and finds `[^1]` at the cursor and a linked note 1 in
the live preview. axe-core checks the editor with the picker open and showing results.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import served_site
from tests.browser.people import Site, assert_accessible, panel_member_page
from tests.web import seed

pytestmark = pytest.mark.browser

REVIEW = "nhs-111-programme-lessons-review"
LESSON = "providers-pressed-to-go-live-before-ready"
LESSON_TITLE = seed.all_documents()[LESSON].title
CLAIM = "Providers were pressed to launch."
REST = " Dates held regardless."


@pytest.fixture(scope="module")
def editor_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    """The seeded site with one account per role."""
    with served_site(tmp_path_factory.mktemp("editor"), seeded_database) as served:
        yield served


def test_a_citation_picked_with_the_keyboard_puts_its_marker_at_the_cursor(browser: Browser, editor_site: Site) -> None:
    site = editor_site
    panel = panel_member_page(browser, site, REVIEW)
    panel.goto(f"{site.url}/reviews/{REVIEW}/findings/new")
    panel.get_by_label("Title").fill("Go-live came first")
    panel.get_by_label("Finding", exact=True).fill(CLAIM + REST)
    panel.get_by_role("button", name="Save finding").click()
    expect(panel).to_have_url(re.compile(r"/findings/\d+$"))
    number = panel.url.rsplit("/", 1)[1]
    panel.get_by_role("link", name=f"Edit finding {number}").click()

    # Without script the editor links to the cite pages; with it, the picker's button takes their place.
    expect(panel.get_by_role("link", name=re.compile("^Find evidence to cite"))).to_be_hidden()
    text = panel.get_by_label("Finding", exact=True)
    text.focus()
    panel.keyboard.press("Control+Home")
    for _ in CLAIM:
        panel.keyboard.press("ArrowRight")
    panel.keyboard.press("Shift+Tab")
    opener = panel.get_by_role("button", name="Cite evidence at the cursor")
    expect(opener).to_be_focused()
    panel.keyboard.press("Enter")

    picker = panel.get_by_role("dialog", name="Cite evidence")
    expect(picker).to_be_visible()
    search = picker.get_by_label("Search lessons, papers and their discussions")
    expect(search).to_be_focused()
    expect(picker).to_contain_text("Papers and evidence of this review")
    panel.keyboard.type("pressed to go live")
    panel.keyboard.press("Enter")
    expect(picker.locator(".kb-picker__heading")).to_be_focused()
    cite = picker.get_by_role("button", name=f"Cite {LESSON_TITLE}")
    expect(cite).to_be_visible()
    assert_accessible(panel)

    cite.focus()
    panel.keyboard.press("Enter")
    expect(picker).to_be_hidden()
    expect(text).to_be_focused()
    expect(text).to_have_value(f"{CLAIM}[^1]{REST}")
    assert text.evaluate("field => field.selectionStart") == len(CLAIM) + len("[^1]")
    expect(panel.locator("[data-kb-notes-list] li")).to_have_count(1)
    reference = panel.locator(".kb-live-preview__body sup.kb-note-ref a").first
    expect(reference).to_have_text("1")
    expect(reference).to_have_attribute("href", f"#finding-{number}-note-1")

    panel.get_by_role("button", name="Save finding").click()
    expect(panel).to_have_url(re.compile(rf"/findings/{number}$"))
    saved = panel.locator(f"#finding-{number}-ref-1")
    expect(saved).to_have_text("1")
    expect(panel.locator(f"#finding-{number}-note-1")).to_contain_text(LESSON_TITLE)
    assert_accessible(panel)


def test_the_warning_that_saving_withdraws_agreement_comes_when_the_text_changes(
    browser: Browser, editor_site: Site
) -> None:
    site = editor_site
    panel = panel_member_page(browser, site, REVIEW)
    panel.goto(f"{site.url}/reviews/{REVIEW}/findings/new")
    panel.get_by_label("Title").fill("Dates were fixed early")
    panel.get_by_label("Finding", exact=True).fill("The launch date was set before the providers were asked.")
    panel.get_by_role("button", name="Save finding").click()
    number = panel.url.rsplit("/", 1)[1]
    panel.get_by_role("button", name="Propose agreeing this finding").click()
    panel.get_by_role("link", name=f"Edit finding {number}").click()
    warning = panel.locator("#merged-form .kb-agreement-warning", has_text="withdraws the proposal")
    expect(panel.get_by_role("dialog")).to_be_hidden()
    expect(warning).to_have_count(0)
    panel.get_by_label("Finding", exact=True).press("End")
    panel.keyboard.type(" Nobody wrote down why.")
    expect(warning).to_be_visible()
    assert_accessible(panel)
