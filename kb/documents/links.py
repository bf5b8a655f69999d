"""Addresses of a document's pages: where a search hit or a citation of a page sends the reader."""

from __future__ import annotations


def page_anchor(number: int) -> str:
    """The id of page `number`'s section on a document's text page."""
    return f"page-{number}"


def document_page_link(entry_path: str, document_id: int, number: int) -> str:
    """The address of page `number` of a document on its text page, for the entry at `entry_path`."""
    return f"{entry_path}/documents/{document_id}#{page_anchor(number)}"
