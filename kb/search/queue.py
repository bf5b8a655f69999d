"""The queue of index changes as every backend drains it: pending rows, failures, and the entries to write.

A change queues its entry in its own transaction (`lifecycle.queue_for_indexing`); a
backend's drain reads the pending rows here, writes each entry's current state and records
what was done. Rows that keep failing are given up on after `MAX_ATTEMPTS` and reported by
`search check`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, selectinload

from kb.dates import utcnow
from kb.entries.models import Entry
from kb.search.models import SearchQueueItem
from kb.taxonomy.models import Tag

BATCH_SIZE = 500
MAX_ATTEMPTS = 5
"""An entry that fails to index this many times is left for `search check` to report."""
KEEP_DONE = dt.timedelta(days=1)


def _loading_query() -> Select[Entry]:
    return select(Entry).options(selectinload(Entry.tags).selectinload(Tag.theme))


def load_entries(session: Session, entry_ids: Collection[int]) -> dict[int, Entry]:
    """The entries with these ids that still exist, with what indexing them needs."""
    if not entry_ids:
        return {}
    rows = session.scalars(_loading_query().where(Entry.id.in_(sorted(entry_ids))))
    return {entry.id: entry for entry in rows}


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


def all_entry_ids(session: Session) -> list[int]:
    """Every entry's id, in order."""
    return list(session.scalars(select(Entry.id).order_by(Entry.id)))


def batches(ids: list[int], size: int) -> Iterator[list[int]]:
    """`ids` in runs of at most `size`."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def queue_entries(session: Session, entry_ids: Iterable[int]) -> None:
    """Queue entries to be indexed again (e.g. after a repair); committed by the caller."""
    now = utcnow()
    session.add_all(SearchQueueItem(entry_id=entry_id, queued_at=now) for entry_id in entry_ids)
