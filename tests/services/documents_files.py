"""Files for the document tests and benchmark, made here with the libraries that write each kind (never fetched)."""

from __future__ import annotations

import io
import zipfile
import zlib

import docx
import openpyxl
from fpdf import FPDF
from odf.opendocument import OpenDocumentText
from odf.style import ParagraphProperties, Style
from odf.text import P
from PIL import Image


def pdf(pages: list[str]) -> bytes:
    """A PDF with one page per text."""
    document = FPDF()
    document.set_font("Helvetica", size=12)
    for text in pages:
        document.add_page()
        document.multi_cell(0, 8, text)
    return bytes(document.output())


def picture(kind: str = "PNG") -> bytes:
    """A small picture with no text in it, as PNG or JPEG."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(buffer, format=kind)
    return buffer.getvalue()


def scanned_pdf(pages: int = 2) -> bytes:
    """A PDF whose pages are only pictures, as a scanner makes them: no text to read."""
    document = FPDF()
    for _ in range(pages):
        document.add_page()
        document.image(io.BytesIO(picture()), x=10, y=10, w=150)
    return bytes(document.output())


def _raw_pdf(content: bytes, *, filter_name: str = "/FlateDecode") -> bytes:
    """A one-page PDF whose page content stream is `content` as given (already encoded by `filter_name`)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter %s >>\nstream\n" % (len(content), filter_name.encode()) + content + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _deflated(chunk: bytes, times: int) -> bytes:
    squeezer = zlib.compressobj(1)
    return b"".join(squeezer.compress(chunk) for _ in range(times)) + squeezer.flush()


def pdf_bomb(megabytes: int = 120) -> bytes:
    """A small PDF whose one content stream inflates to `megabytes` MB of drawing commands."""
    return _raw_pdf(_deflated(b"0 0 m 1 1 l S\n" * 74898 + b"\n" * 4, megabytes))


def docx_bytes(pages: list[str]) -> bytes:
    """A Word document with one page per text, split by hard page breaks; the last page also holds a table."""
    document = docx.Document()
    for number, text in enumerate(pages):
        if number:
            document.add_page_break()
        document.add_paragraph(text)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Table cell one"
    table.cell(0, 1).text = "Table cell two"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_as_word_saves_it(pages: list[str], *, hard_breaks: bool) -> bytes:
    """A Word document as Word writes one: a rendered page break where each page begins, after a hard break or not."""
    from docx.oxml import OxmlElement

    document = docx.Document()
    for number, text in enumerate(pages):
        if number and hard_breaks:
            document.add_page_break()
        paragraph = document.add_paragraph()
        run = paragraph.add_run()
        if number:
            run._r.append(OxmlElement("w:lastRenderedPageBreak"))
        run.add_text(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_zip_bomb(megabytes: int = 256) -> bytes:
    """A Word document whose main part inflates to `megabytes` MB, in a file of a few hundred KB."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes(["Bomb"])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                bomb.writestr(item, source.read(item))
        with bomb.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(source.read("word/document.xml"))
            padding = b" " * (1024 * 1024)
            for _ in range(megabytes):
                part.write(padding)
    return buffer.getvalue()


def odt_bytes(pages: list[str]) -> bytes:
    """An OpenDocument text with one page per text, each after the first starting with a page break."""
    document = OpenDocumentText()
    new_page = Style(name="NewPage", family="paragraph")
    new_page.addElement(ParagraphProperties(breakbefore="page"))
    document.automaticstyles.addElement(new_page)
    for number, text in enumerate(pages):
        document.text.addElement(P(stylename=new_page, text=text) if number else P(text=text))
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """An Excel workbook with the sheets given, by name, each a list of rows."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
