"""The one Markdown renderer: entries, comments and findings all go through `render`.

Python-Markdown turns text into HTML with tables, fenced code, footnotes, heading anchors
and a table of contents. Raw HTML in the source is never passed through: it is shown as
text. The output is then cleaned by nh3 with an allowlist, so only http, https, mailto and
relative links survive, and the only ids are the ones this module generates.

With `paragraph_anchors=True` (papers) every paragraph and list item gets an id made
from its own words (`kb.paragraphs`), so a citation of one paragraph keeps
pointing at it whatever is edited around it; `Rendered.paragraphs` lists them.

Links to other entries are written `[[slug]]` or `[[slug|words]]`. The caller passes a
resolver that turns a slug into a `LinkTarget`; a slug it cannot resolve is rendered as
marked text and reported in `Rendered.missing_links`, never silently dropped. A target
the text's readers may not all see is rendered as plain words, without its title.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree import ElementTree

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

from kb.markdown_guard import NeutraliseInline, Placeholders, RestorePlaceholders, neutralise_containers
from kb.markdown_limits import LinearFootnotes, limit_inline_matches
from kb.paragraphs import Paragraph, assign_anchors

INTERNAL_LINK = re.compile(r"\[\[([a-z0-9][a-z0-9-]*)(?:\|([^\]\n]+))?\]\]")
"""`[[slug]]` or `[[slug|words]]`; used by the renderer and by the importer's checks."""


@dataclass(frozen=True)
class LinkTarget:
    """Where an internal link goes.

    When `shown` is false some readers of the linking text may not see the target, so
    only the author's words (or the slug) appear, never the target's title or address.
    """

    path: str
    title: str
    shown: bool = True


LinkResolver = Callable[[str], "LinkTarget | None"]
"""Given a slug, return its `LinkTarget`, or None when there is no such entry."""

ALLOWED_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class"},
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
_SAFE_ID = re.compile(r"^(?:h-[\w-]+|fn-[\w-]+|fnref\d*-[\w-]+|p-[0-9a-f]{8}(?:-\d+)?)$")
_SAFE_CLASS = re.compile(r"^(?:footnote|footnote-ref|footnote-backref|kb-[a-z-]+|language-[\w+-]+)$")


@dataclass
class Heading:
    """One entry of a table of contents."""

    level: int
    anchor: str
    title: str


@dataclass
class Rendered:
    """The result of rendering: safe HTML, its headings, and the entry links it holds."""

    html: str
    headings: list[Heading] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    missing_links: list[str] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)
    """The anchored paragraphs in reading order (only when rendered with `paragraph_anchors`)."""


class _InternalLinkProcessor(InlineProcessor):
    """Turns `[[slug]]` into a link through the resolver, recording what it found."""

    def __init__(self, resolve: LinkResolver | None, found: list[str], missing: list[str]):
        super().__init__(INTERNAL_LINK.pattern)
        self.resolve = resolve
        self.found = found
        self.missing = missing

    # InlineProcessor's handleMatch takes and returns more than Pattern's, which it derives from;
    # the Markdown stubs ignore the same override error on InlineProcessor itself.
    def handleMatch(  # type: ignore[override]  # noqa: N802
        self, m: re.Match[str], data: str
    ) -> tuple[ElementTree.Element, int, int]:
        slug, words = m.group(1), m.group(2)
        target = self.resolve(slug) if self.resolve else None
        if target is None:
            self.missing.append(slug)
            element = ElementTree.Element("span", {"class": "kb-missing-link"})
            element.text = words or slug
            return element, m.start(0), m.end(0)
        if slug not in self.found:
            self.found.append(slug)
        if not target.shown:
            element = ElementTree.Element("span", {"class": "kb-restricted-link"})
            element.text = (words or slug).strip()
            return element, m.start(0), m.end(0)
        element = ElementTree.Element("a", {"href": target.path, "class": "kb-entry-link"})
        element.text = (words or target.title).strip()
        return element, m.start(0), m.end(0)


class _DemoteTitleHeadings(Treeprocessor):
    """The page owns the one h1 (the entry's title), so `# Heading` in text becomes h2."""

    def run(self, root: ElementTree.Element) -> None:
        for element in root.iter("h1"):
            element.tag = "h2"


_LISTS = frozenset({"ul", "ol"})


def _own_text(element: ElementTree.Element) -> str:
    """An element's words, leaving out lists nested inside it (their items have anchors of their own)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag not in _LISTS:
            parts.append(_own_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


class _ParagraphAnchors(Treeprocessor):
    """Gives each paragraph and list item an id from its own words, recording them in reading order.

    A list item holding paragraphs is anchored through those paragraphs, not twice.
    """

    def __init__(self, md: markdown.Markdown, found: list[Paragraph]):
        super().__init__(md)
        self.found = found

    def run(self, root: ElementTree.Element) -> None:
        elements = [
            element
            for element in root.iter()
            if (element.tag == "p" or (element.tag == "li" and element.find("p") is None))
            and "id" not in element.attrib
            and _own_text(element)
        ]
        texts = [_own_text(element) for element in elements]
        for element, text, anchor in zip(elements, texts, assign_anchors(texts), strict=True):
            element.set("id", anchor)
            self.found.append(Paragraph(anchor, text))


class _KbExtension(Extension):
    """Registers internal links and removes raw HTML handling."""

    def __init__(
        self,
        resolve: LinkResolver | None,
        found: list[str],
        missing: list[str],
        placeholders: Placeholders,
        paragraphs: list[Paragraph] | None = None,
    ):
        super().__init__()
        self.placeholders = placeholders
        self.resolve = resolve
        self.found = found
        self.missing = missing
        self.paragraphs = paragraphs

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802
        # Raw HTML is never trusted: without these two, "<script>" arrives as text.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        processor = _InternalLinkProcessor(self.resolve, self.found, self.missing)
        md.inlinePatterns.register(processor, "kb_internal_link", 175)
        md.treeprocessors.register(_DemoteTitleHeadings(md), "kb_demote_h1", 30)
        # Around the inline patterns (20): after footnotes are gathered (50), before headings are read (5).
        md.treeprocessors.register(NeutraliseInline(md, self.placeholders), "kb_neutralise", 25)
        md.treeprocessors.register(RestorePlaceholders(md, self.placeholders), "kb_restore", 17)
        if self.paragraphs is not None:
            # After every other tree step (escapes are put back at priority 0), so the words are final.
            md.treeprocessors.register(_ParagraphAnchors(md, self.paragraphs), "kb_paragraph_anchors", -10)
        # Last, so every extension's inline patterns are registered (this extension comes last in `render`).
        limit_inline_matches(md)


def _heading_slugify(prefix: str) -> Callable[[str, str], str]:
    def slugify(value: str, separator: str) -> str:
        return f"h-{prefix}{slugify_unicode(value, separator) or 'section'}"

    return slugify


def _flatten_toc(tokens: list[dict], into: list[Heading]) -> list[Heading]:
    for token in tokens:
        into.append(Heading(token["level"], token["id"], html.unescape(token["name"])))
        _flatten_toc(token.get("children", []), into)
    return into


def _keep_safe_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "id":
        return value if _SAFE_ID.match(value) else None
    if attribute == "class":
        kept = [name for name in value.split() if _SAFE_CLASS.match(name)]
        return " ".join(kept) or None
    return value


def sanitise(html: str) -> str:
    """Clean HTML with kb's allowlist: safe tags, safe URL schemes, kb-made ids only."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_safe_attribute,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render(
    text: str, resolve: LinkResolver | None = None, *, anchor_prefix: str = "", paragraph_anchors: bool = False
) -> Rendered:
    """Render Markdown to sanitised HTML.

    `anchor_prefix` keeps heading and footnote ids apart when several texts share one page;
    `paragraph_anchors` gives each paragraph and list item its stable id (see the module).
    Never raises on odd input: whatever the text, the result is safe HTML.
    """
    found: list[str] = []
    missing: list[str] = []
    paragraphs: list[Paragraph] | None = [] if paragraph_anchors else None
    placeholders = Placeholders.for_text(text)
    md = markdown.Markdown(
        extensions=[
            "tables",
            "fenced_code",
            # Footnote ids are "fn" + separator + name, so the separator carries the prefix.
            LinearFootnotes(SEPARATOR=f"-{anchor_prefix}", BACKLINK_TITLE="Back to reference %d"),
            "sane_lists",
            "toc",
            _KbExtension(resolve, found, missing, placeholders, paragraphs),
        ],
        extension_configs={
            "tables": {"use_align_attribute": True},
            "toc": {"slugify": _heading_slugify(anchor_prefix), "toc_depth": "2-4"},
        },
        output_format="html",
    )
    output = placeholders.restore(md.convert(neutralise_containers(text, placeholders)))
    headings = _flatten_toc(getattr(md, "toc_tokens", []), [])
    return Rendered(sanitise(output), headings, found, missing, paragraphs or [])
