"""Telling members that a consultation has opened.

A consultation is announced at the first moment it is open: at once when it is set up (or
changed) with an opening time already come, otherwise by the timed job (`flask --app kb
consult send-reminders`, run hourly from cron) once its opening time has passed. Each
announcement is claimed with one conditional UPDATE of `opening_told_at`, so nobody is
told twice, however many runs overlap.

Who is told: active people following the consulted entry, its review or one of its themes,
and, when the panel ticked "Tell all members", every active member; each only if they may
read the consultation (`kb.permissions.can_view_consultation`). The notice is written and
mailed through `kb.notifications.telling.tell`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from kb.consultations.models import Consultation
from kb.consultations.windows import OPEN, state_at
from kb.dates import london_time, utcnow
from kb.extensions import db
from kb.notifications.models import Notification
from kb.notifications.queries import followers_of_entry
from kb.notifications.telling import tell
from kb.permissions import can_view_consultation, viewer_for
from kb.states import NotificationKind
from kb.users.models import User


def opening_recipients(consultation: Consultation) -> list[User]:
    """Active followers of what the consultation is about (and every active member, if chosen), by id.

    Not yet filtered by who may read the consultation: `announce` asks that of each, so
    their panel seats are loaded with them (one more query, however many people).
    """
    query = select(User).where(User.active).options(selectinload(User.panel_seats)).order_by(User.id)
    if not consultation.tell_all_members:
        query = query.where(User.id.in_(followers_of_entry(consultation.entry)))
    return list(db.session.scalars(query))


def opening_message(consultation: Consultation) -> str:
    """The one-line notice: which consultation is open, and until when."""
    return f"“{consultation.title}” is open for your answers until {london_time(consultation.closes_at)}"


def _claim(consultation: Consultation, now: dt.datetime) -> bool:
    """Mark the opening as told unless someone already has; True when this call claimed it."""
    statement = (
        update(Consultation)
        .where(Consultation.id == consultation.id, Consultation.opening_told_at.is_(None))
        .values(opening_told_at=now)
        .returning(Consultation.id)
        .execution_options(synchronize_session=False)
    )
    claimed = db.session.scalar(statement) is not None
    if claimed:
        consultation.opening_told_at = now
    return claimed


def announce(consultation: Consultation, *, now: dt.datetime | None = None) -> list[Notification]:
    """Tell everyone who should hear that the consultation is open, if it is open and nobody has told them yet.

    Returns the notifications written (none when it is not open or was already announced).
    Flushes; the caller commits, and the mail goes out after the commit.
    """
    now = now or utcnow()
    if consultation.id is None:
        db.session.flush()
    if state_at(consultation.opens_at, consultation.closes_at, now) != OPEN or not _claim(consultation, now):
        return []
    entry = consultation.entry
    link = f"/consultations/{consultation.id}"
    paragraphs = [
        f"The consultation “{consultation.title}” on “{entry.title}” is open until "
        f"{london_time(consultation.closes_at)} (London time).",
        "You can save a draft of your answers and submit them when you are ready; you can change them until it closes.",
    ]
    return tell(
        opening_recipients(consultation),
        kind=NotificationKind.CONSULTATION,
        actor=consultation.created_by,
        message=opening_message(consultation),
        link=link,
        entry=entry,
        paragraphs=paragraphs,
        may_hear=lambda person: can_view_consultation(viewer_for(person), consultation),
    )


def due_openings(now: dt.datetime) -> list[int]:
    """Ids of consultations open at `now` whose opening has not been told yet, opened first."""
    query = (
        select(Consultation.id)
        .where(Consultation.opening_told_at.is_(None), Consultation.opens_at <= now, Consultation.closes_at > now)
        .order_by(Consultation.opens_at, Consultation.id)
    )
    return list(db.session.scalars(query))


def announce_openings(now: dt.datetime | None = None, on_line: Callable[[str], None] = lambda line: None) -> int:
    """Announce every consultation that has opened since the last run, each committed on its own; returns how many.

    A consultation the database was too busy to claim is left for the next run.
    """
    now = now or utcnow()
    announced = 0
    for consultation_id in due_openings(now):
        consultation = db.session.get(Consultation, consultation_id)
        if consultation is None:
            continue
        try:
            told = announce(consultation, now=now)
            db.session.commit()
        except OperationalError:
            db.session.rollback()
            on_line(f"consultation {consultation_id}: database busy, its opening is left for the next run")
            continue
        announced += 1
        on_line(f"consultation {consultation_id} “{consultation.title}” opened: {len(told)} people told")
    return announced
