"""The one visibility rule, as a predicate for one entry and as a SQL filter for queries.

Every page, list, count and backlink asks this module what a viewer may see. Until
accounts exist every viewer is anonymous, and an anonymous viewer sees published public
entries only; drafts and restricted entries answer 404 like missing ones.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import ColumnElement, and_

from kb.entries.models import Entry


class Viewer(Protocol):
    """Whoever is looking; accounts will supply richer viewers with roles."""

    is_authenticated: bool


def visible_entries(viewer: Viewer | None) -> ColumnElement[bool]:
    """SQL condition on `Entry` that keeps only the entries `viewer` may see."""
    return and_(Entry.status == "published", Entry.visibility == "public")


def can_view_entry(viewer: Viewer | None, entry: Entry) -> bool:
    """Whether `viewer` may see `entry`; the same rule as `visible_entries`."""
    return entry.status == "published" and entry.visibility == "public"


def link_is_shown(source_visibility: str, target_status: str, target_visibility: str) -> bool:
    """Whether a link may show its target's title and address inside another entry's text.

    Rendered text is stored once for every reader, so a link is shown only when everyone
    who can read the linking entry can also read the target.
    """
    if target_status != "published":
        return False
    if target_visibility == "public":
        return True
    return target_visibility == "members" and source_visibility != "public"


def current_viewer() -> Viewer | None:
    """The viewer of the current request; anonymous (None) until accounts exist."""
    return None
