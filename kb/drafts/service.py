"""Keeping, finding, claiming and discarding form drafts.

A draft is shown only to the person who typed it: one with an owner only to that owner,
one without (posted after a session ended, by someone kb could not name) only in the
browser that posted it, to the first person who opens its link there signed in, who
becomes its owner unless they already have a draft of that page (theirs is never lost). Drafts untouched for
`FORM_DRAFT_MAX_AGE` are ignored and purged. Each owner keeps at most
`FORM_DRAFTS_PER_USER` drafts and each client address at most `FORM_DRAFTS_PER_ADDRESS`
drafts without an owner; the oldest go first. Every verb flushes and never commits.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from typing import Any, cast

from flask import current_app
from sqlalchemy import ColumnElement, CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from kb.dates import utcnow
from kb.drafts.models import FORM_DRAFT_MAX_AGE, PATH_MAX, FormDraft
from kb.errors import InvalidInputError
from kb.extensions import db
from kb.users.throttle import client_group

NOT_KEPT = frozenset({"csrf_token", "password", "current", "confirm", "code", "action", "then", "path"})
"""Fields never kept in a draft: secrets, the form token, and which button was pressed."""

FIELD_NAME_MAX = 100
FIELDS_MAX = 400


class DraftTooLargeError(InvalidInputError):
    """A form's fields are too many or too long to keep as a draft."""


def new_token() -> str:
    """A random, unguessable name for a draft."""
    return secrets.token_urlsafe(24)


def typed_fields(form: MultiDict[str, str]) -> dict[str, list[str]]:
    """The fields of a posted form worth keeping: every one but secrets and buttons, in the order posted.

    Raises DraftTooLargeError when there are more than `FIELDS_MAX` fields, a name is
    longer than `FIELD_NAME_MAX` or the text is longer than `FORM_DRAFT_MAX_CHARS` in all.
    """
    fields: dict[str, list[str]] = {}
    for name, values in form.lists():
        if name in NOT_KEPT:
            continue
        if len(name) > FIELD_NAME_MAX or len(fields) >= FIELDS_MAX:
            raise DraftTooLargeError("This form has too many fields to keep as a draft.")
        fields[name] = list(values)
    if sum(len(value) for values in fields.values() for value in values) > int(
        current_app.config["FORM_DRAFT_MAX_CHARS"]
    ):
        raise DraftTooLargeError("This text is too long to keep as a draft.")
    return fields


def has_text(fields: dict[str, list[str]]) -> bool:
    """Whether anything was typed: some field holds more than spaces."""
    return any(value.strip() for values in fields.values() for value in values)


def _fresh() -> ColumnElement[bool]:
    return FormDraft.updated_at >= utcnow() - FORM_DRAFT_MAX_AGE


def _delete(condition: ColumnElement[bool]) -> int:
    # Session.execute is typed to return a Result; a DELETE's is a CursorResult, which counts rows.
    result = cast(
        CursorResult[Any],
        db.session.execute(delete(FormDraft).where(condition), execution_options={"synchronize_session": False}),
    )
    return int(result.rowcount or 0)


def purge_expired_drafts() -> int:
    """Delete every draft untouched for `FORM_DRAFT_MAX_AGE`; returns how many went."""
    return _delete(FormDraft.updated_at < utcnow() - FORM_DRAFT_MAX_AGE)


def _make_room(condition: ColumnElement[bool], cap: int) -> None:
    """Drop the oldest drafts matching `condition` so that one more keeps them within `cap`."""
    newest_first = FormDraft.updated_at.desc(), FormDraft.id.desc()
    dropped = db.session.scalars(
        select(FormDraft.id).where(condition).order_by(*newest_first).offset(max(cap - 1, 0))
    ).all()
    if dropped:
        _delete(FormDraft.id.in_(dropped))


def _owned(owner_id: int, path: str) -> FormDraft | None:
    return db.session.scalar(select(FormDraft).where(FormDraft.owner_id == owner_id, FormDraft.path == path))


def keep_draft(path: str, fields: dict[str, list[str]], *, owner_id: int | None, address: str | None) -> FormDraft:
    """Keep `fields` typed into the form at `path`: the owner's draft of that page is replaced, else a new one.

    A draft without an owner is tied to its token and to the client `address`, which
    keeps at most `FORM_DRAFTS_PER_ADDRESS` such drafts. Expired drafts are purged on
    the way. Flushes; returns the draft, whose token brings it back.
    """
    purge_expired_drafts()
    path = path[:PATH_MAX]
    now = utcnow()
    draft = _owned(owner_id, path) if owner_id is not None else None
    if draft is None:
        if owner_id is not None:
            _make_room(FormDraft.owner_id == owner_id, int(current_app.config["FORM_DRAFTS_PER_USER"]))
            group = None
        else:
            group = client_group(address) if address else None
            if group is not None:
                condition = (FormDraft.client_address == group) & FormDraft.owner_id.is_(None)
                _make_room(condition, int(current_app.config["FORM_DRAFTS_PER_ADDRESS"]))
        draft = FormDraft(token=new_token(), path=path, owner_id=owner_id, client_address=group, created_at=now)
        draft.fields = fields
        draft.updated_at = now
        try:
            with db.session.begin_nested():
                db.session.add(draft)
        except IntegrityError:
            # Another tab saved this owner's draft of the page at the same moment: update that one.
            draft = _owned(owner_id, path) if owner_id is not None else None
            if draft is None:
                raise
    draft.fields = fields
    draft.updated_at = now
    db.session.flush()
    return draft


def claim_draft(token: str | None, path: str, *, owner_id: int, posted_here: bool) -> FormDraft | None:
    """The draft with this token for the page at `path`, if `owner_id` may see it; else None.

    A draft without an owner is given only when `posted_here` (this browser posted it);
    it becomes this owner's, unless they already have a draft of the same page: theirs
    stays as it is and this one stays without an owner. A draft of someone else is
    never returned. Flushes.
    """
    if not token:
        return None
    draft = db.session.scalar(
        select(FormDraft).where(FormDraft.token == token, FormDraft.path == path[:PATH_MAX], _fresh())
    )
    if draft is None or draft.owner_id not in (None, owner_id):
        return None
    if draft.owner_id is None:
        if not posted_here:
            return None
        if _owned(owner_id, draft.path) is None:
            draft.owner_id = owner_id
            draft.client_address = None
            db.session.flush()
    return draft


def newest_draft(owner_id: int, path: str, *, since: dt.datetime | None = None) -> FormDraft | None:
    """The owner's draft of the page at `path`, if it is fresh and (given `since`) was saved after it."""
    draft = db.session.scalar(
        select(FormDraft).where(FormDraft.owner_id == owner_id, FormDraft.path == path[:PATH_MAX], _fresh())
    )
    if draft is None or (since is not None and _aware(draft.updated_at) <= _aware(since)):
        return None
    return draft


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes for aware columns; they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def discard_drafts(owner_id: int, paths: Iterable[str]) -> None:
    """Delete the owner's drafts of these pages, once the form they hold was sent."""
    wanted = [path[:PATH_MAX] for path in paths]
    if wanted:
        _delete((FormDraft.owner_id == owner_id) & FormDraft.path.in_(wanted))


def discard_draft_by_token(token: str, *, owner_id: int) -> bool:
    """Delete the owner's draft with this token; returns whether there was one."""
    return _delete((FormDraft.token == token) & (FormDraft.owner_id == owner_id)) > 0
