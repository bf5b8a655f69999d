"""Loading the entries a search or a "similar entries" list found, through the one visibility rule.

Whatever an index or a remembered list says, an entry reaches a page only if
`visible_entries(viewer)` lets it through at the moment the page is made; lists of related
and similar entries also leave merged duplicates out (`listed_entries`), since their address
leads to an entry the page already shows or is.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import selectinload

from kb.entries.models import Entry
from kb.extensions import db
from kb.permissions import Viewer, listed_entries, visible_entries


def load_visible(viewer: Viewer, ids: Sequence[int]) -> list[Entry]:
    """The entries of `ids` that `viewer` may see now, in the order given, with their tags."""
    return _load(ids, visible_entries(viewer))


def load_listed(viewer: Viewer, ids: Sequence[int]) -> list[Entry]:
    """As `load_visible`, less merged duplicates (`listed_entries`): for lists of related and similar entries."""
    return _load(ids, listed_entries(viewer))


def _load(ids: Sequence[int], allowed: ColumnElement[bool]) -> list[Entry]:
    if not ids:
        return []
    query = select(Entry).where(Entry.id.in_(ids), allowed).options(selectinload(Entry.tags))
    found = {entry.id: entry for entry in db.session.scalars(query)}
    return [found[entry_id] for entry_id in ids if entry_id in found]
