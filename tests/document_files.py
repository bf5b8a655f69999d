"""Documents made in the test that needs them: a PDF with pages of text, a Word file with paragraphs."""

from __future__ import annotations

import io

import docx
from fpdf import FPDF


def pdf_bytes(*pages: str) -> bytes:
    """A PDF with one page per text."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.cell(text=text)
    return bytes(pdf.output())


def docx_bytes(*paragraphs: str) -> bytes:
    """A Word document holding these paragraphs."""
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
