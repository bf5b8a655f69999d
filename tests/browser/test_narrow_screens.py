"""Narrow screens and WCAG 2.2 in Chromium: no page scrolls sideways at 390 px, /search does not jump, taps land.

The site is the seed with one account per role, plus what makes the wide pages wide: a review's
findings citing many lessons (the traceability matrix), actions on lessons owned by organisations
with long names (/actions), and a closed consultation with answers (its analysis and outcome).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from kb.actions.rules import ActionState
from kb.actions.service import update_action
from kb.extensions import db
from kb.panels.citations import add_citation
from kb.panels.service import FindingText, create_finding
from kb.users.models import User
from kb.users.service import save_organisation
from tests.browser.conftest import app_with_people, serving
from tests.browser.people import Site, assert_accessible, sign_in
from tests.factories import entry
from tests.outcome_factory import answer, make_consultation

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LESSONS = [
    "procurement-weighted-towards-cost",
    "north-west-service-failed-within-hours",
    "providers-pressed-to-go-live-before-ready",
    "go-live-deadline-missed-across-half-of-england",
    "pilot-feedback-not-properly-heard",
    "clinical-leaders-need-to-say-no",
]
OWNERS = [
    "North West Ambulance Service NHS Trust and its commissioning partners",
    "South Central Ambulance Service NHS Foundation Trust",
    "Integrated urgent care commissioners of the East of England",
]


@dataclass(frozen=True)
class Setting:
    """The served site, the panel's review and a closed consultation on it."""

    site: Site
    review: str
    consultation_id: int
    response_id: int


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Setting]:
    app, people, restricted = app_with_people(tmp_path_factory.mktemp("narrow"), seeded_database)
    with app.app_context():
        panel = db.session.scalar(select(User).where(User.email == people["panel"].email))
        moderator = db.session.scalar(select(User).where(User.email == people["moderator"].email))
        member = db.session.scalar(select(User).where(User.email == people["member"].email))
        review = panel.panel_seats[0].review
        for number in range(1, 6):
            title = f"Finding {number}: go-live dates were set before anyone could say the service was ready"
            finding = create_finding(review, FindingText(title, "Providers said they were not ready.", ""), actor=panel)
            db.session.flush()
            for slug in LESSONS[number - 1 :]:
                add_citation(finding, actor=panel, kind="entry", entry=entry(slug), note="")
        admin = db.session.scalar(select(User).where(User.email == people["admin"].email))
        for owner in OWNERS:
            save_organisation(None, name=owner, type_="ambulance-service", region=None, actor=admin)
        for slug, owner in zip(LESSONS, OWNERS, strict=False):
            update_action(
                entry(slug),
                ActionState(status="accepted", owner=owner, due=dt.date(2027, 3, 31)),
                actor=moderator,
                message="Owner agreed",
            )
        db.session.commit()
        consultation = make_consultation(review)
        response = answer(consultation, member, scale="agree", choice="Move the date", text="Night staffing was thin.")
        ids = review.slug, consultation.id, response.id
        db.session.remove()
    with serving(app) as url:
        yield Setting(Site(url, people, restricted), *ids)


SEARCH_PAGES = ["/search", "/search?q=procurement", "/search?q=go-live&kind=lesson"]

CLS_SCRIPT = """() => new Promise(resolve => {
  let total = 0
  const observer = new PerformanceObserver(list => {
    for (const shift of list.getEntries()) if (!shift.hadRecentInput) total += shift.value
  })
  observer.observe({type: 'layout-shift', buffered: true})
  requestAnimationFrame(() => requestAnimationFrame(() => {
    for (const shift of observer.takeRecords()) if (!shift.hadRecentInput) total += shift.value
    resolve(total)
  }))
})"""
"""The page's cumulative layout shift so far: every shift not caused by input, summed."""


@pytest.fixture(scope="module")
def signed_in(browser: Browser, setting: Setting) -> dict[str, Any]:
    """Each role's signed-in browser state, made once: a second-factor code works only once."""
    states: dict[str, Any] = {}
    for role in ("panel", "moderator", "admin", "member"):
        context = browser.new_context()
        sign_in(context.new_page(), setting.site, role)
        states[role] = context.storage_state()
        context.close()
    return states


def open_at(browser: Browser, signed_in: dict[str, Any], viewport: dict[str, int], role: str | None = None) -> Page:
    """A page in a fresh context of the given size, signed in as `role` unless it is None."""
    storage = signed_in[role] if role is not None else None
    return browser.new_context(viewport=viewport, locale="en-GB", storage_state=storage).new_page()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("path", SEARCH_PAGES)
def test_search_does_not_jump_when_the_filters_fold(
    browser: Browser, setting: Setting, signed_in: dict[str, Any], viewport, path: str
) -> None:
    page = open_at(browser, signed_in, viewport)
    page.goto(setting.site.url + path)
    page.wait_for_load_state("load")
    shift = page.evaluate(CLS_SCRIPT)
    assert shift < 0.1, f"{path} at {viewport['width']} px shifted by {shift:.3f}"
    page.context.close()


def wide_pages(setting: Setting) -> dict[str, list[str]]:
    """The pages to check at 390 px, by who reads them: the table pages and the rest of each role's reading."""
    review, consultation = f"/reviews/{setting.review}", f"/consultations/{setting.consultation_id}"
    lesson = f"/lessons/{LESSONS[0]}"
    return {
        "panel": [
            f"{review}/matrix",
            f"{review}/findings/1",
            f"{review}/findings/1/history",
            f"{consultation}/analysis",
            f"{consultation}/responses/{setting.response_id}",
            f"{consultation}/outcome/edit",
        ],
        "moderator": ["/actions", "/recurrences", "/moderation/tags", "/moderation/flags", f"{lesson}/action"],
        "admin": ["/admin/audit", "/admin/users", "/admin/organisations"],
        "member": ["/account", "/notifications", "/account/notifications", "/account/contributions", "/lessons/new"],
        None: [
            "/",
            "/dashboard",
            "/actions?status=accepted",
            f"{lesson}",
            f"{lesson}/history",
            f"{lesson}/compare?from=1&to=2",
            "/lessons",
            "/search?q=procurement",
            "/login",
        ],
    }


WIDEST_SCRIPT = """() => {
  for (const details of document.querySelectorAll('details')) details.open = true
  const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)
  return [document.documentElement.scrollWidth, wide.slice(0, 3).map(e => e.tagName + '.' + e.className)]
}"""
"""Every <details> opened (a chart's data table included), then the page's width and what sticks out."""


@pytest.mark.parametrize("role", ["panel", "moderator", "admin", "member", None])
def test_no_page_scrolls_sideways_on_a_phone(
    browser: Browser, setting: Setting, signed_in: dict[str, Any], role: str | None
) -> None:
    page = open_at(browser, signed_in, PHONE, role)
    wide = []
    for path in wide_pages(setting)[role]:
        response = page.goto(setting.site.url + path)
        assert response is not None, path
        assert response.status == 200, path
        width, sticking_out = page.evaluate(WIDEST_SCRIPT)
        if width > PHONE["width"]:
            wide.append(f"{path}: {width} px ({sticking_out})")
    page.context.close()
    assert not wide, "\n".join(wide)


TARGETS_SCRIPT = """() => {
  const targets = 'header a, header button, header input, header summary, nav a, nav button, footer a, footer button'
  const boxes = [...document.querySelectorAll(targets)]
    .filter(e => !e.closest('main') && e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
    .map(e => ({
      name: (e.innerText || e.value || e.getAttribute('aria-label') || e.tagName).trim().slice(0, 40),
      box: e.getBoundingClientRect(),
    }))
  const small = []
  for (const {name, box} of boxes) {
    if (box.width >= 24 && box.height >= 24) continue
    // WCAG 2.2 target size's spacing exception: a 24 px circle on the target's centre meets no other target.
    const cx = box.left + box.width / 2, cy = box.top + box.height / 2
    const crowded = boxes.some(other => other.box !== box && (() => {
      const nx = Math.max(other.box.left, Math.min(cx, other.box.right))
      const ny = Math.max(other.box.top, Math.min(cy, other.box.bottom))
      return Math.hypot(nx - cx, ny - cy) < 12
    })())
    if (crowded) small.push(`${name}: ${Math.round(box.width)} by ${Math.round(box.height)} px`)
  }
  return small
}"""
"""The header's, navigation's and footer's links and buttons smaller than 24 by 24 px with another target too close."""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("role", ["moderator", None])
def test_header_navigation_and_footer_targets_are_large_enough(
    browser: Browser, setting: Setting, signed_in: dict[str, Any], viewport: dict[str, int], role: str | None
) -> None:
    page = open_at(browser, signed_in, viewport, role)
    small = {}
    for path in ["/", "/search?q=procurement", "/actions", f"/reviews/{setting.review}/matrix", "/admin/audit"]:
        page.goto(setting.site.url + path)
        if found := page.evaluate(TARGETS_SCRIPT):
            small[path] = found
    page.context.close()
    assert not small, small


@pytest.mark.parametrize(
    ("role", "path"),
    [(None, "/actions"), (None, "/search?q=procurement"), ("admin", "/admin/audit"), (None, "/login")],
)
def test_the_phone_layouts_pass_axe(
    browser: Browser, setting: Setting, signed_in: dict[str, Any], role: str | None, path: str
) -> None:
    page = open_at(browser, signed_in, PHONE, role)
    page.goto(setting.site.url + path)
    assert_accessible(page)
    page.context.close()
