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


def current_viewer() -> Viewer | None:
    """The viewer of the current request; anonymous (None) until accounts exist."""
    return None
