"""The Whoosh backend: an index in files on this host, behind `kb.search.interface.SearchBackend`.

Its parts keep their own modules (`storage` the folders, lock and searchers; `indexing` the
writing; `whoosh_search` the reading; `docsets`, `corrections`, `schema`); this class ties
them to the interface and owns the repairs: at start a missing, damaged or outdated index is
rebuilt (`SEARCH_REBUILD_AT_START`), and a search that cannot read it starts one full check.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from flask import Flask

from kb.entries.models import Entry, Lesson
from kb.permissions import Viewer
from kb.search import indexing, whoosh_search
from kb.search.interface import EntryIds
from kb.search.storage import CURRENT_FILE, IndexStore
from kb.search.types import (
    CheckReport,
    DrainReport,
    IndexStatus,
    LockTimeoutError,
    ProgressCallback,
    SearchRequest,
    SearchResults,
)

log = logging.getLogger(__name__)


class WhooshBackend:
    """Search through the Whoosh index of `store`, repaired in the background for `app`."""

    def __init__(self, app: Flask, store: IndexStore) -> None:
        self.app = app
        self.store = store
        self._checking = threading.Lock()

    # Reading

    def search(self, viewer: Viewer, request: SearchRequest) -> SearchResults:
        """A page of results with facets and suggestions; raises `SearchUnavailableError` without an index."""
        return whoosh_search.search(self, viewer, request)

    def visible_entry_ids(
        self, viewer: Viewer, facets: dict[str, list[str]] | None = None, *, listed: bool = False
    ) -> EntryIds:
        """The entries in the viewer's filter and the chosen facets, from the index (cached per searcher)."""
        return whoosh_search.visible_entry_ids(self, viewer, facets, listed=listed)

    def related_ids(self, viewer: Viewer, entry: Entry, *, limit: int, exclude: Sequence[int]) -> list[int]:
        """Entries like `entry` (Whoosh's "more like this" within the viewer's filter)."""
        return whoosh_search.related_ids(self, viewer, entry, limit=limit, exclude=exclude)

    def similar_lesson_ids(self, viewer: Viewer, lesson: Lesson, *, limit: int, exclude: Sequence[int]) -> list[int]:
        """Lessons like `lesson` from another region or year."""
        return whoosh_search.similar_lesson_ids(self, viewer, lesson, limit=limit, exclude=exclude)

    # Writing

    def drain(self, *, timeout: float, merge_in_background: bool = True) -> DrainReport:
        """Index every queued change under the writer lock (`indexing.drain`)."""
        return indexing.drain(self.store, timeout=timeout, merge_in_background=merge_in_background)

    def rebuild(
        self,
        *,
        processes: int = 1,
        total: ProgressCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> int:
        """Build a new generation from the database and swap it in (`indexing.rebuild`)."""
        return indexing.rebuild(self.store, processes=processes, total=total, on_progress=on_progress)

    def indexed_fingerprints(self) -> dict[str, str | None]:
        """Every entry document's id and fingerprint, read under the writer lock."""
        return indexing.indexed_fingerprints(self.store)

    def check(self) -> CheckReport:
        """How the index differs from the database."""
        return indexing.check(self.store)

    # State and repair

    def status(self) -> IndexStatus:
        """Whether the index in use opens and reads, and whether a rebuild is running."""
        problem = self.store.status()
        rebuilding = problem is not None and self.store.rebuild_running()
        return IndexStatus(problem=problem, detail="index open" if problem is None else problem, rebuilding=rebuilding)

    def location(self) -> str:
        """The folder of the generation in use."""
        return str(self.store.root / (self.store.current_generation() or ""))

    def close(self) -> None:
        """Close this thread's searcher."""
        self.store.close_searchers()

    def mark_for_rebuild(self) -> None:
        """Forget which generation is in use, so the next start or search rebuilds the index."""
        self.store.close_searchers()
        (self.store.root / CURRENT_FILE).unlink(missing_ok=True)

    def ensure_ready(self, mode: str | None = None) -> str | None:
        """Check the index in use; when it is missing or damaged, rebuild it.

        `mode` is "inline", "background" or "off" (default: the `SEARCH_REBUILD_AT_START`
        setting). Returns what was wrong, or None when the index was fine.
        """
        problem = self.store.status()
        if problem is None:
            return None
        if self.store.rebuild_running():
            return problem
        mode = mode or self.app.config["SEARCH_REBUILD_AT_START"]
        if mode == "off":
            log.warning("%s; run `flask --app kb search rebuild`", problem)
            return problem
        log.warning("%s; rebuilding it from the database", problem)
        self._run(mode, self._rebuild_logged)
        return problem

    def index_failed(self) -> None:
        """A search failed while reading the index: read all of it, and rebuild it if it is damaged.

        The full read takes a while on a large index, so outside "inline" mode it runs in
        the background while the reader is told search is being rebuilt. One check at a time
        per process, and none while a rebuild runs: every search on a damaged index fails,
        and each would otherwise start another full read.
        """
        self.store.close_searchers()  # This thread's searcher read the damage; the next search opens it afresh.
        if self.store.rebuild_running() or not self._checking.acquire(blocking=False):
            return
        mode = self.app.config["SEARCH_REBUILD_AT_START"]
        self._run("inline" if mode == "inline" else "background", self._check_fully_once)

    def _check_fully_once(self) -> None:
        try:
            problem = self.store.status(full=True)
            if problem is None or self.store.rebuild_running():
                return
            log.warning("%s; rebuilding it from the database", problem)
            self._rebuild_logged()
        finally:
            self._checking.release()

    def _run(self, mode: str, work: Callable[[], None]) -> None:
        if mode == "inline":
            work()
        else:
            threading.Thread(target=work, name="kb-search-repair", daemon=True).start()

    def _rebuild_logged(self) -> None:
        with self.app.app_context():  # A thread of its own needs one.
            try:
                count = indexing.rebuild(self.store)
            except LockTimeoutError:
                return
            except Exception:
                log.exception("Rebuilding the search index failed")
                return
            log.warning("Search index rebuilt: %s entries", count)
