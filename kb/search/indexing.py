"""Writing the Whoosh index: drain the queue of changes, rebuild from scratch, list it for `search check`.

Web requests never leave the index behind the database: a change queues its entry in
the same transaction (`kb.search.lifecycle`), and after the commit the request drains the
queue under the writer lock. A process that cannot get the lock in time leaves its rows
for whichever process drains next, so no change is lost and nobody sees a LockError.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Collection

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from whoosh import index
from whoosh.writing import IndexWriter

from kb.dates import utcnow
from kb.extensions import db
from kb.search.check import compare
from kb.search.comment_texts import indexed_comment_bodies
from kb.search.documents import entry_words, index_document
from kb.search.link_words import link_readers
from kb.search.models import SearchQueueItem
from kb.search.page_texts import indexed_documents
from kb.search.queue import (
    BATCH_SIZE,
    KEEP_DONE,
    all_entry_ids,
    batches,
    load_entries,
    pending_rows,
    record_drained,
)
from kb.search.storage import IndexStore
from kb.search.types import CheckReport, DrainReport, ProgressCallback

log = logging.getLogger(__name__)

REPLAY_MARGIN = dt.timedelta(minutes=10)
"""How far before a rebuild's start its replay reaches back, to cover transactions that
were open when it began and committed after it read their entries."""
MERGE_AT_SEGMENTS = 8
"""Segments are merged in the background once an index has this many."""

VOCABULARY_PREFIX = "vocabulary:"
"""The id of a document that holds spelling words, not an entry."""


def write_entries(
    writer: IndexWriter, session: Session, entry_ids: Collection[int], words: set[str]
) -> list[tuple[int, str]]:
    """Index the current state of each entry (removing any that no longer exist); add their words to `words`.

    Returns the (entry id, error) of entries that could not be indexed; the others are
    written whatever happens to one of them.
    """
    failures: list[tuple[int, str]] = []
    entries = load_entries(session, entry_ids)
    comments = indexed_comment_bodies(session, entries)
    documents = indexed_documents(session, entries)
    links = link_readers(entries.values(), session)
    for entry_id in entry_ids:
        entry = entries.get(entry_id)
        if entry is None:
            writer.delete_by_term("id", str(entry_id))
            continue
        try:
            document = index_document(entry, comments.get(entry_id, ()), documents.get(entry_id), links[entry_id])
            writer.update_document(**document)
        except Exception as error:  # One bad entry must not stop the others being indexed.
            log.exception("Could not index entry %s", entry_id)
            failures.append((entry_id, f"{type(error).__name__}: {error}"))
            continue
        words.update(entry_words(document))
    return failures


def add_vocabulary(writer: IndexWriter, words: set[str], opened: index.Index | None = None) -> None:
    """Add the words not yet in the spelling vocabulary of `opened` (all of them for a new index).

    The vocabulary is a document holding only the `spell` field: one posting per new word
    instead of one per word and entry, which made indexing a third slower. It matches no
    search, and the visibility filter, which needs an entry's status, never lets it through.
    """
    if opened is not None:
        with opened.reader() as reader:
            words = {word for word in words if ("spell", word) not in reader}
    if words:
        writer.add_document(id=f"{VOCABULARY_PREFIX}{uuid.uuid4().hex}", spell=sorted(words))


def drain(store: IndexStore, *, timeout: float, merge_in_background: bool = True) -> DrainReport:
    """Index every queued change, under the writer lock (waiting up to `timeout` seconds for it).

    Raises `LockTimeoutError` when another process keeps the lock, and
    `IndexUnavailableError` when there is no index to write to; in both cases the rows
    stay queued for the next drain.
    """
    report = DrainReport()
    with store.write_lock(timeout), Session(db.engine) as session:
        opened = store.open_current()
        last = 0
        # Each row is tried once per drain; one that fails waits for the next drain.
        while rows := pending_rows(session, BATCH_SIZE, after=last):
            last = rows[-1][0]
            entry_ids = list(dict.fromkeys(entry_id for _, entry_id in rows))
            writer = opened.writer(compound=False)
            try:
                words: set[str] = set()
                failures = write_entries(writer, session, entry_ids, words)
                add_vocabulary(writer, words, opened)
                writer.commit(merge=False)
            except BaseException:
                writer.cancel()
                raise
            record_drained(session, rows, failures)
            session.commit()
            report.indexed += len(entry_ids) - len(failures)
            report.failed += failures
        session.execute(delete(SearchQueueItem).where(SearchQueueItem.indexed_at < utcnow() - KEEP_DONE))
        session.commit()
    if merge_in_background:
        merge_soon(store)
    return report


_merging = threading.Lock()


def segment_count(opened: index.Index) -> int:
    """How many segments the index is made of."""
    return len(opened._segments())


def merge_soon(store: IndexStore) -> None:
    """Merge small segments in a background thread when there are many, so saves stay fast."""
    try:
        if segment_count(store.open_current()) < MERGE_AT_SEGMENTS:
            return
    except Exception:  # Nothing to merge in an index that cannot be opened.
        return
    if not _merging.acquire(blocking=False):
        return
    thread = threading.Thread(target=_merge, args=(store,), name="kb-search-merge", daemon=True)
    thread.start()


def _merge(store: IndexStore) -> None:
    try:
        with store.write_lock(timeout=30):
            writer = store.open_current().writer(compound=False)
            writer.commit(merge=True)
    except Exception:
        log.exception("Merging search index segments failed; it will be tried again after the next save")
    finally:
        _merging.release()


def rebuild(
    store: IndexStore,
    *,
    on_progress: ProgressCallback | None = None,
    total: Callable[[int], None] | None = None,
    processes: int = 1,
) -> int:
    """Build a new index from the database and swap it in; returns how many entries it holds.

    Searches keep using the old index until the swap. Changes committed while the new
    one was built are replayed into it under the writer lock just before the swap.
    `processes` above 1 analyses entries in that many worker processes (for the command
    line; a web process rebuilds in one). Raises `LockTimeoutError` when another rebuild
    is running.
    """
    with store.rebuild_lock(), Session(db.engine) as session:
        started = utcnow()
        name, fresh = store.new_generation()
        ids = all_entry_ids(session)
        if total is not None:
            total(len(ids))
        parallel = {"procs": processes, "multisegment": True} if processes > 1 else {}
        writer = fresh.writer(compound=False, limitmb=128, **parallel)
        words: set[str] = set()
        failed = 0
        try:
            for batch in batches(ids, BATCH_SIZE):
                failed += len(write_entries(writer, session, batch, words))
                session.expunge_all()
                if on_progress is not None:
                    on_progress(len(batch))
            add_vocabulary(writer, words)
            writer.commit(optimize=processes == 1)
        except BaseException:
            writer.cancel()
            raise
        with store.write_lock(timeout=60):
            _replay_since(fresh, session, started - REPLAY_MARGIN)
            store.activate(name)
        return len(ids) - failed


def _replay_since(opened: index.Index, session: Session, since: dt.datetime) -> None:
    """Write into `opened` every entry queued since `since` or still pending; mark them all done."""
    rows = session.execute(
        select(SearchQueueItem.id, SearchQueueItem.entry_id).where(
            (SearchQueueItem.queued_at >= since) | SearchQueueItem.indexed_at.is_(None)
        )
    ).all()
    if rows:
        writer = opened.writer(compound=False)
        try:
            words: set[str] = set()
            write_entries(writer, session, list(dict.fromkeys(row.entry_id for row in rows)), words)
            add_vocabulary(writer, words, opened)
            writer.commit(merge=False)
        except BaseException:
            writer.cancel()
            raise
    session.execute(
        update(SearchQueueItem)
        .where(SearchQueueItem.indexed_at.is_(None), SearchQueueItem.id <= max((row.id for row in rows), default=0))
        .values(indexed_at=utcnow(), attempts=0, last_error=None)
    )
    session.commit()


def indexed_fingerprints(store: IndexStore) -> dict[str, str | None]:
    """Each entry document's id and fingerprint, read under the writer lock.

    A background merge deletes the segment files it replaces, and Whoosh opens a
    segment's stored fields only when they are first read; holding the lock keeps a
    merge from pulling them away in the middle of the read.
    """
    with store.write_lock(timeout=60), store.open_current().searcher() as searcher:
        return {
            fields["id"]: fields.get("fingerprint")
            for fields in searcher.all_stored_fields()
            if not fields["id"].startswith(VOCABULARY_PREFIX)
        }


def check(store: IndexStore, *, batch_size: int = BATCH_SIZE) -> CheckReport:
    """Compare every entry's index document with what the database says it should be now."""
    return compare(indexed_fingerprints(store), batch_size=batch_size)
