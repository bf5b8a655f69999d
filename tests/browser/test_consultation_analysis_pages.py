"""After a consultation closes, in Chromium: the panel analyses the answers, tags one, writes and publishes
"We asked, you said, we did", and a member who responded follows the notification to it. axe-core runs on every page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from kb.extensions import db
from kb.users.models import User
from tests.browser.conftest import app_with_people, serving
from tests.browser.people import Site, assert_accessible, page_as
from tests.outcome_factory import answer, make_consultation

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Setting:
    """The served site, a closed consultation with answers, and one that is still open."""

    site: Site
    closed_id: int
    open_id: int
    member_response_id: int


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Setting]:
    app, people, restricted = app_with_people(tmp_path_factory.mktemp("analysis"), seeded_database)
    with app.app_context():
        panel = db.session.scalar(select(User).where(User.email == people["panel"].email))
        member = db.session.scalar(select(User).where(User.email == people["member"].email))
        other = db.session.scalar(select(User).where(User.email == people["leaver"].email))
        review = panel.panel_seats[0].review
        closed = make_consultation(review)
        mine = answer(closed, member, scale="agree", choice="Move the date", text="Night staffing was far too thin.")
        answer(
            closed,
            other,
            scale="disagree",
            choice="Keep the date",
            text="The directory of services was out of date.",
            organisation_type="ambulance-service",
            region="London",
        )
        still_open = make_consultation(review, closed=False, title="Still open")
        ids = closed.id, still_open.id, mine.id
        db.session.remove()
    with serving(app) as url:
        yield Setting(Site(url, people, restricted), *ids)


def test_panel_analyses_tags_and_reports_back(browser: Browser, setting: Setting) -> None:
    site = setting.site
    base = f"{site.url}/consultations/{setting.closed_id}"
    panel = page_as(browser, site, "panel")

    panel.goto(f"{site.url}/consultations/{setting.open_id}/analysis")
    expect(panel.get_by_role("heading", level=1)).to_contain_text("opens when the consultation closes")
    assert_accessible(panel)

    panel.goto(f"{base}/analysis")
    expect(panel.get_by_role("heading", level=1)).to_contain_text("What members said")
    expect(panel.locator("svg.kb-chart")).to_have_count(6)
    assert_accessible(panel)
    panel.get_by_label("Search the answers").fill("staffing")
    panel.get_by_role("button", name="Search answers").click()
    expect(panel.locator(".kb-answer")).to_have_count(1)
    answer_item = panel.locator(".kb-answer", has_text="Night staffing")
    answer_item.get_by_label(re.compile("^Add a theme")).fill("Staffing")
    answer_item.get_by_role("button", name=re.compile("^Tag")).click()
    expect(panel).to_have_url(re.compile(r"\?q=staffing#answer-\d+$"))
    expect(panel.locator(".kb-analysis-themes")).to_contain_text("Staffing (1")
    assert_accessible(panel)

    panel.locator(".kb-answer").get_by_role("link", name=re.compile("^Read response")).click()
    expect(panel.get_by_role("heading", level=1)).to_contain_text(f"Response {setting.member_response_id}")
    assert_accessible(panel)

    panel.goto(f"{base}/outcome/edit")
    assert_accessible(panel)
    panel.get_by_label("We asked", exact=True).fill("We asked whether the draft findings were right.")
    panel.get_by_label("You said", exact=True).first.fill("Most of you said nights were short of staff.")
    block = panel.locator("#new-change")
    block.get_by_label("You said").fill("Nights were short of staff.")
    panel.get_by_role("button", name="Save", exact=True).click()
    expect(panel.locator(".nhsuk-error-summary")).to_contain_text("Say what was done")
    assert_accessible(panel)
    block = panel.locator(".kb-outcome-change-form").last
    expect(block.get_by_label("You said")).to_have_value("Nights were short of staff.")
    block.get_by_label("We did").fill("We added night cover to the findings.")
    block.get_by_label(re.compile(f"^Response {setting.member_response_id} ")).check()
    panel.get_by_role("button", name="Save", exact=True).click()
    expect(panel).to_have_url(re.compile(r"/outcome$"))
    expect(panel.locator(".kb-outcome-change")).to_contain_text("We added night cover")
    assert_accessible(panel)
    panel.get_by_role("button", name="Publish and tell respondents").click()
    expect(panel.locator(".kb-flash")).to_contain_text("2 people who responded have been told")
    assert_accessible(panel)

    member = page_as(browser, site, "member")
    member.goto(f"{site.url}/notifications")
    member.get_by_role("link", name=re.compile("reported back on")).first.click()
    expect(member).to_have_url(re.compile(r"/outcome$"))
    expect(member.locator(".kb-outcome-change")).to_contain_text("including yours")
    assert_accessible(member)
    member.get_by_role("link", name="Read your response").click()
    expect(member.get_by_role("heading", level=1)).to_contain_text("Your response")
    assert_accessible(member)
    for page in (panel, member):
        page.context.close()
