"""Found from outside: `/robots.txt` and `/sitemap.xml`.

The sitemap lists the home page, the lists, the themes and the tags carried by public
entries, and every entry anyone may read (the visibility rule for an anonymous reader),
each entry with the time it last changed. robots.txt names it with its absolute address
and keeps crawlers out of accounts, administration, search results and personal feeds.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Blueprint, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from kb.dates import as_utc
from kb.entries.models import Entry
from kb.entries.queries import tag_counts
from kb.entries.vocabulary import KIND_PLURALS, entry_path
from kb.extensions import db
from kb.feeds.builder import absolute
from kb.permissions import ANONYMOUS, visible_entries
from kb.taxonomy.models import Theme

blueprint = Blueprint("discovery", __name__)
SITEMAP_NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000
"""The most addresses one sitemap may hold (sitemaps.org)."""
CACHE = "public, max-age=3600"
DISALLOWED = (
    "/account",
    "/admin",
    "/moderation",
    "/login",
    "/notifications",
    "/panels",
    "/search?",
    "/feeds/search.atom",
    "/*token=",
)
"""Address prefixes crawlers are asked to leave alone: personal, staff-only, endless search results, token addresses."""


@blueprint.get("/robots.txt")
def robots() -> Response:
    """Where crawlers may go, and the sitemap's absolute address."""
    lines = ["User-agent: *", *(f"Disallow: {prefix}" for prefix in DISALLOWED), ""]
    lines.append(f"Sitemap: {absolute(url_for('.sitemap'))}")
    return Response("\n".join(lines) + "\n", 200, {"Cache-Control": CACHE}, content_type="text/plain; charset=utf-8")


def _public_pages() -> list[tuple[str, str | None]]:
    """(path, last changed) of every page worth finding: lists, themes, tags in use, public entries."""
    pages: list[tuple[str, str | None]] = [(url_for("entries.home"), None)]
    pages += [(url_for("entries.list_kind", plural=plural), None) for plural in KIND_PLURALS.values()]
    pages += [(url_for("taxonomy.themes"), None), (url_for("taxonomy.tags"), None)]
    themes = db.session.scalars(select(Theme.slug).order_by(Theme.position, Theme.slug))
    pages += [(url_for("taxonomy.theme", slug=slug), None) for slug in themes]
    pages += [(url_for("taxonomy.tag", slug=tag.slug), None) for tag, _count in tag_counts(ANONYMOUS)]
    entries = db.session.execute(
        select(Entry.kind, Entry.slug, Entry.updated_at).where(visible_entries(ANONYMOUS)).order_by(Entry.id)
    )
    for kind, slug, updated in entries:
        pages.append((entry_path(kind, slug), as_utc(updated).isoformat(timespec="seconds")))
    return pages[:MAX_URLS]


@blueprint.get("/sitemap.xml")
def sitemap() -> Response:
    """The public pages as a sitemaps.org `urlset`, each entry with its `lastmod`."""
    root = Element("urlset", xmlns=SITEMAP_NAMESPACE)
    for path, changed in _public_pages():
        url = SubElement(root, "url")
        SubElement(url, "loc").text = absolute(path)
        if changed is not None:
            SubElement(url, "lastmod").text = changed
    document = tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(document, 200, {"Cache-Control": CACHE}, content_type="application/xml; charset=utf-8")
