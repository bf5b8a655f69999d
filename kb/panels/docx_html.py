"""Writing kb's sanitised HTML (a finding's text, its recommendations) into a Word document.

`HtmlToDocx` walks the HTML that kb.markdown made and writes Word's own structure:
paragraphs, headings, bulleted and numbered lists (each numbered list counting from 1),
quotes, bold, italic, code and superscript. A link keeps its words, followed by its address
in brackets when the words do not already say it; a link within the page (a note marker)
keeps only its words. Anything else (a table, an image) leaves its text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from docx.document import Document
from docx.shared import Pt
from docx.text.paragraph import Paragraph

HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
BLOCK_TAGS = frozenset({"p", "li", "pre", "blockquote", "div", "tr", "dt", "dd"}) | HEADING_TAGS
SPACES = re.compile(r"\s+")


class Styles:
    """Adds paragraphs in a document's styles, each style found by name once.

    python-docx searches the whole styles part on every lookup by name, and again on every
    style it sets; a report sets hundreds, so the style's id is set on the paragraph directly.
    """

    def __init__(self, document: Document) -> None:
        """The styles of `document`."""
        self._document = document
        self._ids: dict[str, str] = {}

    def paragraph(self, text: str = "", style: str | None = None) -> Paragraph:
        """Add a paragraph of `text` in the style named `style` (Normal if None). Raises `KeyError` if none."""
        paragraph = self._document.add_paragraph(text)
        if style is not None:
            if style not in self._ids:
                self._ids[style] = self._document.styles[style].style_id
            paragraph._p.style = self._ids[style]
        return paragraph


def restart_numbering(document: Document, paragraph: Paragraph) -> int:
    """Start a new count at 1 for `paragraph` (in the "List Number" style); returns the new numbering's id."""
    numbering = document.part.numbering_part.numbering_definitions._numbering
    style_num = document.styles["List Number"].element.pPr.numPr.numId.val
    abstract_id = numbering.num_having_numId(style_num).abstractNumId.val
    num = numbering.add_num(abstract_id)
    num.add_lvlOverride(ilvl=0).add_startOverride(1)
    continue_numbering(paragraph, num.numId)
    return int(num.numId)


def continue_numbering(paragraph: Paragraph, num_id: int) -> None:
    """Put `paragraph` in the numbered list `num_id` (from `restart_numbering`)."""
    numbering = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    numbering.get_or_add_ilvl().val = 0
    numbering.get_or_add_numId().val = num_id


class HtmlToDocx(HTMLParser):
    """Writes one piece of sanitised HTML into `document`; headings in it become `heading_level` and below."""

    def __init__(
        self, document: Document, *, site_root: str, heading_level: int = 4, styles: Styles | None = None
    ) -> None:
        """Write into `document`, resolving relative links against `site_root`."""
        super().__init__(convert_charrefs=True)
        self.document = document
        self.styles = styles or Styles(document)
        self.site_root = site_root
        self.heading_level = heading_level
        self.paragraph: Paragraph | None = None
        self.lists: list[dict[str, Any]] = []
        self.quote = 0
        self.pre = 0
        self.format = {"bold": 0, "italic": 0, "code": 0, "sup": 0}
        self.link: tuple[str, list[str]] | None = None

    def write(self, html: str) -> None:
        """Write `html` into the document as Word paragraphs."""
        self.feed(html)
        self.close()
        self.paragraph = None

    def _start(self, style: str | None = None) -> Paragraph:
        self.paragraph = self.styles.paragraph(style=style)
        return self.paragraph

    def _list_item(self) -> None:
        current: dict[str, Any] = self.lists[-1] if self.lists else {"kind": "ul"}
        depth = min(len(self.lists), 3)
        suffix = "" if depth <= 1 else f" {depth}"
        if current["kind"] == "ol":
            paragraph = self._start(f"List Number{suffix}")
            if current.get("num") is None:
                current["num"] = restart_numbering(self.document, paragraph)
            else:
                continue_numbering(paragraph, current["num"])
        else:
            self._start(f"List Bullet{suffix}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a paragraph, list, quote or run format for `tag`."""
        if tag in HEADING_TAGS:
            self._start(f"Heading {min(self.heading_level + max(int(tag[1]) - 2, 0), 9)}")
        elif tag == "p" or tag == "pre":
            in_item = self.paragraph is not None and self.lists and not self.paragraph.text
            if not in_item:
                self._start("Quote" if self.quote else None)
            self.pre += tag == "pre"
        elif tag in ("ul", "ol"):
            self.lists.append({"kind": tag})
            self.paragraph = None
        elif tag == "li":
            self._list_item()
        elif tag == "blockquote":
            self.quote += 1
        elif tag in ("strong", "b"):
            self.format["bold"] += 1
        elif tag in ("em", "i"):
            self.format["italic"] += 1
        elif tag == "code":
            self.format["code"] += 1
        elif tag == "sup":
            self.format["sup"] += 1
        elif tag == "a":
            self.link = (dict(attrs).get("href") or "", [])
        elif tag == "br" and self.paragraph is not None:
            self.paragraph.add_run().add_break()

    def handle_endtag(self, tag: str) -> None:
        """Close what `tag` opened; after a link, add its address where the words do not say it."""
        if tag == "blockquote":
            self.quote -= 1
            self.paragraph = None
        elif tag in BLOCK_TAGS:
            self.pre -= tag == "pre"
            self.paragraph = None
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.paragraph = None
        elif tag in ("strong", "b"):
            self.format["bold"] -= 1
        elif tag in ("em", "i"):
            self.format["italic"] -= 1
        elif tag == "code":
            self.format["code"] -= 1
        elif tag == "sup":
            self.format["sup"] -= 1
        elif tag == "a" and self.link is not None:
            href, words = self.link
            self.link = None
            text = "".join(words).strip()
            if href and not href.startswith("#"):
                address = urljoin(self.site_root, href)
                if text not in (href, address):
                    self._add_text(f" ({address})", plain=True)

    def handle_data(self, data: str) -> None:
        """Add text as a run with the formats open around it."""
        if self.link is not None:
            self.link[1].append(data)
        self._add_text(data)

    def _add_text(self, data: str, *, plain: bool = False) -> None:
        text = data if self.pre else SPACES.sub(" ", data)
        if self.paragraph is None:
            if not text.strip():
                return
            self._start("Quote" if self.quote else None)
        assert self.paragraph is not None
        if not self.paragraph.text and not self.pre:
            text = text.lstrip()
        if not text:
            return
        run = self.paragraph.add_run(text)
        if plain:
            return
        run.bold = bool(self.format["bold"]) or None
        run.italic = bool(self.format["italic"]) or None
        if self.format["sup"]:
            run.font.superscript = True
        if self.format["code"] or self.pre:
            run.font.name = "Courier New"
            run.font.size = Pt(9.5)


def write_html(
    document: Document, html: str, *, site_root: str, heading_level: int = 4, styles: Styles | None = None
) -> None:
    """Write one piece of kb's sanitised HTML into `document` (see `HtmlToDocx`)."""
    HtmlToDocx(document, site_root=site_root, heading_level=heading_level, styles=styles).write(html)


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """The words of a piece of HTML on one line, for a place where Word takes only a run of text."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return SPACES.sub(" ", "".join(parser.parts)).strip()
