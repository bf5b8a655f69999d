"""Keeping the index in step with the database: session hooks, the drain after commit, start-up checks.

A flush that changes an entry (its fields, tags or revisions), a comment on it, one of its
documents or their pages, or a tag or theme queues the entries concerned in the same
transaction. After the commit the queue is drained under the writer lock, so a save that
returns is already searchable; a rollback takes its queue rows with it, so the index never
sees rolled-back data. Changes whose indexing
failed stay queued and are retried by later saves and searches, backing off in each process.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from kb.comments.models import Comment
from kb.dates import utcnow
from kb.documents.models import Document, DocumentPage
from kb.entries.models import Entry, Revision, entry_tags
from kb.extensions import db
from kb.search.backend import backend, build
from kb.search.models import SearchQueueItem
from kb.search.queue import has_retryable, has_untried, record_index_failure
from kb.search.types import IndexUnavailableError, LockTimeoutError
from kb.taxonomy.models import Tag, Theme

log = logging.getLogger(__name__)

_QUEUED = "kb_search_queued"
"""Session info key: ids of the entries queued in the open transaction (one row each is enough)."""
_RETRIES = "kb_search_retries"
PENDING_LOCK_WAIT = 0.25
"""Seconds a search waits for the writer lock to index changes left queued; then it searches anyway."""


@dataclass
class RetrySchedule:
    """When this process may next retry changes whose indexing failed: backing off after each failure.

    The first retry is allowed `first` seconds after a failure, each further failure doubles
    the wait, up to `longest`; a drain that succeeds starts again from nothing. A lock held
    by another process is not a failure (that process drains the rows).
    """

    first: float = 1.0
    longest: float = 60.0
    failures: int = 0
    next_at: float = 0.0

    def due(self, now: float) -> bool:
        """Whether failed changes may be retried at monotonic time `now`."""
        return now >= self.next_at

    def failed(self, now: float) -> None:
        """A drain failed at `now`: wait longer before the next retry."""
        self.failures += 1
        self.next_at = now + min(self.longest, self.first * 2 ** (self.failures - 1))

    def succeeded(self) -> None:
        """A drain emptied the queue: failed changes may be retried at once next time."""
        self.failures = 0
        self.next_at = 0.0


def retry_schedule(app: Flask) -> RetrySchedule:
    """The app's schedule for retrying failed index writes in this process."""
    return app.extensions[_RETRIES]


def _changed(session: Session, instance: object) -> bool:
    return instance in session.new or instance in session.deleted or session.is_modified(instance)


COMMENT_INDEXED_FIELDS = ("body", "status", "entry_id")
"""A comment's fields that its entry's index document depends on."""


def _comment_entries(session: Session, comment: Comment) -> set[int]:
    """The entries whose documents a new, changed or deleted comment affects: a moved comment's old one too."""
    if comment in session.new or comment in session.deleted:
        return {comment.entry_id}
    state = inspect(comment)
    if not any(state.attrs[name].history.has_changes() for name in COMMENT_INDEXED_FIELDS):
        return set()
    moved_from = {*state.attrs.entry_id.history.deleted}
    moved_from |= {entry.id for entry in state.attrs.entry.history.deleted if entry is not None}
    return {comment.entry_id, *moved_from}


def _keep_previous_entry(target: Comment, value: object, previous: object, initiator: object) -> object:
    """Listened to with `active_history`, so a moved comment's history names the entry it left."""
    return value


def _entries_touched(session: Session) -> set[int]:
    """Ids of entries whose index document this flush may have changed."""
    touched: set[int] = set()
    tag_ids: set[int] = set()
    theme_ids: set[int] = set()
    document_ids: set[int] = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Entry) and _changed(session, instance):
            touched.add(instance.id)
        elif isinstance(instance, Revision):
            touched.add(instance.entry_id)
        elif isinstance(instance, Comment):
            touched |= _comment_entries(session, instance)
        elif isinstance(instance, Document) and _changed(session, instance):
            touched.add(instance.entry_id)
        elif isinstance(instance, DocumentPage) and _changed(session, instance):
            document_ids.add(instance.document_id)
        elif isinstance(instance, Tag) and instance not in session.new and _changed(session, instance):
            tag_ids.add(instance.id)
        elif isinstance(instance, Theme) and instance not in session.new and _changed(session, instance):
            theme_ids.add(instance.id)
    if document_ids - {None}:
        pages_of = select(Document.entry_id).where(Document.id.in_(sorted(document_ids - {None})))
        touched |= set(session.connection().scalars(pages_of))
    if theme_ids:
        tag_ids |= set(session.connection().scalars(select(Tag.id).where(Tag.theme_id.in_(theme_ids))))
    if tag_ids:
        touched |= set(
            session.connection().scalars(select(entry_tags.c.entry_id).where(entry_tags.c.tag_id.in_(tag_ids)))
        )
    touched.discard(None)
    return touched


def _queue_after_flush(session: Session, flush_context: UOWTransaction) -> None:
    queue_for_indexing(session, _entries_touched(session))


def queue_for_indexing(session: Session, entry_ids: set[int]) -> None:
    """Queue entries in the open transaction, to be indexed after it commits.

    The flush hook calls it for changes made through the ORM; a bulk `update()` or
    `delete()` (which no flush sees), for instance moving many comments at once, calls it
    with the entries it changed.
    """
    queued: set[int] = session.info.setdefault(_QUEUED, set())
    touched = set(entry_ids) - queued
    if not touched:
        return
    now = utcnow()
    session.connection().execute(
        insert(SearchQueueItem), [{"entry_id": entry_id, "queued_at": now, "attempts": 0} for entry_id in touched]
    )
    queued |= touched


def _drain_after_commit(session: Session) -> None:
    if not session.info.pop(_QUEUED, False) or not has_app_context():
        return
    drain_now(current_app._get_current_object())  # type: ignore[attr-defined]


def _forget_queue(session: Session, previous_transaction: SessionTransaction) -> None:
    # A rolled-back savepoint leaves the outer transaction, and what it queued, in place.
    if not previous_transaction.nested:
        session.info.pop(_QUEUED, None)


def drain_now(app: Flask, timeout: float | None = None) -> bool:
    """Index whatever is queued, waiting a while for the writer lock; True when the queue was emptied.

    `timeout` defaults to the `SEARCH_LOCK_TIMEOUT` setting. Never raises: a change that
    cannot be indexed now stays queued, is logged, and is picked up by the next drain in
    any process.
    """
    wait = app.config["SEARCH_LOCK_TIMEOUT"] if timeout is None else timeout
    try:
        report = backend(app).drain(timeout=wait)
    except LockTimeoutError:
        log.warning("Search index is busy; queued changes will be indexed by the next save or search")
        return False
    except IndexUnavailableError as problem:
        log.warning("Search index not updated (the change stays queued for the rebuild): %s", problem)
        _index_failed_to_write(app, f"{problem}")
        return False
    except SQLAlchemyError as error:
        # The database, not the index, failed: nothing to mark on rows it cannot reach, and /healthz says so itself.
        retry_schedule(app).failed(time.monotonic())
        log.warning(
            "Queued changes not indexed: the database failed (%s); later searches and saves retry", type(error).__name__
        )
        return False
    except Exception as error:
        log.exception("Indexing queued changes failed; they stay queued and are retried by later searches and saves")
        _index_failed_to_write(app, f"writing the search index failed: {type(error).__name__}: {error}")
        return False
    for entry_id, reason in report.failed:
        log.error("Entry %s could not be indexed: %s", entry_id, reason)
    if report.failed:
        retry_schedule(app).failed(time.monotonic())
    else:
        retry_schedule(app).succeeded()
    return not report.failed


def _index_failed_to_write(app: Flask, error: str) -> None:
    """Back off before retrying, and mark the waiting changes, so every process and `/healthz` can tell."""
    retry_schedule(app).failed(time.monotonic())
    try:
        with Session(db.engine) as session:
            record_index_failure(session, error)
            session.commit()
    except Exception:  # The database may be what failed; the rows stay queued either way.
        log.exception("Could not record the search index failure on the queued changes")


def drain_if_pending(app: Flask) -> None:
    """Before a search: index changes left queued, if the lock is free soon.

    A save normally drains its own change; this catches one that found the lock busy,
    so a reader never waits for somebody else's next save to see it, and retries changes
    whose indexing failed (the index could not be written, or an entry could not be
    indexed) once this process's retry schedule allows, so they do not wait for a save.
    """
    if has_untried(db.session()) or (retry_schedule(app).due(time.monotonic()) and has_retryable(db.session())):
        drain_now(app, timeout=PENDING_LOCK_WAIT)


def ensure_index(app: Flask, mode: str | None = None) -> str | None:
    """Check the backend in use; when its index is missing or damaged, rebuild it.

    `mode` is "inline", "background" or "off" (default: the `SEARCH_REBUILD_AT_START`
    setting). Returns what was wrong, or None when the backend can serve.
    """
    return backend(app).ensure_ready(mode)


def init_app(app: Flask) -> None:
    """Give the app its search backend, queue index changes on flush, drain after commit, check the index."""
    build(app)
    app.extensions[_RETRIES] = RetrySchedule()
    if not event.contains(Session, "after_flush", _queue_after_flush):
        event.listen(Session, "after_flush", _queue_after_flush)
        event.listen(Session, "after_commit", _drain_after_commit)
        event.listen(Session, "after_soft_rollback", _forget_queue)
        event.listen(Comment.entry_id, "set", _keep_previous_entry, active_history=True, retval=True)
        event.listen(Comment.entry, "set", _keep_previous_entry, active_history=True, retval=True)
    if app.config["SEARCH_REBUILD_AT_START"] == "inline":
        with app.app_context():
            ensure_index(app)
        return
    checked = threading.Event()

    @app.before_request
    def _check_index_once() -> None:
        if not checked.is_set():
            checked.set()
            ensure_index(app)
