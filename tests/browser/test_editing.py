"""Staff editors and the live preview in Chromium: typing shows the preview, the new pages pass axe."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.people import Site, assert_accessible

pytestmark = pytest.mark.browser

REVIEW_EDIT = "/reviews/nhs-111-sustainability-review/edit"


def test_typing_in_a_lesson_section_shows_the_live_preview(site: Site, as_role: Callable[[str], Page]) -> None:
    member = as_role("member")
    member.goto(site.url + "/lessons/new")
    field = member.get_by_label("Driving event")
    preview = member.locator(".kb-live-preview").first
    expect(preview.locator("[aria-live=polite]")).to_contain_text("Nothing to preview yet.")
    field.press_sequentially("Calls were **slow** <script>document.title='x'</script>")
    expect(preview.locator("strong")).to_have_text("slow")
    expect(preview).to_contain_text("<script>")
    expect(member).not_to_have_title("x")
    field.fill("- one\n- two")
    expect(preview.locator("li")).to_have_count(2)
    assert_accessible(member)


def test_a_moderator_writes_a_paper_with_the_live_preview(site: Site, as_role: Callable[[str], Page]) -> None:
    moderator = as_role("moderator")
    moderator.goto(site.url + "/papers")
    moderator.get_by_role("link", name="Add a meeting paper").click()
    expect(moderator.get_by_role("heading", level=1)).to_have_text("Add a meeting paper")
    assert_accessible(moderator)
    moderator.get_by_label("Title", exact=True).first.fill("Programme board minutes of July")
    moderator.get_by_label("Summary").fill("What the board agreed about call handling in July.")
    moderator.get_by_label("Meeting", exact=True).fill("NHS 111 programme board")
    moderator.get_by_label("Meeting date").fill("2013-07-03")
    moderator.get_by_label("Type of paper").select_option(label="Minutes")
    moderator.get_by_label("Text", exact=True).press_sequentially("The board agreed to *weekly* reports.")
    expect(moderator.locator(".kb-live-preview em")).to_have_text("weekly")
    moderator.get_by_role("button", name="Save meeting paper").click()
    expect(moderator.locator(".kb-flash")).to_contain_text("was created")
    expect(moderator.get_by_role("heading", level=1)).to_contain_text("Programme board minutes of July")
    expect(moderator.locator("main em")).to_have_text("weekly")


def test_the_review_editors_pass_axe_with_and_without_errors(site: Site, as_role: Callable[[str], Page]) -> None:
    admin = as_role("admin")
    admin.goto(site.url + "/reviews/new")
    assert_accessible(admin)
    admin.get_by_label("Terms of reference").fill("Only the **launch** weekend.")
    admin.get_by_role("button", name="Save review").click()
    expect(admin).to_have_title(re.compile(r"^Error: "))
    expect(admin.locator(".nhsuk-error-summary")).to_contain_text("Enter a title.")
    expect(admin.get_by_label("Terms of reference")).to_have_value("Only the **launch** weekend.")
    assert_accessible(admin)
    admin.goto(site.url + REVIEW_EDIT)
    expect(admin.get_by_role("heading", name="Panel")).to_be_visible()
    admin.get_by_role("button", name="Preview", exact=True).click()
    expect(admin.locator(".kb-preview")).to_be_visible()
    assert_accessible(admin)
