"""A per-process memory of which entries an entry page lists as similar, so most views skip the search.

Finding entries like another (Whoosh's "more like this", or the PostgreSQL backend's ranked
query) is the costliest part of an entry page, and the index it reads changes with every
comment, so a cache keyed by the index's generation would hardly ever be used. Similarity
moves slowly; visibility must never lag. So this keeps only entry ids, for a few minutes
(`RELATED_CACHE_SECONDS`, default 300; 0 turns it off), keyed by:

- the kind of list (related entries, or similar lessons elsewhere), the entry's id and its
  `updated_at` (an edited entry is looked up afresh), the ids left out and the length;
- the viewer's visibility class (`visibility_class`): staff, anonymous, or a member with
  their panel seats, and their own id only when they wrote entries (the one thing that makes
  two members with the same seats see different entries).

The entries themselves are always loaded from the database through `visible_entries(viewer)`,
the one visibility rule, for the viewer in hand: an entry hidden, unpublished or deleted since
is never shown. When fewer entries survive than were remembered, the list is computed afresh.
A similar entry added since appears when the remembered list expires. The memory lives on the
app (`app.extensions`), is bounded (`RELATED_CACHE_SIZE` lists, least recently used first out)
and is safe for threads.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

from flask import current_app, g, has_request_context
from sqlalchemy import bindparam, select

from kb.entries.models import Entry
from kb.extensions import db
from kb.permissions import Viewer, visibility_key
from kb.search.visible import load_listed

DEFAULT_SECONDS = 300.0
DEFAULT_SIZE = 4096
EXTENSION = "kb.related_cache"

_WROTE_ENTRIES = select(Entry.id).where(Entry.author_id == bindparam("author_id")).limit(1)


class RelatedCache:
    """Bounded, expiring lists of entry ids by key; thread-safe."""

    def __init__(self, seconds: float, size: int) -> None:
        self.seconds = seconds
        self.size = size
        self._lists: OrderedDict[Hashable, tuple[float, tuple[int, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[int, ...] | None:
        """The ids remembered under `key`, or None when there are none or they have expired."""
        with self._lock:
            found = self._lists.get(key)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._lists[key]
                return None
            self._lists.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, ids: Sequence[int]) -> None:
        """Remember `ids` under `key` for the cache's lifetime, dropping the least recently used beyond its size."""
        if self.seconds <= 0 or self.size <= 0:
            return
        with self._lock:
            self._lists[key] = (time.monotonic() + self.seconds, tuple(ids))
            self._lists.move_to_end(key)
            while len(self._lists) > self.size:
                self._lists.popitem(last=False)

    def clear(self) -> None:
        """Forget every list."""
        with self._lock:
            self._lists.clear()


def cache() -> RelatedCache:
    """The current app's cache, made on first use from `RELATED_CACHE_SECONDS` and `RELATED_CACHE_SIZE`."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(EXTENSION)
    if found is None:
        seconds = float(app.config.get("RELATED_CACHE_SECONDS", DEFAULT_SECONDS))
        size = int(app.config.get("RELATED_CACHE_SIZE", DEFAULT_SIZE))
        found = app.extensions.setdefault(EXTENSION, RelatedCache(seconds, size))
    return found


def visibility_class(viewer: Viewer) -> tuple[object, ...]:
    """The viewer's `permissions.visibility_key`: viewers with the same one see the same entries."""
    member = viewer.is_authenticated and not viewer.is_staff
    return visibility_key(viewer, wrote_entries=member and _wrote_entries(viewer))


def _wrote_entries(viewer: Viewer) -> bool:
    """Whether the viewer wrote any entry; asked once per request (an entry page has two lists)."""
    if not has_request_context():
        return db.session.scalar(_WROTE_ENTRIES, {"author_id": viewer.user_id}) is not None
    answers: dict[int | None, bool] = g.setdefault("kb_wrote_entries", {})
    if viewer.user_id not in answers:
        answers[viewer.user_id] = db.session.scalar(_WROTE_ENTRIES, {"author_id": viewer.user_id}) is not None
    return answers[viewer.user_id]


def key_for(kind: str, viewer: Viewer, entry: Entry, limit: int, exclude: Sequence[int]) -> tuple[Hashable, ...]:
    """The key a list is remembered under: what it is, of which entry as last changed, and who may see what."""
    return (kind, entry.id, entry.updated_at, tuple(sorted(set(exclude))), limit, visibility_class(viewer))


def remembered(
    kind: str,
    viewer: Viewer,
    entry: Entry,
    limit: int,
    exclude: Sequence[int],
    compute: Callable[[], list[int]],
) -> list[Entry]:
    """The entries `compute` finds (ids, best first) for this list, from memory while it is fresh.

    `compute` may raise (e.g. the index is unreadable): nothing is remembered then.
    """
    store = cache()
    if store.seconds <= 0 or store.size <= 0:
        return load_listed(viewer, compute())
    key = key_for(kind, viewer, entry, limit, exclude)
    ids = store.get(key)
    if ids is not None:
        entries = load_listed(viewer, ids)
        if len(entries) == len(ids):
            return entries
    entries = load_listed(viewer, compute())
    store.put(key, [found.id for found in entries])
    return entries
