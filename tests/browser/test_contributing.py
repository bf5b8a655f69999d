"""A lesson's way from draft to published in Chromium: a member writes, a moderator publishes.

Every page on the way is checked with axe-core.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.people import Site, axe_blocking

pytestmark = pytest.mark.browser

TITLE = "Test calls before launch need real callers"


def _no_axe_violations(page: Page) -> None:
    report = axe_blocking(page)
    assert not report, f"{page.url}\n{report}"


def _write_lesson(page: Page, site: Site) -> None:
    page.goto(site.url + "/lessons/new")
    _no_axe_violations(page)
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Summary").fill("Rehearsals with staff did not show how the public would use the line.")
    page.get_by_label("Driving event").fill("The line went live after tests with **staff** only.")
    page.get_by_label("Lesson", exact=True).fill("Members of the public behave differently from staff.")
    page.get_by_label("Recommendation").fill("- Rehearse with members of the public\n- Measure call times")
    page.get_by_label("Evidence").fill("Reported at the time; see [[nhs-alliance-discussion-paper]].")
    page.get_by_label("Region").select_option("South West")
    page.get_by_role("button", name="Preview").click()


def test_a_member_writes_a_lesson_and_a_moderator_publishes_it(site: Site, as_role: Callable[[str], Page]) -> None:
    member = as_role("member")
    _write_lesson(member, site)
    preview = member.locator(".kb-preview")
    expect(preview.locator("strong")).to_have_text("staff")
    expect(preview.locator("li")).to_have_count(2)
    _no_axe_violations(member)
    expect(member.get_by_label("Title")).to_have_value(TITLE)
    member.get_by_role("button", name="Submit for publication").click()
    expect(member.locator(".kb-flash")).to_contain_text("was sent to the moderators")
    lesson_path = re.sub(r"^https?://[^/]+", "", member.url).split("?")[0]
    if not lesson_path.startswith("/lessons/"):
        member.goto(site.url + "/account/contributions")
        lesson_path = member.get_by_role("link", name=TITLE).first.get_attribute("href") or ""
    assert lesson_path.startswith("/lessons/")

    anonymous = as_role("anonymous")
    assert anonymous.goto(site.url + lesson_path).status == 404

    moderator = as_role("moderator")
    moderator.goto(site.url + "/moderation")
    expect(moderator.locator("main")).to_contain_text(TITLE)
    _no_axe_violations(moderator)
    panel = moderator.locator(".kb-moderation").first
    panel.get_by_label("Everyone").check()
    panel.get_by_role("button", name="Publish").click()
    expect(moderator.locator(".kb-flash")).to_be_visible()

    assert anonymous.goto(site.url + lesson_path).status == 200
    expect(anonymous.get_by_role("heading", level=1)).to_contain_text(TITLE)

    member.goto(site.url + "/account/contributions")
    expect(member.locator("main")).to_contain_text("Published")
    _no_axe_violations(member)


def test_a_moderator_edits_a_document_and_sees_a_conflict_instead_of_overwriting(
    site: Site, as_role: Callable[[str], Page]
) -> None:
    path = "/papers/nhs-alliance-discussion-paper/edit-file"
    first, second = as_role("moderator"), as_role("admin")
    first.goto(site.url + path)
    _no_axe_violations(first)
    second.goto(site.url + path)
    document = first.get_by_label("Document")
    document.fill(document.input_value().replace("\ntitle: ", "\ntitle: Revised ", 1))
    first.get_by_role("button", name="Save").click()
    expect(first.get_by_role("heading", level=1)).to_contain_text("Revised")

    mine = second.get_by_label("Document")
    mine.fill(mine.input_value() + "\nA paragraph the admin added.\n")
    second.get_by_role("button", name="Save").click()
    expect(second.get_by_role("heading", name="What changed while you were editing")).to_be_visible()
    expect(second.locator("main")).to_contain_text("Revised")
    expect(second.get_by_label("Document")).to_have_value(re.compile("A paragraph the admin added."))
    _no_axe_violations(second)
