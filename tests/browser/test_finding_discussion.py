"""Two panel members discuss a finding in two browser contexts, in Chromium, with axe-core on the finding's page.

One member starts a thread on a finding and mentions the other, who holds the finding's
pen; the other is told on the notifications page, follows the notice to the comment,
and resolves the thread. The thread is then folded away under "Resolved by ... on ...",
opens from the keyboard, and the first member sees no open threads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from kb.entries.models import Review
from kb.extensions import db
from kb.panels.service import FindingText, create_finding
from kb.users.models import PanelMembership, User
from tests.accounts import make_user
from tests.browser.conftest import app_with_people, serving
from tests.browser.people import Person, Site, assert_accessible, page_as

pytestmark = pytest.mark.browser

REVIEW = "nhs-111-programme-lessons-review"
HOLDER = "holder panel"


@pytest.fixture(scope="module")
def talk_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[tuple[Site, str]]:
    """The seeded site, a second member on the review's panel who drafted finding 1, and the first member's role."""
    app, people, restricted = app_with_people(tmp_path_factory.mktemp("talk"), seeded_database)
    with app.app_context():
        review = db.session.scalar(select(Review).where(Review.slug == REVIEW))
        assert review is not None
        seated = set(db.session.scalars(select(PanelMembership.user_id).where(PanelMembership.review_id == review.id)))
        first = next(
            role
            for role in ("panel", "other panel")
            if db.session.scalar(select(User.id).where(User.email == people[role].email)) in seated
        )
        holder = make_user("holder@example.org", name="Hana Holder", panels=(review,))
        create_finding(review, FindingText("Go-live came first", "Providers launched early.", ""), actor=holder)
        db.session.commit()
        people[HOLDER] = Person(holder.email)
        db.session.remove()
    with serving(app) as url:
        yield Site(url, people, restricted), first


def test_a_member_comments_and_the_holder_is_told_and_resolves(browser: Browser, talk_site) -> None:
    site, first = talk_site
    finding_url = f"{site.url}/reviews/{REVIEW}/findings/1"

    writer = page_as(browser, site, first)
    writer.goto(finding_url)
    expect(writer.locator("#discussion")).to_contain_text("0 open threads")
    writer.get_by_label("Your comment").fill("@hana-holder can we check the go-live dates before agreeing?")
    writer.get_by_role("button", name="Start thread").click()
    expect(writer).to_have_url(re.compile(r"/findings/1#comment-\d+$"))
    expect(writer.locator("#discussion")).to_contain_text("1 open thread")
    assert_accessible(writer)

    holder = page_as(browser, site, HOLDER)
    holder.goto(f"{site.url}/notifications")
    notice = holder.get_by_role("link", name=re.compile("mentioned you in the discussion of finding 1"))
    expect(notice).to_be_visible()
    notice.click()
    expect(holder).to_have_url(re.compile(r"/findings/1#comment-\d+$"))
    expect(holder.locator(".kb-thread").first).to_contain_text("check the go-live dates")
    holder.get_by_role("button", name=re.compile("^Resolve")).click()
    expect(holder.locator(".kb-flash")).to_contain_text("resolved")

    folded = holder.locator("details.kb-thread--resolved")
    summary = folded.locator("summary")
    expect(summary).to_contain_text(re.compile(r"Resolved by Hana Holder on \d+ \w+ \d{4}"))
    expect(folded).not_to_have_attribute("open", "")
    expect(folded.get_by_text("check the go-live dates")).to_be_hidden()
    assert_accessible(holder)
    summary.focus()
    holder.keyboard.press("Enter")
    expect(folded.get_by_text("check the go-live dates")).to_be_visible()
    expect(folded.get_by_role("button", name=re.compile("^Reopen"))).to_be_visible()
    assert_accessible(holder)

    writer.reload()
    expect(writer.locator("#discussion")).to_contain_text("0 open threads, 1 resolved")
    writer.context.close()
    holder.context.close()
