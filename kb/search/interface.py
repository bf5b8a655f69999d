"""The search backend interface: what Whoosh and PostgreSQL full-text search each do, the same way.

The app builds one backend at start (`kb.search.backend.build`) and callers reach it through
`kb.search.backend.backend()`; none asks which one runs. An entry is indexed or removed by
queueing it (`lifecycle.queue_for_indexing`, in the change's transaction) and draining the
queue: each queued entry's current state is written, or its document removed when the entry
is gone. Facet counts and spelling suggestions come with the results of `search`, worked out
from the same matches. `Layer` wraps a backend to change part of what it does (see
docs/search.md, "Adding a backend or a layer").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from kb.entries.models import Entry, Lesson
from kb.permissions import Viewer
from kb.search.types import CheckReport, DrainReport, IndexStatus, ProgressCallback, SearchRequest, SearchResults

EntryIds = npt.NDArray[np.int64]
"""Entry ids, ascending, each once."""


class SearchBackend(Protocol):
    """A search engine kept in step with the database, read through the viewer's visibility."""

    def search(self, viewer: Viewer, request: SearchRequest) -> SearchResults:
        """A page of results, the total, facet counts and any suggestion, all among what `viewer` may see.

        Raises `SearchUnavailableError` while the backend cannot be read.
        """
        ...

    def visible_entry_ids(
        self, viewer: Viewer, facets: dict[str, list[str]] | None = None, *, listed: bool = False
    ) -> EntryIds:
        """Every entry `viewer` may see with all the chosen `facets`, as `search` counts them; with `listed`, may list.

        The same visibility rule as `search` (`listed`: less merged duplicates, as related
        lists) over what the backend holds, so an entry changed since the last drain counts
        as it was indexed: whatever is shown is still loaded through the database's rule.
        Cheap enough for every search. Raises `SearchUnavailableError` while the backend
        cannot be read.
        """
        ...

    def related_ids(self, viewer: Viewer, entry: Entry, *, limit: int, exclude: Sequence[int]) -> list[int]:
        """Ids of up to `limit` entries most like `entry` in their words, among those `viewer` may see, best first."""
        ...

    def similar_lesson_ids(self, viewer: Viewer, lesson: Lesson, *, limit: int, exclude: Sequence[int]) -> list[int]:
        """Ids of visible lessons like `lesson` from another region or another year, best first."""
        ...

    def drain(self, *, timeout: float, merge_in_background: bool = True) -> DrainReport:
        """Index (or remove) every queued entry, waiting up to `timeout` seconds for the write lock.

        Raises `LockTimeoutError` when another process keeps the lock, `IndexUnavailableError`
        when there is nothing to write to; the rows then stay queued for the next drain.
        """
        ...

    def rebuild(
        self,
        *,
        processes: int = 1,
        total: ProgressCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> int:
        """Write every entry's document afresh while searches keep working; returns how many it holds.

        Raises `LockTimeoutError` when another rebuild is running.
        """
        ...

    def indexed_fingerprints(self) -> dict[str, str | None]:
        """Every indexed entry's id (as text) and the fingerprint its document was written with.

        Raises `IndexUnavailableError` when the index cannot be read.
        """
        ...

    def check(self) -> CheckReport:
        """How the index differs from the database (`kb.search.check.compare` of `indexed_fingerprints`)."""
        ...

    def ensure_ready(self, mode: str | None = None) -> str | None:
        """At start: None when the backend can serve, else what is wrong (repairing it as `mode` allows)."""
        ...

    def status(self) -> IndexStatus:
        """Whether searches can be served now, for `/healthz` and `/readyz`."""
        ...

    def location(self) -> str:
        """Where the documents are, for messages (a folder, or the database)."""
        ...

    def close(self) -> None:
        """Let go of this thread's open readers (commands that replace the index call this)."""
        ...

    def mark_for_rebuild(self) -> None:
        """Make the next start or search rebuild the index (after the database was replaced)."""
        ...


class Layer:
    """A backend around another: every call is passed to `inner` unless the layer overrides it.

    A layer (a document index beside the entries', a re-ranking of results) subclasses this,
    overrides what it changes, and is listed in `kb.search.backend.LAYERS`.
    """

    def __init__(self, inner: SearchBackend) -> None:
        self.inner = inner

    def search(self, viewer: Viewer, request: SearchRequest) -> SearchResults:
        """`inner`'s results."""
        return self.inner.search(viewer, request)

    def visible_entry_ids(
        self, viewer: Viewer, facets: dict[str, list[str]] | None = None, *, listed: bool = False
    ) -> EntryIds:
        """`inner`'s visible entries."""
        return self.inner.visible_entry_ids(viewer, facets, listed=listed)

    def related_ids(self, viewer: Viewer, entry: Entry, *, limit: int, exclude: Sequence[int]) -> list[int]:
        """`inner`'s related entries."""
        return self.inner.related_ids(viewer, entry, limit=limit, exclude=exclude)

    def similar_lesson_ids(self, viewer: Viewer, lesson: Lesson, *, limit: int, exclude: Sequence[int]) -> list[int]:
        """`inner`'s similar lessons."""
        return self.inner.similar_lesson_ids(viewer, lesson, limit=limit, exclude=exclude)

    def drain(self, *, timeout: float, merge_in_background: bool = True) -> DrainReport:
        """`inner`'s drain."""
        return self.inner.drain(timeout=timeout, merge_in_background=merge_in_background)

    def rebuild(
        self,
        *,
        processes: int = 1,
        total: ProgressCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> int:
        """`inner`'s rebuild."""
        return self.inner.rebuild(processes=processes, total=total, on_progress=on_progress)

    def indexed_fingerprints(self) -> dict[str, str | None]:
        """`inner`'s listing."""
        return self.inner.indexed_fingerprints()

    def check(self) -> CheckReport:
        """`inner`'s check."""
        return self.inner.check()

    def ensure_ready(self, mode: str | None = None) -> str | None:
        """`inner`'s start-up check."""
        return self.inner.ensure_ready(mode)

    def status(self) -> IndexStatus:
        """`inner`'s status."""
        return self.inner.status()

    def location(self) -> str:
        """`inner`'s location."""
        return self.inner.location()

    def close(self) -> None:
        """Close `inner`'s readers."""
        self.inner.close()

    def mark_for_rebuild(self) -> None:
        """Mark `inner` for rebuilding."""
        self.inner.mark_for_rebuild()
