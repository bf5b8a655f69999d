"""Reading consultations, always through the visibility rule: a consultation is seen by whoever may see its entry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kb.consultations.models import Consultation, Response
from kb.consultations.windows import CLOSED, OPEN, UPCOMING, state_at
from kb.dates import utcnow
from kb.entries.models import Entry
from kb.extensions import db
from kb.panels.models import Finding
from kb.permissions import Viewer, can, visible_consultations, visible_findings
from kb.states import EntryKind, ResponseStatus


def visible_consultation(viewer: Viewer, consultation_id: int) -> Consultation | None:
    """The consultation if `viewer` may see it (its entry is visible to them); else None."""
    query = (
        select(Consultation)
        .where(Consultation.id == consultation_id, visible_consultations(viewer))
        .options(
            selectinload(Consultation.questions),
            selectinload(Consultation.consulted_findings),
            selectinload(Consultation.entry),
        )
    )
    return db.session.scalar(query)


def consultations_by_state(viewer: Viewer, now: dt.datetime) -> dict[str, list[Consultation]]:
    """Every consultation `viewer` may see, as open (closing soonest first), upcoming and closed (latest first)."""
    query = (
        select(Consultation)
        .where(visible_consultations(viewer))
        .options(selectinload(Consultation.entry))
        .order_by(Consultation.closes_at, Consultation.id)
    )
    groups: dict[str, list[Consultation]] = {OPEN: [], UPCOMING: [], CLOSED: []}
    for consultation in db.session.scalars(query):
        groups[state_at(consultation.opens_at, consultation.closes_at, now)].append(consultation)
    groups[UPCOMING].sort(key=lambda consultation: (consultation.opens_at, consultation.id))
    groups[CLOSED].reverse()
    return groups


def consultations_on(viewer: Viewer, entry: Entry) -> list[Consultation]:
    """The consultations on one entry that `viewer` may see, latest closing first."""
    query = (
        select(Consultation)
        .where(Consultation.entry_id == entry.id, visible_consultations(viewer))
        .order_by(Consultation.closes_at.desc(), Consultation.id.desc())
    )
    return list(db.session.scalars(query))


def response_of(consultation: Consultation, user_id: int | None) -> Response | None:
    """The one response a person has made (draft or submitted) to a consultation, with its answers."""
    if user_id is None:
        return None
    query = (
        select(Response)
        .where(Response.consultation_id == consultation.id, Response.user_id == user_id)
        .options(selectinload(Response.answers))
    )
    return db.session.scalar(query)


def submitted_count(consultation: Consultation) -> int:
    """How many responses to a consultation have been submitted."""
    query = select(func.count(Response.id)).where(
        Response.consultation_id == consultation.id, Response.status == ResponseStatus.SUBMITTED
    )
    return db.session.scalar(query) or 0


def findings_to_offer(viewer: Viewer, review: Entry) -> list[Finding]:
    """The findings of `review` that `viewer` may read, by number: those that can be put to members."""
    if review.kind != EntryKind.REVIEW:
        return []
    query = select(Finding).where(Finding.review_id == review.id, visible_findings(viewer)).order_by(Finding.number)
    return list(db.session.scalars(query))


def entry_consultations(viewer: Viewer, entry: Entry) -> dict[str, Any]:
    """Entry-page context: the consultations on `entry` with their state, and whether `viewer` may open one."""
    if entry.kind not in (EntryKind.PAPER, EntryKind.REVIEW):
        return {}
    now = utcnow()
    found = [
        (consultation, state_at(consultation.opens_at, consultation.closes_at, now))
        for consultation in consultations_on(viewer, entry)
    ]
    return {"entry_consultations": found, "can_open_consultation": can(viewer, "consultation.manage", entry)}
