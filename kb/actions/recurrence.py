"""Deciding recurrences: a moderator confirms two lessons as the same lesson again, or says they are not.

A decision is stored once per pair, lower lesson id first; deciding the pair again
updates it. Every decision is audited. The verb flushes; the route commits.
"""

from __future__ import annotations

from sqlalchemy import select

from kb.actions.models import RECURRENCE_DECISIONS, Recurrence
from kb.audit.service import record_event
from kb.dates import utcnow
from kb.entries.models import Lesson
from kb.errors import InvalidInputError
from kb.extensions import db
from kb.permissions import require
from kb.states import RecurrenceDecision
from kb.users.models import User

NOTE_MAX = 1_000


class RecurrenceError(InvalidInputError):
    """A decision that cannot be recorded, with a message fit to show the moderator."""


def ordered_pair(one_id: int, other_id: int) -> tuple[int, int]:
    """The ids of a pair of lessons as a recurrence stores them: lower first."""
    return (one_id, other_id) if one_id < other_id else (other_id, one_id)


def find_recurrence(lesson: Lesson, other: Lesson) -> Recurrence | None:
    """The decision already taken on this pair of lessons, in either order, if any."""
    first_id, second_id = ordered_pair(lesson.id, other.id)
    return db.session.scalar(
        select(Recurrence).where(Recurrence.first_id == first_id, Recurrence.second_id == second_id)
    )


def check_decision(lesson: Lesson, other: Lesson, decision: str, note: str) -> None:
    """Raise RecurrenceError unless `decision` on this pair can be recorded."""
    if lesson.id == other.id:
        raise RecurrenceError("Choose another lesson: a lesson cannot be a recurrence of itself.")
    if decision not in RECURRENCE_DECISIONS:
        raise RecurrenceError("Choose whether the two are the same lesson again.")
    if len(note) > NOTE_MAX:
        raise RecurrenceError(f"Keep the note to {NOTE_MAX:,} characters or fewer.")


def decide_recurrence(lesson: Lesson, other: Lesson, decision: str, *, actor: User, note: str = "") -> Recurrence:
    """Record that `lesson` and `other` are (`confirmed`) or are not (`rejected`) the same lesson again.

    Deciding a pair again replaces the earlier decision, note and decider. Raises
    PermissionDeniedError unless `actor` may decide on both lessons, RecurrenceError for
    the same lesson twice, an unknown decision or too long a note.
    """
    require(actor, "recurrence.decide", lesson)
    require(actor, "recurrence.decide", other)
    note = note.strip()
    check_decision(lesson, other, decision, note)
    recurrence = find_recurrence(lesson, other)
    old = recurrence.decision if recurrence is not None else None
    if recurrence is None:
        first_id, second_id = ordered_pair(lesson.id, other.id)
        recurrence = Recurrence(first_id=first_id, second_id=second_id)
        db.session.add(recurrence)
    recurrence.decision, recurrence.note = decision, note
    recurrence.decided_by_id, recurrence.decided_at = actor.id, utcnow()
    db.session.flush()
    first, second = (lesson, other) if lesson.id < other.id else (other, lesson)
    record_event(
        "recurrence.confirm" if decision == RecurrenceDecision.CONFIRMED else "recurrence.reject",
        actor=actor,
        target=recurrence,
        target_label=f"{first.slug} and {second.slug}",
        old=old,
        new=decision,
    )
    db.session.flush()
    return recurrence
