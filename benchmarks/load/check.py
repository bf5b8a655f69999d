"""After a load run: is every comment the site accepted stored once, by its author, and found by search?

`lost_writes` is the pure rule; `check_accepted` gathers what the database and the search
backend say about each accepted comment and applies it. A comment is lost when it is not
in the database, is there more than once, is stored under another author or entry, or is
not found by a search for its marker made as its author.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import select

from kb.comments.models import Comment
from kb.entries.models import Entry
from kb.entries.vocabulary import KIND_PLURALS
from kb.extensions import db
from kb.permissions import viewer_for
from kb.search.service import SearchRequest, search
from kb.users.models import User

MARKER = re.compile(r"\blm[0-9a-f]{20}\b")


@dataclass(frozen=True)
class Accepted:
    """A comment the site answered 303 for: its marker, author's email and entry page path."""

    marker: str
    email: str
    entry: str


@dataclass(frozen=True)
class Stored:
    """A comment in the database holding a marker: its author's email and its entry page path."""

    email: str
    entry: str


@dataclass(frozen=True)
class Lost:
    """An accepted comment that is not as it should be, and why."""

    marker: str
    reason: str


@dataclass
class CheckReport:
    """How many accepted comments were checked and which were lost."""

    checked: int = 0
    lost: list[Lost] = field(default_factory=list)


def lost_writes(accepted: Iterable[Accepted], stored: dict[str, list[Stored]], found: set[str]) -> CheckReport:
    """Apply the rule: `stored` maps each marker to the comments holding it, `found` holds the markers search found."""
    report = CheckReport()
    for comment in accepted:
        report.checked += 1
        copies = stored.get(comment.marker, [])
        reason = None
        if not copies:
            reason = "not in the database"
        elif len(copies) > 1:
            reason = f"stored {len(copies)} times"
        elif copies[0] != Stored(comment.email, comment.entry):
            reason = f"stored by {copies[0].email} on {copies[0].entry}"
        elif comment.marker not in found:
            reason = "not found by search as its author"
        if reason:
            report.lost.append(Lost(comment.marker, reason))
    return report


def stored_comments(markers: set[str]) -> dict[str, list[Stored]]:
    """The comments holding each of `markers`, read in one query."""
    rows = db.session.execute(
        select(Comment.body, User.email, Entry.kind, Entry.slug)
        .join(User, Comment.author_id == User.id, isouter=True)
        .join(Entry, Comment.entry_id == Entry.id)
        .where(Comment.body.like("%lm%"))
    )
    stored: dict[str, list[Stored]] = {}
    for body, email, kind, slug in rows:
        for marker in set(MARKER.findall(body)) & markers:
            stored.setdefault(marker, []).append(Stored(email or "", f"/{KIND_PLURALS[kind]}/{slug}"))
    return stored


def found_by_author(accepted: Iterable[Accepted]) -> set[str]:
    """The markers that a search as the comment's author finds on the comment's entry."""
    found = set()
    users: dict[str, User | None] = {}
    for comment in accepted:
        if comment.email not in users:
            users[comment.email] = db.session.scalar(select(User).where(User.email == comment.email))
        user = users[comment.email]
        if user is None:
            continue
        results = search(viewer_for(user), SearchRequest(text=comment.marker, exact=True, per_page=10))
        paths = {f"/{KIND_PLURALS[hit.entry.kind]}/{hit.entry.slug}" for hit in results.hits}
        if comment.entry in paths:
            found.add(comment.marker)
    return found


def check_accepted(app: Flask, accepted: list[Accepted]) -> CheckReport:
    """Check every accepted comment against the database and the app's search backend."""
    with app.test_request_context("/"):
        stored = stored_comments({comment.marker for comment in accepted})
        found = found_by_author(accepted)
        return lost_writes(accepted, stored, found)
