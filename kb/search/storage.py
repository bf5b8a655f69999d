"""The index on disk: generations swapped atomically, the writer lock, and per-thread searchers.

`SEARCH_INDEX_DIR` holds one directory per built index (`gen-...`), a `current` file
naming the one in use, and two lock files. A rebuild fills a new generation and then
replaces `current` in one `os.replace`, so searches keep working on the old one until
the new one is ready. Every process and thread checks `current` and the index's own
version before each search and reopens when either changed: Whoosh's
`Searcher.refresh()` is not used, because whoosh-reloaded's returns stale documents.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.searching import Searcher

from kb.errors import UnavailableError
from kb.search.schema import build_schema

log = logging.getLogger(__name__)

CURRENT_FILE = "current"
WRITE_LOCK = "write.lock"
REBUILD_LOCK = "rebuild.lock"
GENERATION_PREFIX = "gen-"


_SCHEMA_NAMES = build_schema().names()


class IndexUnavailableError(UnavailableError):
    """There is no usable index: it is missing, damaged, or of an older schema."""


class LockTimeoutError(UnavailableError):
    """Another process held a search lock for longer than we were willing to wait."""


@dataclass
class SearcherState:
    """One open searcher and what is cached for its version of the index (shared between threads)."""

    generation: str
    searcher: Searcher
    cache: dict[Any, Any] = field(default_factory=dict)


class IndexStore:
    """The generations of the index under one root folder, shared by every process on the host."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._local = threading.local()
        self._caches: dict[tuple[str, int], dict[Any, Any]] = {}
        self._caches_lock = threading.Lock()

    # Generations

    def current_generation(self) -> str | None:
        """The name of the generation in use, or None before the first build."""
        try:
            name = (self.root / CURRENT_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def open_current(self) -> index.Index:
        """The index in use; raises `IndexUnavailableError` when there is none or it is unreadable."""
        name = self.current_generation()
        if name is None:
            raise IndexUnavailableError(f"no search index has been built in {self.root}")
        return self._open(name)

    def _open(self, name: str) -> index.Index:
        folder = self.root / name
        try:
            opened = index.open_dir(str(folder))
        except Exception as error:  # Whoosh raises many kinds for a damaged index.
            raise IndexUnavailableError(f"the search index in {folder} cannot be opened: {error}") from error
        if opened.schema.names() != _SCHEMA_NAMES:
            raise IndexUnavailableError(f"the search index in {folder} was built with an older schema")
        return opened

    def new_generation(self) -> tuple[str, index.Index]:
        """A new, empty index beside the current one, not yet in use."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"{GENERATION_PREFIX}{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        folder = self.root / name
        folder.mkdir()
        return name, index.create_in(str(folder), build_schema())

    def activate(self, name: str) -> None:
        """Make generation `name` the one in use, in one atomic rename, and delete older ones.

        The generation that was in use is kept, for searchers still reading it.
        """
        previous = self.current_generation()
        temporary = self.root / f".{CURRENT_FILE}-{uuid.uuid4().hex[:8]}"
        temporary.write_text(name + "\n", encoding="utf-8")
        os.replace(temporary, self.root / CURRENT_FILE)
        keep = {name, previous}
        for folder in self.root.glob(f"{GENERATION_PREFIX}*"):
            if folder.name not in keep and folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)

    def status(self, *, full: bool = False) -> str | None:
        """None when the index in use opens and reads; otherwise what is wrong with it.

        The quick check opens every segment and reads the first postings of every field,
        the first and last stored documents and a field length. `full=True` reads every
        posting and every stored document, which finds damage anywhere but takes longer.
        """
        try:
            opened = self.open_current()
            with opened.searcher() as searcher:
                _read_index(searcher, full=full)
        except IndexUnavailableError as problem:
            return str(problem)
        except Exception as error:  # A damaged segment shows only when read.
            return f"the search index in {self.root} cannot be read: {error}"
        return None

    # Locks

    @contextmanager
    def write_lock(self, timeout: float) -> Iterator[None]:
        """Hold the one lock under which the index in use is written, waiting up to `timeout` seconds."""
        with self._flock(WRITE_LOCK, timeout):
            yield

    @contextmanager
    def rebuild_lock(self) -> Iterator[None]:
        """Hold the rebuild lock, or raise `LockTimeoutError` at once if a rebuild is running."""
        with self._flock(REBUILD_LOCK, 0):
            yield

    def rebuild_running(self) -> bool:
        """Whether some process is rebuilding the index now."""
        try:
            with self.rebuild_lock():
                return False
        except LockTimeoutError:
            return True

    @contextmanager
    def _flock(self, name: str, timeout: float) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        with open(self.root / name, "a+b") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeoutError(f"{self.root / name} is held by another process") from None
                    time.sleep(0.01)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # Searchers

    def searcher_state(self) -> SearcherState:
        """The calling thread's searcher on the latest committed index, reopened when it changed."""
        state: SearcherState | None = getattr(self._local, "state", None)
        name = self.current_generation()
        if state is not None and state.generation == name and state.searcher.up_to_date():
            return state
        if state is not None:
            state.searcher.close()
            self._local.state = None
        if name is None:
            raise IndexUnavailableError(f"no search index has been built in {self.root}")
        try:
            searcher = self._open(name).searcher()
        except IndexUnavailableError:
            raise
        except Exception as error:
            raise IndexUnavailableError(f"the search index in {self.root / name} cannot be read: {error}") from error
        self._local.state = SearcherState(generation=name, searcher=searcher, cache=self._cache_for(name, searcher))
        return self._local.state

    def _cache_for(self, name: str, searcher: Searcher) -> dict[Any, Any]:
        """The cache shared by every thread's searcher on the same version of the index."""
        version = (name, searcher.reader().generation())
        with self._caches_lock:
            if version not in self._caches:
                for old in list(self._caches)[:-1]:
                    del self._caches[old]
                self._caches[version] = {}
            return self._caches[version]

    def close_searchers(self) -> None:
        """Close this thread's searcher (tests and commands that replace the index call this)."""
        state: SearcherState | None = getattr(self._local, "state", None)
        if state is not None:
            state.searcher.close()
            self._local.state = None


def _read_index(searcher: Searcher, *, full: bool) -> None:
    """Read the parts of an index a search uses; raises whatever Whoosh raises on damage."""
    reader = searcher.reader()
    total = reader.doc_count_all()
    for fieldname in reader.indexed_field_names():
        for number, term in enumerate(reader.lexicon(fieldname)):
            if number and not full:
                break
            list(reader.postings(fieldname, term).all_ids())
    documents = range(total) if full else sorted({0, total - 1}) if total else []
    for docnum in documents:
        if not reader.is_deleted(docnum):
            reader.stored_fields(docnum)
    if total:
        reader.doc_field_length(total - 1, "text")
