"""What pages need from outside-facing work: absolute addresses, whether an entry is public, feed links.

Registered as template globals by the feeds blueprint: `absolute_url(path)` for Open
Graph addresses, `public_entry(entry)` (the visibility rule asked for an anonymous
reader) so a page that is not public never describes its entry's content in meta tags,
and `search_feed_url()` for the search page's feed, with the page's own filters.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, url_for

from kb.entries.models import Entry
from kb.feeds.builder import absolute
from kb.permissions import ANONYMOUS, can_view_entry
from kb.search.routes import read_request, search_url
from kb.search.types import SearchRequest


def absolute_url(path: str) -> str:
    """`path` as an absolute address on `SITE_URL`."""
    return absolute(path)


def public_entry(entry: Entry) -> bool:
    """Whether anyone at all may read `entry`: the visibility rule for an anonymous reader."""
    return can_view_entry(ANONYMOUS, entry)


def search_feed_url(wanted: SearchRequest | None = None) -> str:
    """The feed of a search (the search on this page when none is given): the same words, filters and order."""
    query = urlsplit(search_url(read_request() if wanted is None else wanted)).query
    return url_for("feeds.search_feed") + (f"?{query}" if query else "")


def register(blueprint: Blueprint) -> None:
    """Make the helpers template globals of every app that registers `blueprint`."""
    for helper in (absolute_url, public_entry, search_feed_url):
        blueprint.add_app_template_global(helper)
