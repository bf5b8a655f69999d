"""Search in Chromium: the header box, facets, keyboard use, who finds what, and a clean page load.

Screenshots of the search pages at desktop and phone widths go to /tmp/kb-search-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TypedDict

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Request, Response, expect

from tests.browser.people import Site, axe_blocking

pytestmark = pytest.mark.browser

QUERY = "procurement"
MEMBERS_ONLY_LESSON = "/lessons/good-idea-badly-implemented"
"""The seed's one `visibility: members` entry: 'good idea badly implemented', in Dr Dixon's words."""
MEMBERS_ONLY_QUERY = "badly implemented"
PANEL_QUERY = "panel"
"""Finds the panel's working papers, which only that review's panel may read."""
SCREENSHOTS = Path("/tmp")
WIDTHS = {"desktop": 1280, "mobile": 375}
NARROW = 769
"""Below this width (48.0525em) the search filters start folded so the results come first."""
HEADER_SEARCH_WITHIN_TABS = 3
"""Skip link, the service name, then the header search box."""
MAX_TABS = 250
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

# Search pages in each state worth checking (also listed in test_accessibility.py), and pages with the header.
SEARCH_PAGES = {
    "results": "/search?q=procurement",
    "two facets": "/search?q=procurement&kind=lesson&tag=cost-versus-quality",
    "no results": "/search?q=xyzzyqq",
    "did you mean": "/search?q=crash+OR+tendr",
    "corrected spelling": "/search?q=chalenge",
    "unreadable query": '/search?q="pressure+to+go',
    "second page": "/search?q=procurement&page=2",
    "browse": "/search",
    "help": "/search/help",
    "lesson with related lists": "/lessons/north-west-service-failed-within-hours",
}
KEYBOARD_PAGES = {
    "home": "/",
    "lesson list": "/lessons",
    "lesson": "/lessons/procurement-weighted-towards-cost",
    "paper": "/papers/nhs-alliance-discussion-paper",
    "themes": "/themes",
    "tag": "/tags/cost-versus-quality",
    "search results": "/search?q=procurement",
    "search browse": "/search",
    "search help": "/search/help",
    "sign in": "/login",
    "not found": "/lessons/no-such-lesson",
}

# The computed styles that can show focus: an outline, a box shadow, a background, colour or underline.
_FOCUS_STYLE_JS = """element => {
  const style = getComputedStyle(element);
  const noOutline = style.outlineStyle === 'none' || parseFloat(style.outlineWidth) === 0
    || style.outlineColor === 'rgba(0, 0, 0, 0)';
  const outline = noOutline ? 'none' : `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`;
  return [outline, style.boxShadow, style.backgroundColor, style.color, style.textDecorationLine,
          style.textDecorationThickness, style.borderColor].join(' | ');
}"""
_FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]"
_REMEMBER_UNFOCUSED_JS = f"""() => {{
  const styleOf = {_FOCUS_STYLE_JS};
  document.querySelectorAll({_FOCUSABLE!r}).forEach(element => {{
    element.dataset.kbUnfocused = styleOf(element);
  }});
}}"""
_FOCUSED_JS = f"""() => {{
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const styleOf = {_FOCUS_STYLE_JS};
  return {{
    id: element.id,
    tag: element.tagName.toLowerCase(),
    href: element.getAttribute('href') || '',
    text: (element.innerText || element.value || '').trim().slice(0, 60),
    inMain: !!element.closest('main'),
    inFacets: !!element.closest('nav.kb-facets'),
    inSort: !!element.closest('.kb-sort'),
    unfocused: element.dataset.kbUnfocused || null,
    focused: styleOf(element),
  }};
}}"""
_RECORD_CSP_VIOLATIONS_JS = """
window.kbCspViolations = [];
document.addEventListener('securitypolicyviolation', event => {
  window.kbCspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
});
"""


class Focus(TypedDict):
    """What `_FOCUSED_JS` reports about the focused element."""

    id: str
    tag: str
    href: str
    text: str
    inMain: bool
    inFacets: bool
    inSort: bool
    unfocused: str | None
    focused: str


class Found(NamedTuple):
    """What one reader found: a search's total and result paths, all lessons, and a search for panel papers."""

    total: int
    paths: list[str]
    lessons: int
    panel_paths: list[str]


def _result_total(page: Page) -> int:
    """The number of results the page says it found: 'Showing 1 to 10 of 14 results.' is 14."""
    text = " ".join(page.locator(".kb-result-count").inner_text().split())
    if text.startswith("No "):
        return 0
    match = re.search(r"of (\d+) (?:results?|entr(?:y|ies))", text)
    assert match, f"no total in the result count {text!r}"
    return int(match.group(1))


def _facet_link(page: Page, facet: str, value: str | re.Pattern[str]) -> Locator:
    """The link for one value under one facet heading (e.g. Type, Lesson) in the facet navigation."""
    group = page.locator("nav.kb-facets .kb-facet").filter(has=page.get_by_role("heading", name=facet, exact=True))
    return group.get_by_role("link", name=value, exact=True)


def _result_paths(page: Page) -> list[str]:
    return [
        href or ""
        for href in page.locator("ol.kb-results .kb-result__title a").evaluate_all(
            "links => links.map(link => link.getAttribute('href'))"
        )
    ]


def _result_months(page: Page) -> list[tuple[int, int]]:
    """The (year, month) of each result on the page from '1 April 2013', 'May 2013' or '2013' (month 0)."""
    months: list[tuple[int, int]] = []
    for meta in page.locator("ol.kb-results .kb-entry-item__meta").all_inner_texts():
        match = re.search(rf"(?:\b({'|'.join(MONTHS)}) )?\b(\d{{4}})\b", meta)
        assert match, f"no date in {meta!r}"
        months.append((int(match.group(2)), MONTHS.index(match.group(1)) + 1 if match.group(1) else 0))
    return months


def _tab_until(page: Page, wanted: Callable[[Focus], bool], limit: int) -> list[Focus]:
    """Press Tab until the focused element is `wanted`; every element focused on the way, last one wanted."""
    visited: list[Focus] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused: Focus | None = page.evaluate(_FOCUSED_JS)
        if focused is None:
            continue
        visited.append(focused)
        if wanted(focused):
            return visited
    raise AssertionError(
        f"not reached in {limit} presses of Tab; focus went {[v['text'] or v['tag'] for v in visited]}"
    )


def _shows_focus(focused: Focus) -> bool:
    """Whether the focused element looks different from how it looked before anything had focus."""
    return focused["unfocused"] is not None and focused["focused"] != focused["unfocused"]


def _open_every_visible_fold(page: Page) -> None:
    """Click each closed `<details>` summary a reader can see, outer ones first."""
    for summary in page.locator("details:not([open]) > summary").all():
        if summary.is_visible():
            summary.click()


def _no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]}px wide in a {widths[1]}px window at {page.url}"


def test_a_reader_searches_from_the_header_narrows_by_two_facets_and_opens_a_result(
    live_server: str, page: Page
) -> None:
    page.goto(live_server + "/")
    _tab_until(page, lambda focused: focused["id"] == "search-field", HEADER_SEARCH_WITHIN_TABS)
    page.keyboard.type(QUERY)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/search\?q={QUERY}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search results")
    expect(page).to_have_title(re.compile(f"Search results for “{QUERY}”"))
    expect(page.get_by_label("Search lessons, reviews and meeting papers")).to_have_value(QUERY)
    expect(page.locator("#search-field")).to_have_value(QUERY)
    marks = page.locator("ol.kb-results mark")
    expect(marks.first).to_be_visible()
    assert all(re.fullmatch(r"procur\w*", text, re.IGNORECASE) for text in marks.all_inner_texts())
    expect(page.locator("ol.kb-results > li.kb-result").first.locator(".kb-result__snippet mark").first).to_be_visible()
    everything = _result_total(page)
    expect(page.get_by_role("heading", name="Filters in use")).to_have_count(0)

    _facet_link(page, "Type", "Lesson").click()
    expect(page).to_have_url(re.compile(r"kind=lesson"))
    lessons = _result_total(page)
    assert 0 < lessons < everything
    chosen_type = _facet_link(page, "Type", re.compile(r"Remove filter: Lesson$"))
    expect(chosen_type).to_have_attribute("aria-current", "true")
    kinds = page.locator("ol.kb-results .kb-entry-item__meta .nhsuk-tag").all_inner_texts()
    assert kinds
    assert set(kinds) == {"Lesson"}

    _facet_link(page, "Tag", "Cost versus quality weighting").click()
    expect(page).to_have_url(re.compile(r"kind=lesson.*tag=cost-versus-quality|tag=cost-versus-quality.*kind=lesson"))
    both = _result_total(page)
    assert 0 < both < lessons
    expect(page.locator(".kb-result-count")).to_contain_text("matching the filters")
    expect(page.get_by_role("heading", name="Filters in use")).to_be_visible()
    expect(page.locator(".kb-chosen-filter")).to_have_text(
        [re.compile(r"Type: Lesson"), re.compile(r"Tag: Cost versus quality weighting")]
    )
    expect(page.get_by_label("Search lessons, reviews and meeting papers")).to_have_value(QUERY)
    for path in _result_paths(page):
        assert path.startswith("/lessons/"), path

    page.get_by_role("link", name="Remove filter Type: Lesson", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"kind="))
    expect(page.locator(".kb-chosen-filter")).to_have_text([re.compile(r"Tag: Cost versus quality weighting")])
    tagged = _result_total(page)
    assert both < tagged < everything

    first = page.locator("ol.kb-results .kb-result__title a").first
    title = " ".join(first.inner_text().split())
    path = first.get_attribute("href") or ""
    first.click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_a_chosen_facet_is_announced_as_remove_filter_without_the_decorative_tick(live_server: str, page: Page) -> None:
    page.goto(live_server + "/search?q=procurement&kind=lesson")
    chosen = page.locator("nav.kb-facets a[aria-current='true']")
    expect(chosen).to_have_count(1)
    expect(chosen).to_have_accessible_name("Remove filter: Lesson")
    expect(page.locator(".kb-chosen-filter")).to_have_accessible_name("Remove filter Type: Lesson")


def test_search_results_with_every_facet_value_open_pass_axe(live_server: str, page: Page) -> None:
    page.goto(live_server + "/search?q=procurement")
    _open_every_visible_fold(page)
    expect(page.locator("details.kb-facet__more .kb-facet__link").first).to_be_visible()
    report = axe_blocking(page)
    assert not report, report


def test_a_lesson_page_lists_related_entries_once_under_headings_reached_by_keyboard(
    live_server: str, page: Page
) -> None:
    page.goto(live_server + SEARCH_PAGES["lesson with related lists"])
    related = page.get_by_role("region", name="Related entries")
    expect(related).to_have_count(1)
    expect(related.get_by_role("heading", level=3)).not_to_have_count(0)
    expect(related.get_by_role("list", name="The same problem in another region or year")).to_be_visible()
    expect(related.get_by_role("list", name="Similar entries")).to_be_visible()
    hrefs = related.locator("a[href^='/lessons/'], a[href^='/papers/'], a[href^='/reviews/']").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    entries = [href for href in hrefs if re.fullmatch(r"/(lessons|papers|reviews)/[a-z0-9-]+", href)]
    assert entries
    assert len(entries) == len(set(entries)), entries
    page.evaluate(_REMEMBER_UNFOCUSED_JS)
    last_href = related.locator("a[href^='/']").last.get_attribute("href")
    in_related = "() => !!document.activeElement.closest('.kb-related')"
    visited = _tab_until(page, lambda focused: focused["href"] == last_href and page.evaluate(in_related), 300)
    assert _shows_focus(visited[-1])
    report = axe_blocking(page)
    assert not report, report


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_search_pages_fit_the_window_at_desktop_and_phone_widths(
    browser: Browser, live_server: str, width: int
) -> None:
    name = next(key for key, value in WIDTHS.items() if value == width)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(live_server + "/")
        header_search = page.get_by_role("searchbox", name="Search kb")
        expect(header_search).to_be_visible()
        expect(page.get_by_role("button", name="Search", exact=True)).to_be_visible()
        box = header_search.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width
        _no_horizontal_scroll(page)
        page.screenshot(path=str(SCREENSHOTS / f"kb-search-home-{name}.png"))

        page.goto(live_server + "/search?q=procurement&kind=lesson")
        expect(page.locator("ol.kb-results")).to_be_visible()
        expect(page.locator(".kb-chosen-filter")).to_be_visible()
        fold = page.locator("summary.kb-facets-fold__summary")
        if width < NARROW:
            expect(page.locator("nav.kb-facets")).to_be_hidden()
            expect(fold).to_have_text("Narrow the results (1 chosen)")
            page.screenshot(path=str(SCREENSHOTS / f"kb-search-results-{name}.png"))
            fold.click()
            page.screenshot(path=str(SCREENSHOTS / f"kb-search-results-{name}-filters-open.png"))
        else:
            expect(fold).to_be_hidden()
            page.screenshot(path=str(SCREENSHOTS / f"kb-search-results-{name}.png"))
        expect(page.locator("nav.kb-facets")).to_be_visible()
        _no_horizontal_scroll(page)
        page.screenshot(path=str(SCREENSHOTS / f"kb-search-results-{name}-full.png"), full_page=True)

        page.goto(live_server + SEARCH_PAGES["lesson with related lists"])
        expect(page.get_by_role("heading", name="The same problem in another region or year")).to_be_visible()
        expect(page.get_by_role("heading", name="Similar entries")).to_be_visible()
        _no_horizontal_scroll(page)
        page.get_by_role("heading", name="Related entries").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"kb-search-related-{name}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("path", KEYBOARD_PAGES.values(), ids=KEYBOARD_PAGES.keys())
def test_tab_reaches_the_header_search_box_early_and_shows_focus(live_server: str, page: Page, path: str) -> None:
    page.goto(live_server + path)
    page.evaluate(_REMEMBER_UNFOCUSED_JS)
    visited = _tab_until(page, lambda focused: focused["id"] == "search-field", HEADER_SEARCH_WITHIN_TABS)
    assert all(_shows_focus(focused) for focused in visited), [f for f in visited if not _shows_focus(f)]
    expect(page.get_by_role("searchbox", name="Search kb")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("header").get_by_role("button", name="Search", exact=True)).to_be_focused()
    assert _shows_focus(page.evaluate(_FOCUSED_JS))


def test_facet_and_sort_links_are_reached_by_keyboard_with_visible_focus(live_server: str, page: Page) -> None:
    page.goto(live_server + "/search?q=procurement")
    page.evaluate(_REMEMBER_UNFOCUSED_JS)
    visited = _tab_until(page, lambda focused: focused["text"] == "oldest first" and focused["inSort"], MAX_TABS)
    facet_links = [focused["text"] for focused in visited if focused["inFacets"] and focused["tag"] == "a"]
    assert {"Lesson", "England", "2013"} <= set(facet_links), facet_links
    assert any(focused["tag"] == "summary" and focused["inFacets"] for focused in visited), "no 'more' toggle"
    assert [focused["text"] for focused in visited if focused["inSort"]] == ["newest first", "oldest first"]
    hidden_focus = [focused for focused in visited if focused["inMain"] and not _shows_focus(focused)]
    assert not hidden_focus, hidden_focus


def test_a_keyboard_user_chooses_a_facet_and_a_sort_order_with_enter(live_server: str, page: Page) -> None:
    page.goto(live_server + "/search?q=procurement")
    everything = _result_total(page)
    _tab_until(page, lambda focused: focused["text"] == "North West" and focused["inFacets"], MAX_TABS)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"region=north-west"))
    assert _result_total(page) < everything
    expect(page.locator(".kb-chosen-filter")).to_have_text([re.compile("Region: North West")])

    page.goto(live_server + "/search?q=procurement")
    _tab_until(page, lambda focused: focused["text"] == "oldest first" and focused["inSort"], MAX_TABS)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"sort=oldest"))
    expect(page.locator(".kb-sort strong[aria-current]")).to_have_text("oldest first")
    assert _result_total(page) == everything
    months = _result_months(page)
    assert months == sorted(months), months
    assert months[0] < months[-1], months


def test_the_facet_more_toggle_opens_with_the_keyboard(live_server: str, page: Page) -> None:
    page.goto(live_server + "/search?q=procurement")
    hidden = page.locator("details.kb-facet__more .kb-facet__link").first
    expect(hidden).to_be_hidden()
    _tab_until(page, lambda focused: focused["tag"] == "summary" and focused["inFacets"], MAX_TABS)
    page.keyboard.press("Enter")
    expect(hidden).to_be_visible()
    page.keyboard.press("Tab")
    expect(hidden).to_be_focused()


def test_a_misspelt_search_says_did_you_mean_and_the_suggestion_finds_more(live_server: str, page: Page) -> None:
    page.goto(live_server + SEARCH_PAGES["did you mean"])
    note = page.locator(".kb-search-notes")
    expect(note).to_contain_text("Did you mean crash OR tender?")
    few = _result_total(page)
    note.get_by_role("link", name="crash OR tender").click()
    expect(page.get_by_label("Search lessons, reviews and meeting papers")).to_have_value("crash OR tender")
    assert _result_total(page) > few


def test_a_search_with_no_matches_shows_the_corrected_spelling_and_offers_the_words_typed(
    live_server: str, page: Page
) -> None:
    page.goto(live_server + SEARCH_PAGES["corrected spelling"])
    note = page.locator(".kb-search-notes")
    expect(note).to_contain_text("No entries match “chalenge”. Showing results for “challenge”.")
    assert _result_total(page) > 0
    expect(page.locator("ol.kb-results mark").first).to_have_text(re.compile("challeng", re.IGNORECASE))
    note.get_by_role("link", name="Search for “chalenge” instead").click()
    expect(page.locator(".kb-result-count")).to_have_text("No results.")
    expect(page.get_by_role("link", name="how to write a search")).to_be_visible()

    page.goto(live_server + SEARCH_PAGES["no results"])
    expect(page.locator(".kb-result-count")).to_have_text("No results.")
    expect(page.locator("ol.kb-results")).to_have_count(0)


def test_search_pages_named_for_the_accessibility_checks_show_what_they_are_named_for(
    live_server: str, page: Page
) -> None:
    page.goto(live_server + SEARCH_PAGES["unreadable query"])
    expect(page.locator(".kb-search-notes")).to_be_visible()
    expect(page.locator(".kb-search-notes").get_by_role("link", name="How to write a search")).to_be_visible()
    page.goto(live_server + SEARCH_PAGES["second page"])
    expect(page.locator(".kb-result-count")).to_contain_text("Showing 11 to")
    expect(page.locator(".nhsuk-pagination")).to_be_visible()
    page.goto(live_server + SEARCH_PAGES["browse"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Search and browse")
    expect(page.get_by_role("heading", name="Browse by")).to_be_visible()
    page.goto(live_server + SEARCH_PAGES["help"])
    expect(page.get_by_role("heading", level=1)).to_have_text("How to search")


def test_a_member_finds_members_only_entries_an_anonymous_reader_does_not(
    site: Site, as_role: Callable[[str], Page]
) -> None:
    found: dict[str, Found] = {}
    for role in ("anonymous", "member", "panel"):
        page = as_role(role)
        page.goto(site.url + "/")
        header_search = page.get_by_role("searchbox", name="Search kb")
        header_search.fill(MEMBERS_ONLY_QUERY)
        header_search.press("Enter")
        expect(page).to_have_url(re.compile(r"/search\?q=badly\+implemented$"))
        expect(page.locator(".kb-result-count")).to_be_visible()
        total, paths = _result_total(page), _result_paths(page)
        page.goto(site.url + "/search?kind=lesson")
        lessons = _result_total(page)
        page.goto(site.url + "/search?q=" + PANEL_QUERY)
        found[role] = Found(total, paths, lessons, _result_paths(page))

    anonymous, member, panel = found["anonymous"], found["member"], found["panel"]
    assert MEMBERS_ONLY_LESSON not in anonymous.paths
    assert MEMBERS_ONLY_LESSON in member.paths
    assert member.total == anonymous.total + 1
    assert member.lessons == anonymous.lessons + 1
    assert site.restricted["panel"] in panel.panel_paths, "the panel's own paper is not found even by the panel"
    assert site.restricted["panel"] not in member.panel_paths
    assert site.restricted["panel"] not in anonymous.panel_paths

    reader = as_role("member")
    reader.goto(site.url + "/search?q=" + MEMBERS_ONLY_QUERY.replace(" ", "+"))
    report = axe_blocking(reader)
    assert not report, report
    reader.locator(f"ol.kb-results a[href='{MEMBERS_ONLY_LESSON}']").click()
    expect(reader.get_by_role("heading", level=1)).to_contain_text("good idea badly implemented")
    response = as_role("anonymous").goto(site.url + MEMBERS_ONLY_LESSON)
    assert response is not None
    assert response.status == 404


@pytest.mark.parametrize("path", SEARCH_PAGES.values(), ids=SEARCH_PAGES.keys())
def test_search_pages_have_no_console_errors_csp_violations_or_off_site_requests(
    live_server: str, page: Page, path: str
) -> None:
    console: list[str] = []
    requested: list[str] = []
    failed: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            console.append(f"{message.type}: {message.text}")

    def on_request_failed(request: Request) -> None:
        failed.append(f"{request.url} ({request.failure})")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.url} ({response.status})")

    page.add_init_script(_RECORD_CSP_VIOLATIONS_JS)
    page.on("console", on_console)
    page.on("pageerror", lambda error: console.append(f"page error: {error}"))
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)

    response = page.goto(live_server + path)
    assert response is not None
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    _open_every_visible_fold(page)
    page.wait_for_load_state("networkidle")

    assert requested, "the page made no requests at all"
    elsewhere = [url for url in requested if not url.startswith(live_server)]
    assert elsewhere == [], f"requests left kb: {elsewhere}"
    assert failed == [], f"requests failed: {failed}"
    assert console == [], console
    assert page.evaluate("window.kbCspViolations") == []
    assert page.evaluate("document.body.classList.contains('js-enabled')"), "kb.js did not run"
