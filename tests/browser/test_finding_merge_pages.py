"""Two panel members, in two browser contexts, edit a finding at once and settle the clashes; a correction.

axe-core checks the merge page (with and without an error) and the correction page; at
390 px the merge page stacks their version above yours without scrolling sideways.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from kb.entries.models import Review
from kb.extensions import db
from kb.notifications.models import Notification
from kb.panels.models import Finding
from kb.panels.queries import panel_members
from kb.panels.service import FindingText, agree_finding, create_finding, propose_agreement, publish_findings
from kb.states import NotificationKind
from tests.accounts import make_user
from tests.browser.conftest import app_with_people, serving
from tests.browser.people import Person, Site, assert_accessible, page_as

pytestmark = pytest.mark.browser

REVIEW = "nhs-111-programme-lessons-review"
BODY = "Providers said they were not ready.\n\nThe date did not move.\n\nNobody wrote down why."


@dataclass
class PanelSite:
    """The served site, its app (to set up and read back), and the slug of a review to publish and correct."""

    site: Site
    app: Flask
    corrected_slug: str


@pytest.fixture(scope="module")
def panel_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[PanelSite]:
    """Two members (Ann and Sam) on the panels of two reviews, each review with one draft finding."""
    app, people, restricted = app_with_people(tmp_path_factory.mktemp("merge"), seeded_database)
    with app.app_context():
        review = db.session.scalar(select(Review).where(Review.slug == REVIEW))
        other = db.session.scalar(select(Review).where(Review.slug != REVIEW).order_by(Review.slug))
        assert review is not None
        assert other is not None
        ann = make_user("ann-panel@example.org", name="Ann Example", panels=(review, other))
        sam = make_user("sam-panel@example.org", name="Sam Example", panels=(review, other))
        people["ann"], people["sam"] = Person(ann.email), Person(sam.email)
        for each in (review, other):
            create_finding(each, FindingText("Go-live dates came before readiness", BODY, "Agree a test."), actor=ann)
        db.session.commit()
        other_slug = other.slug
        db.session.remove()
    with serving(app) as url:
        yield PanelSite(Site(url, people, restricted), app, other_slug)


def _no_markers(page: Page) -> None:
    text = page.locator("main").inner_text()
    for marker in ("<<<<<<<", "=======", ">>>>>>>"):
        assert marker not in text


def test_two_members_edit_at_once_and_settle_each_clash(browser: Browser, panel_site: PanelSite) -> None:
    site = panel_site.site
    edit = f"{site.url}/reviews/{REVIEW}/findings/1/edit"
    ann, sam = page_as(browser, site, "ann"), page_as(browser, site, "sam")
    assert ann.context is not sam.context
    ann.goto(edit)
    sam.goto(edit)
    ann.get_by_label("Title").fill("Go-live dates were set before anyone was ready")
    ann.get_by_label("Finding", exact=True).fill(BODY.replace("The date did not move.", "The date never moved."))
    ann.get_by_role("button", name="Save finding").click()
    expect(ann.locator(".kb-flash")).to_contain_text("saved as revision 2")

    sam.get_by_label("Title").fill("Readiness came after the go-live date")
    sam_body = BODY.replace("The date did not move.", "The date stayed fixed.").replace("Nobody", "Nobody at all")
    sam.get_by_label("Finding", exact=True).fill(sam_body)
    sam.get_by_role("button", name="Save finding").click()
    expect(sam.get_by_role("heading", level=1)).to_contain_text("Merge your changes into finding 1")
    _no_markers(sam)
    expect(sam.locator(".kb-merge-notice")).to_contain_text("2 places where you both changed the same text")
    clash = sam.get_by_role("group", name="Finding, clash 1 of 1")
    expect(clash.locator(".kb-clash__side--theirs")).to_contain_text("by Ann Example")
    expect(clash.locator(".kb-clash__side--theirs")).to_contain_text("The date never moved.")
    expect(clash.locator(".kb-clash__side--yours")).to_contain_text("The date stayed fixed.")
    expect(sam.locator(".kb-merge-changes")).to_contain_text("Nobody at all wrote down why.")
    assert_accessible(sam)

    # Side by side on a wide screen, one above the other at 390 px, with no sideways scrolling.
    theirs_box = clash.locator(".kb-clash__side--theirs").bounding_box()
    yours_box = clash.locator(".kb-clash__side--yours").bounding_box()
    assert theirs_box is not None
    assert yours_box is not None
    assert yours_box["x"] > theirs_box["x"] + theirs_box["width"] - 1
    sam.set_viewport_size({"width": 390, "height": 844})
    theirs_box = clash.locator(".kb-clash__side--theirs").bounding_box()
    yours_box = clash.locator(".kb-clash__side--yours").bounding_box()
    assert theirs_box is not None
    assert yours_box is not None
    assert yours_box["y"] >= theirs_box["y"] + theirs_box["height"]
    assert sam.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(sam)
    sam.set_viewport_size({"width": 1280, "height": 900})

    # Saving with the title's clash unanswered is refused; the comparison and the choices stay.
    clash.get_by_label("Edit: use the text in the box below").check()
    clash.get_by_label("Your edit of finding, clash 1").fill("The date never moved, and stayed fixed.")
    sam.get_by_role("button", name="Save the merged finding").click()
    expect(sam).to_have_title(re.compile("^Error: "))
    expect(sam.locator(".nhsuk-error-summary")).to_contain_text("Choose which version to keep for the title")
    clash = sam.get_by_role("group", name="Finding, clash 1 of 1")
    expect(clash.get_by_label("Edit: use the text in the box below")).to_be_checked()
    expect(clash.get_by_label("Your edit of finding, clash 1")).to_have_value("The date never moved, and stayed fixed.")
    expect(clash.locator(".kb-clash__side--theirs")).to_contain_text("The date never moved.")
    assert_accessible(sam)
    sam.get_by_role("link", name="Choose which version to keep for the title, clash 1.").click()
    sam.get_by_role("group", name="Title, clash 1 of 1").get_by_label("Keep both").check()
    sam.get_by_role("button", name="Save the merged finding").click()
    expect(sam.locator(".kb-flash")).to_contain_text("saved as revision 3, with both sets of changes")

    with panel_site.app.app_context():
        finding = db.session.scalar(select(Finding).join(Review).where(Review.slug == REVIEW, Finding.number == 1))
        assert finding is not None
        assert finding.title == "Go-live dates were set before anyone was ready / Readiness came after the go-live date"
        assert finding.body == (
            "Providers said they were not ready.\n\nThe date never moved, and stayed fixed.\n\n"
            "Nobody at all wrote down why."
        )
        db.session.remove()
    ann.reload()
    expect(ann.locator("main")).to_contain_text("Nobody at all wrote down why.")
    for page in (ann, sam):
        page.context.close()


def test_a_published_finding_is_corrected_and_the_panel_told(browser: Browser, panel_site: PanelSite) -> None:
    site, slug = panel_site.site, panel_site.corrected_slug
    with panel_site.app.app_context():
        review = db.session.scalar(select(Review).where(Review.slug == slug))
        assert review is not None
        finding = db.session.scalar(select(Finding).where(Finding.review_id == review.id))
        assert finding is not None
        ann_user = finding.created_by
        sam_user = next(member for member in panel_members(review) if member.email.startswith("sam"))
        assert ann_user is not None
        propose_agreement(finding, actor=ann_user)
        agree_finding(finding, actor=sam_user)
        publish_findings(review, actor=ann_user)
        db.session.commit()
        db.session.remove()
    ann = page_as(browser, site, "ann")
    ann.goto(f"{site.url}/reviews/{slug}/findings/1")
    ann.get_by_role("link", name=re.compile("^Correct this finding")).click()
    expect(ann.get_by_role("heading", level=1)).to_contain_text("Correct finding 1")
    assert_accessible(ann)
    ann.get_by_label("Finding", exact=True).fill(BODY.replace("Nobody wrote down why.", "The board wrote down why."))
    ann.get_by_role("button", name="Save the correction").click()
    expect(ann).to_have_title(re.compile("^Error: "))
    expect(ann.locator(".nhsuk-error-summary")).to_contain_text("Say what was corrected and why.")
    expect(ann.get_by_label("Finding", exact=True)).to_have_value(
        BODY.replace("Nobody wrote down why.", "The board wrote down why.")
    )
    assert_accessible(ann)
    ann.get_by_label("What was corrected, and why").fill("The board's minutes record the reason; we had missed them.")
    ann.get_by_role("button", name="Save the correction").click()
    expect(ann.locator(".kb-flash")).to_contain_text("Finding 1 was corrected")
    expect(ann.locator(".kb-corrections")).to_contain_text(re.compile(r"Corrected on \d{1,2} \w+ \d{4}"))
    expect(ann.locator(".kb-corrections")).to_contain_text("we had missed them")
    assert_accessible(ann)
    with panel_site.app.app_context():
        told = db.session.scalars(select(Notification).where(Notification.kind == NotificationKind.CORRECTION)).all()
        emails = {notice.user.email for notice in told}
        assert "sam-panel@example.org" in emails
        assert "ann-panel@example.org" not in emails
        db.session.remove()
    # The report shows the corrected wording with its dated note, on the page and in the PDF.
    ann.goto(f"{site.url}/reviews/{slug}/report")
    report = ann.locator("main")
    expect(report).to_contain_text("The board wrote down why.")
    expect(report).to_contain_text("we had missed them")
    expect(report).not_to_contain_text("DRAFT")
    assert_accessible(ann)
    answer = ann.request.get(f"{site.url}/reviews/{slug}/report.pdf")
    assert answer.ok
    pdf_text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.body())).pages)
    assert "The board wrote down why." in " ".join(pdf_text.split())
    assert "we had missed them" in " ".join(pdf_text.split())
    ann.context.close()
