"""`search check`, once for every backend: each entry's stored fingerprint against what the database says now.

A backend supplies its listing (`SearchBackend.indexed_fingerprints`: every indexed entry's
id and fingerprint); this reads the entries in batches, builds each one's document
fingerprint as indexing would, and reports what is missing, stale, extra or given up on.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.extensions import db
from kb.search.comment_texts import indexed_comment_bodies
from kb.search.documents import index_document
from kb.search.link_words import link_readers
from kb.search.models import SearchQueueItem
from kb.search.page_texts import indexed_documents
from kb.search.queue import BATCH_SIZE, MAX_ATTEMPTS, all_entry_ids, batches, load_entries, pending_count
from kb.search.types import CheckReport


def compare(indexed: dict[str, str | None], *, batch_size: int = BATCH_SIZE) -> CheckReport:
    """How `indexed` (entry id as text to stored fingerprint) differs from every entry in the database now."""
    with Session(db.engine) as session:
        ids = all_entry_ids(session)
        missing: list[int] = []
        stale: list[int] = []
        for batch in batches(ids, batch_size):
            entries = load_entries(session, batch)
            comments = indexed_comment_bodies(session, entries)
            documents = indexed_documents(session, entries)
            links = link_readers(entries.values(), session)
            for entry_id, entry in entries.items():
                stored = indexed.get(str(entry_id))
                if stored is None:
                    missing.append(entry_id)
                    continue
                document = index_document(entry, comments.get(entry_id, ()), documents.get(entry_id), links[entry_id])
                if stored != document["fingerprint"]:
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
