"""Keeping an entry's saved document in step when a moderator changes its status, maturity or tags.

An entry's current revision holds its whole document (what export writes and the
editors start from), so a moderator's change to a field the document carries is saved
as a new revision, as publishing, returning and rejecting already are.
"""

from __future__ import annotations

from typing import Any

from kb.content.document import parse_document
from kb.contributions.service import store_document
from kb.entries.models import Entry
from kb.entries.service import current_revision, find_or_create_tags
from kb.extensions import db
from kb.users.models import User

MESSAGE_MAX = 500


def save_entry_state(entry: Entry, *, actor: User | None, message: str, **changes: Any) -> None:
    """Set `changes` (document fields: status, maturity, action_status) and save them as a revision.

    An entry without a readable revision only has its fields set. Raises
    DocumentProblemsError if the changed document would not read back.
    """
    revision = current_revision(entry)
    parsed = parse_document(revision.document, entry.slug) if revision is not None else None
    document = parsed.document if parsed is not None else None
    if document is None:
        for name, value in changes.items():
            setattr(entry, name, value)
        db.session.flush()
        return
    for name, value in changes.items():
        setattr(document, name, value)
    store_document(document, entry, actor=actor, message=message[:MESSAGE_MAX])


def add_tags(entry: Entry, slugs: list[str], *, actor: User | None, message: str) -> list[str]:
    """Add the tags with these slugs that `entry` lacks, saved as a revision; returns those added."""
    have = {tag.slug for tag in entry.tags}
    added = [slug for slug in dict.fromkeys(slugs) if slug not in have]
    if not added:
        return []
    revision = current_revision(entry)
    parsed = parse_document(revision.document, entry.slug) if revision is not None else None
    if parsed is None or parsed.document is None:
        entry.tags = [*entry.tags, *find_or_create_tags(added)]
        db.session.flush()
        return added
    parsed.document.tags = [*parsed.document.tags, *added]
    store_document(parsed.document, entry, actor=actor, message=message[:MESSAGE_MAX])
    return added
