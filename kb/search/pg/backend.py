"""The PostgreSQL backend behind `kb.search.interface.SearchBackend`: documents in the database itself.

`service` searches them, `related` finds related entries in them and `indexing` writes them;
there are no files, so nothing to repair at start or to mark for rebuilding (a restored
database brings its documents with it).
"""

from __future__ import annotations

from collections.abc import Sequence

from kb.entries.models import Entry, Lesson
from kb.permissions import Viewer
from kb.search.interface import EntryIds
from kb.search.pg import indexing, related, service
from kb.search.types import CheckReport, DrainReport, IndexStatus, ProgressCallback, SearchRequest, SearchResults


class PostgresBackend:
    """Search through the `search_documents` table of the app's PostgreSQL database."""

    def search(self, viewer: Viewer, request: SearchRequest) -> SearchResults:
        """A page of results with facets and suggestions, counted among the entries `viewer` may see."""
        return service.search(viewer, request)

    def visible_entry_ids(
        self, viewer: Viewer, facets: dict[str, list[str]] | None = None, *, listed: bool = False
    ) -> EntryIds:
        """The entries with a document that the viewer may see and that have the chosen facets, read in one query."""
        return service.visible_entry_ids(viewer, facets, listed=listed)

    def related_ids(self, viewer: Viewer, entry: Entry, *, limit: int, exclude: Sequence[int]) -> list[int]:
        """Entries sharing `entry`'s most telling lexemes, best ranked first."""
        return related.related_ids(viewer, entry, limit=limit, exclude=exclude)

    def similar_lesson_ids(self, viewer: Viewer, lesson: Lesson, *, limit: int, exclude: Sequence[int]) -> list[int]:
        """Lessons like `lesson` from another region or year."""
        return related.similar_lesson_ids(viewer, lesson, limit=limit, exclude=exclude)

    def drain(self, *, timeout: float, merge_in_background: bool = True) -> DrainReport:
        """Write every queued entry's document under the advisory lock (there is nothing to merge)."""
        return indexing.drain(timeout=timeout)

    def rebuild(
        self,
        *,
        processes: int = 1,
        total: ProgressCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> int:
        """Write every document again in one transaction (in this process: the database does the work)."""
        return indexing.rebuild(total=total, on_progress=on_progress)

    def indexed_fingerprints(self) -> dict[str, str | None]:
        """Every document's entry id and fingerprint."""
        return indexing.indexed_fingerprints()

    def check(self) -> CheckReport:
        """How the documents differ from the database."""
        return indexing.check()

    def status(self) -> IndexStatus:
        """Always servable as far as search knows: the database check says whether the database answers."""
        return IndexStatus(problem=None, detail="postgresql search, in the database")

    def location(self) -> str:
        """The documents are in the database."""
        return "PostgreSQL search documents"

    def ensure_ready(self, mode: str | None = None) -> str | None:
        """None when the document table can be read; otherwise what is wrong (nothing to rebuild)."""
        return indexing.ready()

    def close(self) -> None:
        """Nothing is held open between searches."""

    def mark_for_rebuild(self) -> None:
        """Nothing to mark: the restored database holds its documents."""
