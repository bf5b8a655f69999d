"""Files for document tests, made on the spot: PDFs with text on chosen pages, a PDF with none, and an upload body."""

from __future__ import annotations

import io
from typing import Any

from fpdf import FPDF

from tests.services.documents_files import pdf


def pdf_with_pages(*texts: str) -> bytes:
    """A PDF with one page per text, each page holding its text."""
    return pdf(list(texts))


def pdf_without_text(pages: int = 1) -> bytes:
    """A PDF whose pages hold only drawn shapes, as a scan holds only a picture: no text to read."""
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.rect(20, 20, 100, 60, style="F")
    return bytes(pdf.output())


def upload(data: bytes, filename: str, **fields: str) -> dict[str, Any]:
    """Form data for a multipart POST of the file `data` named `filename`, with other fields."""
    return {"file": (io.BytesIO(data), filename), **fields}
