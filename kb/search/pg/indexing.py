"""Writing PostgreSQL search documents: drain the queue, rebuild all of them, compare with the entries.

An entry's document is a tsvector made by PostgreSQL's `english` configuration from the
same plain texts the Whoosh index reads (`documents.weighted_parts`), each text given a
weight by the part it comes from; an entry's document pages go in up to `PAGE_TEXT_LIMIT`
(a tsvector holds at most 1 MB and positions up to 16,383). Drains take a transaction-level
advisory lock, so two processes (on any host) never write documents at the same time and a
slower one cannot write an older state of an entry over a newer one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from kb.dates import utcnow
from kb.entries.models import Entry
from kb.extensions import db
from kb.search.check import compare
from kb.search.comment_texts import indexed_comment_bodies
from kb.search.documents import comment_parts, document_parts, entry_words, index_document, weighted_parts
from kb.search.link_words import link_readers
from kb.search.models import SearchQueueItem
from kb.search.page_texts import IndexedDocuments, indexed_documents
from kb.search.pg.tables import search_documents
from kb.search.queue import BATCH_SIZE, KEEP_DONE, load_entries, pending_rows, record_drained
from kb.search.text import LinkWords
from kb.search.types import CheckReport, DrainReport, LockTimeoutError, ProgressCallback

CONFIG = "english"
"""The text search configuration documents and queries are analysed with (written out in the SQL)."""
WEIGHT_LETTERS: tuple[tuple[float, str], ...] = ((3.0, "A"), (2.0, "B"), (1.5, "C"), (0.0, "D"))
"""A part's weight in `documents.PART_WEIGHTS` (at least this much) to PostgreSQL's weight letter:
A the title, B the summary and lesson, C the recommendation and tag names, D the rest and comments."""
PART_GAP = " and" * 8 + " "
"""Put before each part: stop words take positions, so a quoted phrase never runs from one part into the next."""
PAGE_TEXT_LIMIT = 300_000
"""How much of an entry's document pages (bytes of UTF-8: characters, in the Latin alphabet) goes into its tsvector.

Well under PostgreSQL's 1 MB limit on a tsvector however many distinct words the pages hold;
the rest of the pages is not searched on this backend (Whoosh reads them all)."""
DRAIN_LOCK = 0x6B62_5345_4152_4348 & 0x7FFF_FFFF_FFFF_FFFF
"""The advisory lock key under which documents are written (any process, any host)."""

_UPSERT = text(
    """
    INSERT INTO search_documents (entry_id, document, region, year, sort_date, tags, themes, fingerprint, has_pages)
    VALUES (
        :entry_id,
        setweight(to_tsvector('english', :a), 'A') || setweight(to_tsvector('english', :b), 'B')
        || setweight(to_tsvector('english', :c), 'C') || setweight(to_tsvector('english', :d), 'D'),
        :region, :year, :sort_date, :tags, :themes, :fingerprint, :has_pages
    )
    ON CONFLICT (entry_id) DO UPDATE SET
        document = excluded.document, region = excluded.region, year = excluded.year,
        sort_date = excluded.sort_date, tags = excluded.tags, themes = excluded.themes,
        fingerprint = excluded.fingerprint, has_pages = excluded.has_pages
    """
)


def weight_letter(weight: float) -> str:
    """PostgreSQL's weight letter for a part weighted `weight` in `documents.PART_WEIGHTS`."""
    return next(letter for least, letter in WEIGHT_LETTERS if weight >= least)


def _clean(value: str) -> str:
    return value.replace("\x00", " ")


def grouped_texts(parts: Sequence[tuple[str, float]]) -> dict[str, str]:
    """The texts of each weight letter, every part preceded by a gap of stop words."""
    groups: dict[str, list[str]] = {letter: [] for _, letter in WEIGHT_LETTERS}
    for part, weight in parts:
        if part and part.strip():
            groups[weight_letter(weight)].append(PART_GAP + _clean(part))
    return {letter.lower(): "".join(texts) for letter, texts in groups.items()}


def capped_documents(documents: IndexedDocuments | None, limit: int = PAGE_TEXT_LIMIT) -> IndexedDocuments | None:
    """`documents` with only the first `limit` bytes of their pages: whole pages, then the start of the next one.

    That page is cut after its last whole word within the limit.
    """
    if documents is None:
        return None
    kept: list[str] = []
    room = limit
    for page in documents.pages:
        data = page.encode()
        if len(data) <= room:
            kept.append(page)
            room -= len(data)
            continue
        head = re.match(r"(?s)(.*)\s", data[: room + 1].decode(errors="ignore"))
        if head is not None and head.group(1).strip():
            kept.append(head.group(1))
        break
    return IndexedDocuments(documents.titles, tuple(kept))


def entry_parts(
    entry: Entry,
    comments: Sequence[str] = (),
    documents: IndexedDocuments | None = None,
    links: LinkWords | None = None,
) -> list[tuple[str, float]]:
    """Every weighted plain text of an entry, its readable comments and its current documents' pages (capped)."""
    return [*weighted_parts(entry, links), *comment_parts(comments), *document_parts(capped_documents(documents))]


def document_row(
    entry: Entry,
    comments: Sequence[str] = (),
    documents: IndexedDocuments | None = None,
    links: LinkWords | None = None,
) -> tuple[dict[str, Any], set[str]]:
    """The parameters of `entry`'s document row, and its unstemmed words for the spelling vocabulary.

    `links` says how the entry's links read (looked up for it alone when not given).
    """
    if links is None:
        links = link_readers([entry])[entry.id]
    indexed = index_document(entry, comments, documents, links)
    row = {
        "entry_id": entry.id,
        **grouped_texts(entry_parts(entry, comments, documents, links)),
        "region": indexed.get("region", ""),
        "year": indexed["year"],
        "sort_date": indexed["date"],
        "tags": indexed.get("tag", "").split(),
        "themes": indexed.get("theme", "").split(),
        "fingerprint": indexed["fingerprint"],
        "has_pages": bool(indexed.get("pages")),
    }
    return row, entry_words(indexed)


def write_entries(session: Session, entry_ids: Collection[int]) -> list[tuple[int, str]]:
    """Write the current document of each entry (deleting those of entries gone); returns the failures."""
    entries = load_entries(session, entry_ids)
    comments = indexed_comment_bodies(session, entries)
    documents = indexed_documents(session, entries)
    links = link_readers(entries.values(), session)
    gone = sorted(set(entry_ids) - set(entries))
    if gone:
        session.execute(delete(search_documents).where(search_documents.c.entry_id.in_(gone)))
    rows: list[dict[str, Any]] = []
    words: set[str] = set()
    failures: list[tuple[int, str]] = []
    for entry_id in sorted(entries):
        try:
            row, entry_words_ = document_row(
                entries[entry_id], comments.get(entry_id, ()), documents.get(entry_id), links[entry_id]
            )
        except Exception as error:  # One bad entry must not stop the others being indexed.
            failures.append((entry_id, f"{type(error).__name__}: {error}"))
            continue
        rows.append(row)
        words |= entry_words_
    if rows:
        session.execute(_UPSERT, rows)
    add_words(session, words)
    return failures


def add_words(session: Session, words: Collection[str]) -> None:
    """Add words to the spelling vocabulary (those already there are kept once)."""
    if words:
        session.execute(
            text("INSERT INTO search_words (word) SELECT unnest(CAST(:words AS text[])) ON CONFLICT DO NOTHING"),
            {"words": sorted(_clean(word) for word in words)},
        )


def write_lock(session: Session, timeout: float) -> None:
    """Take the documents' write lock for the session's transaction, waiting up to `timeout` seconds."""
    session.execute(text(f"SET LOCAL lock_timeout = '{max(int(timeout * 1000), 1)}ms'"))
    try:
        session.execute(select(func.pg_advisory_xact_lock(DRAIN_LOCK)))
    except OperationalError as error:
        session.rollback()
        raise LockTimeoutError("another process is writing search documents") from error
    session.execute(text("SET LOCAL lock_timeout = 0"))


def drain(*, timeout: float) -> DrainReport:
    """Write the document of every queued entry, a batch per transaction under the write lock.

    Raises `LockTimeoutError` when another process keeps the lock longer than `timeout`;
    the rows then stay queued for the next drain.
    """
    report = DrainReport()
    with Session(db.engine) as session:
        last = 0
        while True:
            write_lock(session, timeout)
            rows = pending_rows(session, BATCH_SIZE, after=last)
            if not rows:
                session.execute(delete(SearchQueueItem).where(SearchQueueItem.indexed_at < utcnow() - KEEP_DONE))
                session.commit()
                break
            last = rows[-1][0]
            entry_ids = list(dict.fromkeys(entry_id for _, entry_id in rows))
            failures = write_entries(session, entry_ids)
            record_drained(session, rows, failures)
            session.commit()
            report.indexed += len(entry_ids) - len(failures)
            report.failed += failures
    return report


def rebuild(
    *, on_progress: ProgressCallback | None = None, total: Callable[[int], None] | None = None, timeout: float = 60
) -> int:
    """Write every entry's document again in one transaction; returns how many entries were written.

    Searches read the old documents until it commits. Changes queued before it started
    are covered by it and marked done; later ones are left for the next drain.
    """
    with Session(db.engine) as session:
        write_lock(session, timeout)
        last_queued = session.scalar(select(func.max(SearchQueueItem.id))) or 0
        ids = list(session.scalars(select(Entry.id).order_by(Entry.id)))
        if total is not None:
            total(len(ids))
        session.execute(delete(search_documents))
        failed = 0
        for start in range(0, len(ids), BATCH_SIZE):
            batch = ids[start : start + BATCH_SIZE]
            failed += len(write_entries(session, batch))
            session.expunge_all()
            if on_progress is not None:
                on_progress(len(batch))
        session.execute(
            update(SearchQueueItem)
            .where(SearchQueueItem.indexed_at.is_(None), SearchQueueItem.id <= last_queued)
            .values(indexed_at=utcnow(), attempts=0, last_error=None)
        )
        session.commit()
        session.execute(text("ANALYZE search_documents"))  # Fresh statistics, so the planner uses the GIN index.
        session.commit()
        return len(ids) - failed


def indexed_fingerprints() -> dict[str, str | None]:
    """Every document's entry id (as text) and fingerprint."""
    with Session(db.engine) as session:
        rows = session.execute(select(search_documents.c.entry_id, search_documents.c.fingerprint))
        return {str(entry_id): fingerprint for entry_id, fingerprint in rows}


def check(*, batch_size: int = BATCH_SIZE) -> CheckReport:
    """Compare every entry's document with what the database says it should be now."""
    return compare(indexed_fingerprints(), batch_size=batch_size)


def ready() -> str | None:
    """None when the document table can be read; otherwise what is wrong."""
    try:
        with Session(db.engine) as session:
            session.execute(select(search_documents.c.entry_id).limit(1))
    except Exception as error:  # A missing table or a database that does not answer.
        return f"the PostgreSQL search documents cannot be read: {error}"
    return None
