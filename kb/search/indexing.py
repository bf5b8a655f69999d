"""Writing the index: drain the queue of changes, rebuild from scratch, compare with the database.

Web requests never leave the index behind the database: a change queues its entry in
the same transaction (`kb.search.hooks`), and after the commit the request drains the
queue under the writer lock. A process that cannot get the lock in time leaves its rows
for whichever process drains next, so no change is lost and nobody sees a LockError.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session, selectinload
from whoosh import index
from whoosh.writing import IndexWriter

from kb.dates import utcnow
from kb.entries.models import Entry
from kb.extensions import db
from kb.search.comment_texts import indexed_comment_bodies
from kb.search.documents import entry_words, index_document
from kb.search.models import SearchQueueItem
from kb.search.storage import IndexStore
from kb.taxonomy.models import Tag

log = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_ATTEMPTS = 5
"""An entry that fails to index this many times is left for `search check` to report."""
KEEP_DONE = dt.timedelta(days=1)
REPLAY_MARGIN = dt.timedelta(minutes=10)
"""How far before a rebuild's start its replay reaches back, to cover transactions that
were open when it began and committed after it read their entries."""
MERGE_AT_SEGMENTS = 8
"""Segments are merged in the background once an index has this many."""

VOCABULARY_PREFIX = "vocabulary:"
"""The id of a document that holds spelling words, not an entry."""

ProgressCallback = Callable[[int], None]


def _loading_query() -> Select[Entry]:
    return select(Entry).options(selectinload(Entry.tags).selectinload(Tag.theme))


def load_entries(session: Session, entry_ids: Collection[int]) -> dict[int, Entry]:
    """The entries with these ids that still exist, with what indexing them needs."""
    if not entry_ids:
        return {}
    rows = session.scalars(_loading_query().where(Entry.id.in_(sorted(entry_ids))))
    return {entry.id: entry for entry in rows}


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
    for entry_id in entry_ids:
        entry = entries.get(entry_id)
        if entry is None:
            writer.delete_by_term("id", str(entry_id))
            continue
        try:
            document = index_document(entry, comments.get(entry_id, ()))
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


@dataclass
class DrainReport:
    """What one drain of the queue did."""

    indexed: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)


def pending_rows(session: Session, limit: int, after: int = 0) -> list[tuple[int, int]]:
    """Up to `limit` queued (row id, entry id) pairs after row `after`, oldest first, not yet given up on."""
    query = (
        select(SearchQueueItem.id, SearchQueueItem.entry_id)
        .where(
            SearchQueueItem.indexed_at.is_(None),
            SearchQueueItem.attempts < MAX_ATTEMPTS,
            SearchQueueItem.id > after,
        )
        .order_by(SearchQueueItem.id)
        .limit(limit)
    )
    return [(row.id, row.entry_id) for row in session.execute(query)]


def has_untried(session: Session) -> bool:
    """Whether a queued change waits that no drain has tried yet (one that failed is retried on a schedule)."""
    query = select(SearchQueueItem.id).where(
        SearchQueueItem.indexed_at.is_(None), SearchQueueItem.attempts == 0, SearchQueueItem.last_error.is_(None)
    )
    return session.execute(query.limit(1)).first() is not None


def has_retryable(session: Session) -> bool:
    """Whether a queued change waits that a drain tried and failed, and that is not yet given up on."""
    query = select(SearchQueueItem.id).where(
        SearchQueueItem.indexed_at.is_(None),
        SearchQueueItem.attempts < MAX_ATTEMPTS,
        (SearchQueueItem.attempts > 0) | SearchQueueItem.last_error.is_not(None),
    )
    return session.execute(query.limit(1)).first() is not None


def failing_count(session: Session) -> int:
    """How many queued changes a drain tried and could not index, not yet given up on."""
    query = select(func.count()).where(
        SearchQueueItem.indexed_at.is_(None),
        SearchQueueItem.attempts < MAX_ATTEMPTS,
        SearchQueueItem.last_error.is_not(None),
    )
    return session.scalar(query) or 0


def record_index_failure(session: Session, error: str) -> None:
    """Note on every waiting change that the index itself could not be written; the caller commits.

    Unlike an entry that fails to index, this does not count an attempt: the change is
    fine and is retried until the index can be written again, however long that takes.
    """
    session.execute(update(SearchQueueItem).where(SearchQueueItem.indexed_at.is_(None)).values(last_error=error[:2000]))


def pending_count(session: Session) -> int:
    """How many queued changes wait to be indexed (failed ones included)."""
    return session.scalar(select(func.count()).where(SearchQueueItem.indexed_at.is_(None))) or 0


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


def record_drained(session: Session, rows: list[tuple[int, int]], failures: list[tuple[int, str]]) -> None:
    """Mark queue rows indexed, or count a failed attempt with its error; the caller commits."""
    failed = dict(failures)
    done = [row_id for row_id, entry_id in rows if entry_id not in failed]
    if done:
        session.execute(update(SearchQueueItem).where(SearchQueueItem.id.in_(done)).values(indexed_at=utcnow()))
    for row_id, entry_id in rows:
        if entry_id in failed:
            session.execute(
                update(SearchQueueItem)
                .where(SearchQueueItem.id == row_id)
                .values(attempts=SearchQueueItem.attempts + 1, last_error=failed[entry_id][:2000])
            )


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


def _all_entry_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Entry.id).order_by(Entry.id)))


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


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
        ids = _all_entry_ids(session)
        if total is not None:
            total(len(ids))
        parallel = {"procs": processes, "multisegment": True} if processes > 1 else {}
        writer = fresh.writer(compound=False, limitmb=128, **parallel)
        words: set[str] = set()
        failed = 0
        try:
            for batch in _batches(ids, BATCH_SIZE):
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


@dataclass
class CheckReport:
    """How the index differs from the database."""

    indexed: int
    entries: int
    missing: list[int]
    stale: list[int]
    extra: list[str]
    pending: int
    failed: list[tuple[int, str]]

    @property
    def in_step(self) -> bool:
        """Whether the index holds exactly the database's entries, each up to date."""
        return not (self.missing or self.stale or self.extra or self.failed)


def _indexed_fingerprints(store: IndexStore) -> dict[str, str | None]:
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
    indexed = _indexed_fingerprints(store)
    with Session(db.engine) as session:
        ids = _all_entry_ids(session)
        missing: list[int] = []
        stale: list[int] = []
        for batch in _batches(ids, batch_size):
            entries = load_entries(session, batch)
            comments = indexed_comment_bodies(session, entries)
            for entry_id, entry in entries.items():
                stored = indexed.get(str(entry_id))
                if stored is None:
                    missing.append(entry_id)
                elif stored != index_document(entry, comments.get(entry_id, ()))["fingerprint"]:
                    stale.append(entry_id)
            session.expunge_all()
        known = {str(entry_id) for entry_id in ids}
        failed_rows = session.execute(
            select(SearchQueueItem.entry_id, SearchQueueItem.last_error).where(
                SearchQueueItem.indexed_at.is_(None), SearchQueueItem.attempts >= MAX_ATTEMPTS
            )
        ).all()
        return CheckReport(
            indexed=len(indexed),
            entries=len(ids),
            missing=sorted(missing),
            stale=sorted(stale),
            extra=sorted(set(indexed) - known),
            pending=pending_count(session),
            failed=[(row.entry_id, row.last_error or "") for row in failed_rows],
        )


def queue_entries(session: Session, entry_ids: Iterable[int]) -> None:
    """Queue entries to be indexed again (e.g. after a repair); committed by the caller."""
    now = utcnow()
    session.add_all(SearchQueueItem(entry_id=entry_id, queued_at=now) for entry_id in entry_ids)
