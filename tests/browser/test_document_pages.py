"""A moderator attaches a PDF to a paper in Chromium, a reader reads its text by page; every page passes axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.people import Site, axe_blocking
from tests.upload_files import pdf_with_pages

pytestmark = pytest.mark.browser

PAPER = "/papers/nhs-alliance-discussion-paper"
TITLE = "Minutes of the alliance meeting"


def _no_axe_violations(page: Page) -> None:
    report = axe_blocking(page)
    assert not report, f"{page.url}\n{report}"


def test_a_moderator_attaches_a_pdf_and_a_reader_reads_its_pages(site: Site, as_role: Callable[[str], Page]) -> None:
    moderator = as_role("moderator")
    moderator.goto(site.url + PAPER)
    moderator.get_by_role("link", name="Add a document").click()
    expect(moderator.get_by_role("heading", level=1)).to_contain_text("Add a document")
    _no_axe_violations(moderator)

    # A file kb does not take: the form comes back with the error and the title as typed.
    moderator.get_by_label("File").set_input_files(
        {"name": "minutes.pdf", "mimeType": "application/pdf", "buffer": b"MZ not a document at all"}
    )
    moderator.get_by_label("Title").fill(TITLE)
    moderator.get_by_role("button", name="Upload").click()
    expect(moderator).to_have_title(re.compile(r"^Error: "))
    expect(moderator.get_by_label("Title")).to_have_value(TITLE)
    _no_axe_violations(moderator)

    pdf = pdf_with_pages("The agenda.", "Apologies.", "A phrase found only on page three.")
    moderator.get_by_label("File").set_input_files(
        {"name": "minutes.pdf", "mimeType": "application/pdf", "buffer": pdf}
    )
    moderator.get_by_role("button", name="Upload").click()
    documents = moderator.locator("section.kb-documents")
    expect(documents).to_contain_text(TITLE)
    expect(documents).to_contain_text("PDF")
    _no_axe_violations(moderator)

    reader = as_role("anonymous")
    reader.goto(site.url + PAPER)
    reader.locator("section.kb-documents").get_by_role("link", name=TITLE, exact=True).click()
    expect(reader.get_by_role("heading", level=1)).to_contain_text(TITLE)
    _no_axe_violations(reader)
    reader.get_by_role("link", name="Page 3").click()
    expect(reader).to_have_url(re.compile(r"#page-3$"))
    expect(reader.locator("#page-3")).to_contain_text("only on page three")
    expect(reader.locator("#page-3 h2")).to_have_text("Page 3")

    moderator.goto(site.url + PAPER + "/documents")
    _no_axe_violations(moderator)
