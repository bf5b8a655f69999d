"""A paper written in the browser with its documents, then found by a member inside its PDF, in Chromium.

A moderator writes a meeting paper on /papers/new, attaches a PDF and a Word document to
it, and a member searching for a phrase that occurs only on page 3 of the PDF gets a
result naming the document and page, follows it and lands on that page. The Word
document's text is found too. Every page on the way passes axe-core.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.people import Site, assert_accessible
from tests.services.documents_files import docx_bytes
from tests.upload_files import pdf_with_pages

pytestmark = pytest.mark.browser

PAPER_TITLE = "Clinical governance group papers of August"
PDF_TITLE = "Governance group minutes"
DOCX_TITLE = "Action log"
PAGE_3_PHRASE = "kestrelmoor escalation rota"
DOCX_PHRASE = "ospreyvale staffing return"


def _attach(moderator: Page, filename: str, media_type: str, data: bytes, title: str) -> None:
    moderator.get_by_role("link", name="Add a document").click()
    moderator.get_by_label("File").set_input_files({"name": filename, "mimeType": media_type, "buffer": data})
    moderator.get_by_label("Title").fill(title)
    moderator.get_by_role("button", name="Upload").click()
    expect(moderator.locator("section.kb-documents")).to_contain_text(title)


def test_a_moderator_writes_a_paper_with_a_pdf_and_a_docx_and_a_member_finds_page_3(
    site: Site, as_role: Callable[[str], Page]
) -> None:
    moderator = as_role("moderator")
    moderator.goto(site.url + "/papers/new")
    moderator.get_by_label("Title", exact=True).first.fill(PAPER_TITLE)
    moderator.get_by_label("Summary").fill("The minutes and action log of the clinical governance group.")
    moderator.get_by_label("Meeting", exact=True).fill("Clinical governance group")
    moderator.get_by_label("Meeting date").fill("2013-08-14")
    moderator.get_by_label("Type of paper").select_option(label="Minutes")
    moderator.get_by_label("Text", exact=True).fill("The group met to review safety incidents after launch.")
    moderator.get_by_role("button", name="Save meeting paper").click()
    expect(moderator.locator(".kb-flash")).to_contain_text("was created")
    paper_path = moderator.url.removeprefix(site.url)

    pdf = pdf_with_pages(
        "Attendance and apologies.",
        "Incidents reported since the last meeting.",
        f"The group asked for a {PAGE_3_PHRASE} before the bank holiday.",
        "Any other business.",
    )
    _attach(moderator, "minutes.pdf", "application/pdf", pdf, PDF_TITLE)
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    _attach(moderator, "actions.docx", docx_type, docx_bytes([f"Chase the {DOCX_PHRASE} weekly."]), DOCX_TITLE)
    assert_accessible(moderator)

    member = as_role("member")
    member.goto(site.url + "/search")
    member.get_by_label("Search lessons, reviews and meeting papers").fill(PAGE_3_PHRASE)
    member.locator("#maincontent").get_by_role("button", name="Search", exact=True).click()
    result = member.locator(".kb-result", has_text=PAPER_TITLE)
    expect(result).to_have_count(1)
    assert_accessible(member)
    result.get_by_role("link", name=f"In {PDF_TITLE}, page 3").click()
    expect(member).to_have_url(re.compile(re.escape(paper_path) + r"/documents/\d+#page-3$"))
    expect(member.locator("#page-3")).to_contain_text(PAGE_3_PHRASE)
    expect(member.locator("#page-3")).to_be_in_viewport()
    assert_accessible(member)

    member.goto(site.url + "/search?q=" + DOCX_PHRASE.replace(" ", "+"))
    expect(
        member.locator(".kb-result", has_text=PAPER_TITLE).get_by_role("link", name=f"In {DOCX_TITLE}, page 1")
    ).to_be_visible()
