"""A reader's journey in a real browser: home, a theme, a lesson, its history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_home_to_theme_to_lesson_to_history(live_server: str, page: Page) -> None:
    page.goto(live_server + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Learning from what went wrong")
    expect(page.locator(".nhsuk-header__service-name")).to_contain_text("kb")
    assert page.locator("svg.nhsuk-header__logo").count() == 0

    page.get_by_role("link", name="Procurement and tender evaluation").first.click()
    expect(page).to_have_url(re.compile(r"/themes/procurement$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Procurement and tender evaluation")

    page.locator(".kb-entry-list a[href^='/lessons/']").first.click()
    expect(page).to_have_url(re.compile(r"/lessons/[a-z0-9-]+$"))
    section_headings = page.locator(".kb-section h2").all_inner_texts()
    assert section_headings == ["Driving event", "Lesson", "Recommendation", "Evidence"]
    expect(page.get_by_role("heading", name="Related entries")).to_be_visible()
    expect(page.locator(".kb-related")).to_contain_text("this lesson was drawn from it")

    page.get_by_role("link", name=re.compile(r"^History")).click()
    expect(page).to_have_url(re.compile(r"/lessons/[a-z0-9-]+/history$"))
    expect(page.get_by_role("link", name="Revision 1")).to_be_visible()
    page.get_by_role("button", name="Compare revisions").click()
    expect(page).to_have_url(re.compile(r"/compare\?from=1&to=1$"))
    expect(page.get_by_text("These two revisions are the same.")).to_be_visible()


def test_list_filters_work_without_javascript(live_server: str, browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/lessons")
    total_text = page.locator(".kb-result-count").inner_text()
    page.select_option("#filter-region", "North West")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"region=North\+West"))
    filtered_text = page.locator(".kb-result-count").inner_text()
    assert "matching the filters" in filtered_text
    assert filtered_text != total_text
    regions = page.locator(".kb-entry-item__meta").all_inner_texts()
    assert regions
    assert all("North West" in text for text in regions)
    context.close()


def test_keyboard_user_can_skip_to_content(live_server: str, page: Page) -> None:
    page.goto(live_server + "/lessons")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#maincontent$"))


@pytest.mark.parametrize("path", ["/", "/lessons", "/lessons/procurement-weighted-towards-cost", "/themes"])
def test_pages_load_everything_from_kb_itself(live_server: str, page: Page, path: str) -> None:
    requested: list[str] = []
    failed: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    page.goto(live_server + path)
    page.wait_for_load_state("networkidle")
    assert requested, "the page made no requests at all"
    elsewhere = [url for url in requested if not url.startswith(live_server)]
    assert elsewhere == [], f"requests left kb: {elsewhere}"
    assert failed == [], f"requests failed: {failed}"
    assert any(re.search(r"/static/build/nhsuk\.[0-9a-f]{10}\.css$", url) for url in requested)
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Frutiger" not in font
