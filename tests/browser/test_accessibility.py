"""axe-core in Chromium: no serious or critical WCAG 2.2 AA violations on key pages."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING_IMPACTS = {"serious", "critical"}
PAGES = {
    "home": "/",
    "lesson list": "/lessons",
    "filtered paper list": "/papers?year=2013",
    "lesson": "/lessons/procurement-weighted-towards-cost",
    "review": "/reviews/nhs-111-sustainability-review",
    "paper": "/papers/nhs-alliance-discussion-paper",
    "history": "/lessons/procurement-weighted-towards-cost/history",
    "compare": "/lessons/procurement-weighted-towards-cost/compare?from=1&to=1",
    "revision": "/lessons/procurement-weighted-towards-cost/history/1",
    "themes": "/themes",
    "theme": "/themes/procurement",
    "tags": "/tags",
    "tag": "/tags/cost-versus-quality",
    "not found": "/lessons/no-such-lesson",
    "search results": "/search?q=procurement",
    "search with two facets": "/search?q=procurement&kind=lesson&tag=cost-versus-quality",
    "search with no results": "/search?q=xyzzyqq",
    "search with did you mean": "/search?q=almost+OR+tendr",
    "search with a corrected spelling": "/search?q=chalenge",
    "search with an unreadable query": '/search?q="pressure+to+go',
    "search second page": "/search?q=procurement&page=2",
    "search browse": "/search",
    "search browse with a facet": "/search?region=north-west",
    "search help": "/search/help",
    "lesson with related lists": "/lessons/north-west-service-failed-within-hours",
    "API docs": "/api/v1/docs",
}


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_no_serious_accessibility_violations(live_server: str, page: Page, path: str) -> None:
    page.goto(live_server + path)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in blocking
    )
    assert not blocking, report
