"""The report in Chromium: axe-core on the draft and the published report, and how it prints.

Printing (media emulated as print) shows the report without the site's header, the demo
banner, the footer, the download links or a link's address after it.
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
from kb.panels.citations import add_citation
from kb.panels.models import Finding
from kb.panels.service import FindingText, agree_finding, create_finding, propose_agreement, publish_findings
from kb.users.models import User
from tests.browser.conftest import serving
from tests.browser.people import Site, add_people, assert_accessible, page_as
from tests.conftest import make_app
from tests.factories import entry
from tests.web import seed

pytestmark = pytest.mark.browser

LESSON = "providers-pressed-to-go-live-before-ready"
LESSON_TITLE = seed.all_documents()[LESSON].title


@dataclass(frozen=True)
class ReportSite:
    """The served site, its app, and the review whose report is read."""

    site: Site
    app: Flask
    slug: str


@pytest.fixture(scope="module")
def report_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[ReportSite]:
    """The seeded site in demo mode, with one draft finding citing a lesson on the panel's review."""
    folder = tmp_path_factory.mktemp("report")
    app = make_app(folder, seeded_database, DEMO_MODE=True, LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    people, restricted = add_people(app)
    with app.app_context():
        panel = db.session.scalar(select(User).where(User.email == people["panel"].email))
        assert panel is not None
        review = db.session.get(Review, panel.panel_seats[0].review_id)
        assert review is not None
        text = FindingText(
            "Providers went live before they were ready",
            f"Providers said they were pressed to launch early ([[{LESSON}]]).",
            "Agree a **readiness test** before any go-live date.",
        )
        finding = create_finding(review, text, actor=panel)
        add_citation(finding, actor=panel, kind="entry", entry=entry(LESSON))
        db.session.commit()
        slug = review.slug
        db.session.remove()
    with serving(app) as url:
        yield ReportSite(Site(url, people, restricted), app, slug)


def _publish(report_site: ReportSite) -> None:
    """Propose, agree (a moderator) and publish the review's findings."""
    with report_site.app.app_context():
        people = report_site.site.people
        panel = db.session.scalar(select(User).where(User.email == people["panel"].email))
        moderator = db.session.scalar(select(User).where(User.email == people["moderator"].email))
        review = db.session.scalar(select(Review).where(Review.slug == report_site.slug))
        assert panel is not None
        assert moderator is not None
        assert review is not None
        for finding in db.session.scalars(select(Finding).where(Finding.review_id == review.id)):
            propose_agreement(finding, actor=panel)
            agree_finding(finding, actor=moderator)
        publish_findings(review, actor=panel)
        db.session.commit()
        db.session.remove()


def _display(page: Page, selector: str) -> str:
    return str(page.eval_on_selector(selector, "node => getComputedStyle(node).display"))


def _after(page: Page, selector: str) -> list[str]:
    return list(page.eval_on_selector_all(selector, "nodes => nodes.map(n => getComputedStyle(n, '::after').content)"))


def test_the_panel_reads_the_draft_report_marked_draft(browser: Browser, report_site: ReportSite) -> None:
    site = report_site.site
    panel = page_as(browser, site, "panel")
    panel.goto(f"{site.url}/reviews/{report_site.slug}/report")
    expect(panel).to_have_title(re.compile(r"^Draft report: "))
    expect(panel.locator(".kb-report__draft")).to_contain_text("DRAFT")
    expect(panel.locator("#finding-1")).to_contain_text("Status: Draft")
    expect(panel.locator("#finding-1-note-1")).to_contain_text(LESSON_TITLE)
    assert_accessible(panel)
    panel.emulate_media(media="print")
    assert _display(panel, ".kb-report__draft") != "none"
    # Long enough for several pages: the finding five times over.
    panel.eval_on_selector("#finding-1", "node => { for (let i = 0; i < 5; i++) node.after(node.cloneNode(true)); }")
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(panel.pdf(format="A4"))).pages]
    assert len(pages) >= 2
    for text in pages:
        assert "DRAFT: not published" in text
        assert "Link:" not in text
        assert "Sign out" not in text
    panel.context.close()


def test_the_published_report_prints_without_navigation_banner_or_link_addresses(
    browser: Browser, report_site: ReportSite
) -> None:
    _publish(report_site)
    site = report_site.site
    reader = page_as(browser, site, None)
    reader.goto(f"{site.url}/reviews/{report_site.slug}/report")
    expect(reader.locator(".kb-report__draft")).to_have_count(0)
    expect(reader.locator("#finding-1")).to_contain_text("readiness test")
    expect(reader.locator(".kb-demo-banner")).to_be_visible()
    assert_accessible(reader)
    links = ".kb-report a[href], .kb-report__links a[href]"
    assert _display(reader, ".nhsuk-header") != "none"

    reader.emulate_media(media="print")
    for selector in (".nhsuk-header", ".kb-demo-banner", ".nhsuk-footer", ".nhsuk-breadcrumb", ".kb-report__links"):
        assert _display(reader, selector) == "none", selector
    contents = _after(reader, links)
    assert len(contents) >= 3
    assert set(contents) <= {"none", "normal"}, contents
    assert _display(reader, "#finding-1") != "none"
    expect(reader.locator("#finding-1-note-1")).to_contain_text(LESSON_TITLE)
    reader.context.close()


def test_nhsuk_print_styles_alone_would_print_link_addresses(browser: Browser, report_site: ReportSite) -> None:
    """The check above can fail: without kb's print sheet, NHS.UK's own print styles add "(Link: ...)"."""
    site = report_site.site
    reader = page_as(browser, site, None)
    reader.goto(f"{site.url}/reviews/{report_site.slug}/report")
    reader.eval_on_selector('link[rel="stylesheet"][media="print"]', "node => node.remove()")
    reader.emulate_media(media="print")
    assert any("Link:" in content for content in _after(reader, ".kb-report a[href]"))
    assert _display(reader, ".kb-demo-banner") != "none"
    reader.context.close()
