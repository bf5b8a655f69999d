"""Reading action on lessons: a lesson's action record, who recorded it actioned, and open actions.

Every list goes through `permissions.visible_entries`, so a viewer only ever sees, or
counts, the actions of lessons they may read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy import ColumnElement, Select, case, func, select

from kb.actions import rules
from kb.audit.models import AuditEvent
from kb.dates import LONDON, utcnow
from kb.entries.models import Entry, Lesson
from kb.entries.service import current_revision, shown_rendering
from kb.extensions import db
from kb.pagination import Page, paginate
from kb.permissions import Viewer, can, visible_entries
from kb.states import EntryStatus
from kb.users.models import Organisation

OPEN_ACTIONS_PER_PAGE = 50


def london_today() -> dt.date:
    """Today's date in Europe/London, which decides what is overdue."""
    return utcnow().astimezone(LONDON).date()


def action_state(lesson: Lesson) -> rules.ActionState:
    """The lesson's action record as the rules see it."""
    return rules.ActionState(
        status=lesson.action_status,
        owner=lesson.action_owner or None,
        due=lesson.action_due,
        evidence=lesson.action_evidence or None,
        note=lesson.action_note or None,
    )


def actioned_by(lesson: Lesson) -> int | None:
    """The user who last recorded the lesson's action as actioned, from the audit log; None when unknown."""
    query = (
        select(AuditEvent.actor_id)
        .where(
            AuditEvent.action == "entry.action-status",
            AuditEvent.target_type == "lesson",
            AuditEvent.target_id == lesson.id,
            AuditEvent.new_value == "actioned",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def organisation_names() -> list[str]:
    """The names of the alliance's organisations, in alphabetical order: who may own an action."""
    return list(db.session.scalars(select(Organisation.name).order_by(Organisation.name)))


# --- The lesson page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRecord:
    """What the lesson page shows of a lesson's action."""

    state: rules.ActionState
    status_label: str
    overdue: bool
    evidence_html: Markup | None
    can_update: bool


def stored_evidence(lesson: Lesson) -> Markup | None:
    """The evidence of action as the lesson's current revision stored it (rendered with the lesson's texts).

    Its links show a target only where every reader of the lesson may see it.
    """
    if not lesson.action_evidence:
        return None
    revision = current_revision(lesson)
    part = (revision.rendered or {}).get("action_evidence") if revision is not None else None
    if part is None:
        return None
    return shown_rendering({"action_evidence": part})["action_evidence"]["html"]


def lesson_action(viewer: Viewer, entry: Entry) -> dict[str, Any]:
    """Context for the lesson page's action section (`actions/_lesson_action.html`); empty for other entries.

    Nothing is shown for an untouched action (identified, no details) unless `viewer`
    may record action on it.
    """
    if not isinstance(entry, Lesson):
        return {}
    state = action_state(entry)
    can_update = can(viewer, "lesson.action", entry)
    untouched = state == rules.ActionState(status="identified")
    if untouched and not can_update:
        return {}
    record = ActionRecord(
        state=state,
        status_label=rules.label(state.status),
        overdue=rules.is_overdue(state, london_today()),
        evidence_html=stored_evidence(entry),
        can_update=can_update,
    )
    return {"lesson_action": record}


# --- Open actions --------------------------------------------------------------------------------


@dataclass
class ActionCounts:
    """How many open actions there are, per status, and how many are overdue."""

    by_status: dict[str, int] = field(default_factory=dict)
    overdue: int = 0

    @property
    def total(self) -> int:
        """Every open action counted."""
        return sum(self.by_status.values())


def _open_lessons(viewer: Viewer | None) -> ColumnElement[bool]:
    """Published lessons `viewer` may read whose action is still open."""
    return (
        visible_entries(viewer)
        & (Entry.status == EntryStatus.PUBLISHED)
        & Lesson.action_status.in_(rules.OPEN_STATUSES)
    )


def overdue_condition(today: dt.date) -> ColumnElement[bool]:
    """SQL condition on `Lesson`: an action due before `today`."""
    return Lesson.action_due.is_not(None) & (Lesson.action_due < today)


def open_action_counts(viewer: Viewer | None, *, today: dt.date, owner: str | None = None) -> ActionCounts:
    """Open actions of lessons `viewer` may read, per status and overdue, in one query; `owner` narrows them."""
    condition = _open_lessons(viewer)
    if owner:
        condition = condition & (Lesson.action_owner == owner)
    overdue = func.sum(case((overdue_condition(today), 1), else_=0))
    rows = db.session.execute(
        select(Lesson.action_status, func.count(Lesson.id), overdue).where(condition).group_by(Lesson.action_status)
    ).all()
    counts = ActionCounts(by_status=dict.fromkeys(rules.OPEN_STATUSES, 0))
    for status, number, late in rows:
        counts.by_status[status] = number
        counts.overdue += int(late or 0)
    return counts


def open_action_owners(viewer: Viewer | None) -> list[str]:
    """The owners named on open actions `viewer` may read, alphabetically: the choices of the owner filter."""
    query = (
        select(Lesson.action_owner)
        .where(_open_lessons(viewer), Lesson.action_owner.is_not(None))
        .distinct()
        .order_by(Lesson.action_owner)
    )
    return list(db.session.scalars(query))


def open_actions_query(viewer: Viewer | None, *, owner: str | None = None, status: str | None = None) -> Select[Any]:
    """Open actions, soonest due first: those overdue come first, those with no due date last."""
    query = select(Lesson).where(_open_lessons(viewer))
    if owner:
        query = query.where(Lesson.action_owner == owner)
    if status:
        query = query.where(Lesson.action_status == status)
    return query.order_by(Lesson.action_due.asc().nulls_last(), Entry.title, Entry.id)


def open_actions(viewer: Viewer | None, *, owner: str | None = None, status: str | None = None, page: int = 1) -> Page:
    """One page of open actions `viewer` may see, overdue first, then by due date."""
    return paginate(open_actions_query(viewer, owner=owner, status=status), page, OPEN_ACTIONS_PER_PAGE)
