"""Consultations in Chromium: a moderator sets one up, a member answers it (draft, then submit, then the receipt and
"Your work"), axe on every page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from kb.consultations.models import Consultation, Question
from kb.dates import utcnow
from kb.entries.models import Entry
from kb.extensions import db
from tests.browser.conftest import app_with_people, serving
from tests.browser.people import Site, assert_accessible, page_as

pytestmark = pytest.mark.browser

PAPER = "nhs-alliance-discussion-paper"
TITLE = "Readiness before go-live"


@pytest.fixture(scope="module")
def consult_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    app, people, restricted = app_with_people(tmp_path_factory.mktemp("consult"), seeded_database)
    with app.app_context():
        paper = db.session.scalar(select(Entry).where(Entry.slug == PAPER))
        now = utcnow()
        consultation = Consultation(
            entry=paper,
            title=TITLE,
            introduction="The panel would like to know what **you** saw.",
            opens_at=now - dt.timedelta(days=1),
            closes_at=now + dt.timedelta(days=7),
        )
        consultation.questions = [
            Question(position=0, kind="text", prompt="What went wrong where you work?", required=True),
            Question(position=1, kind="scale", prompt="Providers were ready to go live."),
            Question(position=2, kind="choice", prompt="What should come first?", options=["Training", "Staffing"]),
        ]
        db.session.add(consultation)
        db.session.commit()
        db.session.remove()
    with serving(app) as url:
        yield Site(url, people, restricted)


def test_a_member_saves_a_draft_then_submits(browser: Browser, consult_site: Site) -> None:
    site = consult_site
    member = page_as(browser, site, "member")
    member.goto(f"{site.url}/papers/{PAPER}")
    expect(member.locator("#consultations-heading")).to_be_visible()
    assert_accessible(member)

    member.goto(f"{site.url}/consultations")
    assert_accessible(member)
    member.get_by_role("link", name=TITLE).click()
    expect(member.get_by_role("heading", level=1)).to_contain_text(TITLE)
    assert_accessible(member)

    member.get_by_role("radio", name="Agree", exact=True).check()
    member.get_by_role("button", name="Save draft").click()
    expect(member.locator(".kb-flash")).to_contain_text("Your draft has been saved")
    expect(member.get_by_text("You have a draft saved")).to_be_visible()
    expect(member.get_by_role("radio", name="Agree", exact=True)).to_be_checked()
    assert_accessible(member)

    member.get_by_role("button", name="Submit response").click()
    expect(member.locator(".nhsuk-error-summary")).to_contain_text("Question 1: this question needs an answer")
    expect(member.get_by_role("radio", name="Agree", exact=True)).to_be_checked()
    assert_accessible(member)

    member.get_by_label(re.compile("What went wrong where you work")).fill("Call handlers had two days of training.")
    member.get_by_role("radio", name="Training").check()
    member.get_by_role("button", name="Submit response").click()
    expect(member.locator(".nhsuk-panel")).to_contain_text("Your response has been submitted")
    expect(member.locator(".kb-receipt-answers")).to_contain_text("Call handlers had two days of training.")
    expect(member.locator(".kb-receipt-answers")).to_contain_text("Training")
    assert_accessible(member)

    member.get_by_role("link", name="Your work", exact=True).click()
    expect(member.get_by_role("heading", level=1)).to_have_text("Your work")
    responses = member.locator("section[aria-labelledby='work-responses']")
    expect(responses).to_contain_text(TITLE)
    responses.get_by_text("Your answers").click()
    expect(responses).to_contain_text("Call handlers had two days of training.")
    assert_accessible(member)
    responses.get_by_role("link", name=re.compile("Your receipt")).click()
    expect(member.locator(".nhsuk-panel")).to_contain_text("Your response has been submitted")

    member.get_by_role("link", name="Change your answers").click()
    expect(member.get_by_text("You submitted your response")).to_be_visible()
    expect(member.get_by_label(re.compile("What went wrong where you work"))).to_have_value(
        "Call handlers had two days of training."
    )
    expect(member.get_by_role("button", name="Save changes to your response")).to_be_visible()
    assert_accessible(member)


def test_a_moderator_sets_up_a_consultation_without_javascript_blocks(browser: Browser, consult_site: Site) -> None:
    site = consult_site
    moderator = page_as(browser, site, "moderator")
    moderator.goto(f"{site.url}/papers/{PAPER}")
    moderator.get_by_role("link", name=re.compile("Consult members on this")).click()
    expect(moderator.get_by_role("heading", level=1)).to_contain_text("Consult members")
    assert_accessible(moderator)

    moderator.get_by_label("Title").fill("Draft terms")
    moderator.get_by_label("Opening date").fill("2030-03-31")
    moderator.get_by_label("Opening time").fill("01:30")
    moderator.get_by_label("Closing date").fill("2030-04-30")
    moderator.get_by_label("Closing time").fill("17:00")
    moderator.locator("#questions-0-prompt").fill("Are the terms clear?")
    moderator.get_by_role("button", name="Add another question").click()
    expect(moderator.locator("#questions-3-prompt")).to_be_visible()
    expect(moderator.locator("#questions-0-prompt")).to_have_value("Are the terms clear?")
    assert_accessible(moderator)

    moderator.get_by_role("button", name="Set up consultation").click()
    expect(moderator.locator(".nhsuk-error-summary")).to_contain_text("does not exist in London")
    expect(moderator.get_by_label("Title")).to_have_value("Draft terms")
    assert_accessible(moderator)

    moderator.get_by_label("Opening time").fill("09:00")
    moderator.get_by_role("button", name="Set up consultation").click()
    expect(moderator.get_by_role("heading", level=1)).to_contain_text("Draft terms")
    expect(moderator.get_by_text("from 31 March 2030, 09:00 to 30 April 2030, 17:00 (London time)")).to_be_visible()
    assert_accessible(moderator)
    moderator.get_by_role("link", name="Change the consultation").click()
    expect(moderator.get_by_label("Opening time")).to_have_value("09:00")
    assert_accessible(moderator)
