"""Recording action on a lesson: status, owner organisation, due date, evidence and note.

One doorway, `update_action`, checks `lesson.action` and the rules of `kb.actions.rules`,
saves the change as a revision in the lesson's history (with the maturity the rules give)
and records audit events; curation's status and maturity changes come through here too.
Services flush; the route commits once.
"""

from __future__ import annotations

import dataclasses

from kb.actions import rules
from kb.actions.queries import action_state, actioned_by, organisation_names
from kb.audit.service import record_event
from kb.contributions.service import check_base
from kb.dates import PartialDate
from kb.entries.models import Entry, Lesson, Revision
from kb.entries.service import current_revision
from kb.entries.vocabulary import MATURITIES
from kb.errors import InvalidInputError
from kb.extensions import db
from kb.moderation.revisions import save_entry_state
from kb.permissions import require
from kb.users.models import User


class ActionError(InvalidInputError):
    """A change to a lesson's action that the rules refuse; `problems` name the fields at fault."""

    def __init__(self, problems: list[rules.RuleProblem]) -> None:
        super().__init__(" ".join(problem.message for problem in problems))
        self.problems = problems


def _lesson(entry: Entry) -> Lesson:
    if not isinstance(entry, Lesson):
        raise ActionError([rules.RuleProblem("status", "Only lessons have an action to record.")])
    return entry


def _cleaned(state: rules.ActionState) -> rules.ActionState:
    """Empty texts become None, so an empty field and a missing one are the same."""
    return rules.ActionState(
        status=state.status,
        owner=(state.owner or "").strip() or None,
        due=state.due,
        evidence=(state.evidence or "").strip() or None,
        note=(state.note or "").strip() or None,
    )


def _owner_problems(lesson: Lesson, owner: str | None) -> list[rules.RuleProblem]:
    """An owner must be one of the organisations, or the owner the lesson already has."""
    if owner is None or owner == lesson.action_owner or owner in organisation_names():
        return []
    return [rules.RuleProblem("owner", "Choose one of the organisations listed.")]


def _summary(old: rules.ActionState, new: rules.ActionState, message: str) -> str:
    """The revision message: what changed, then the person's own words."""
    parts = []
    if old.status != new.status:
        parts.append(f"Action: {rules.label(old.status)} to {rules.label(new.status)}")
    changed = [name for name in ("owner", "due", "evidence", "note") if getattr(old, name) != getattr(new, name)]
    if changed:
        names = {"owner": "owner", "due": "due date", "evidence": "evidence of action", "note": "note"}
        parts.append("Action " + ", ".join(names[name] for name in changed) + " updated")
    text = "; ".join(parts)
    return f"{text}: {message.strip()}" if message.strip() else text


def update_action(
    entry: Entry, state: rules.ActionState, *, actor: User, message: str = "", base_number: int | None = None
) -> Revision | None:
    """Record a new action state for a lesson, as a revision in its history, audited.

    The lesson's maturity follows (`rules.maturity_after`). With `base_number`, an edit
    started from an older revision is stopped. Raises PermissionDeniedError, ActionError
    (with every problem found), EditConflictError.
    """
    require(actor, "lesson.action", entry)
    lesson = _lesson(entry)
    if current_revision(lesson) is None:
        raise ActionError([rules.RuleProblem("status", "This lesson has no saved revision to record its action in.")])
    if base_number is not None:
        check_base(lesson, base_number)
    old = action_state(lesson)
    new = _cleaned(state)
    problems = rules.check_change(old, new, actor_id=actor.id, actioned_by=actioned_by(lesson), message=message)
    problems += _owner_problems(lesson, new.owner)
    if problems:
        raise ActionError(problems)
    old_maturity = lesson.maturity
    maturity = rules.maturity_after(old_maturity, new.status)
    save_entry_state(
        lesson,
        actor=actor,
        message=_summary(old, new, message),
        action_status=new.status,
        action_owner=new.owner,
        action_due=PartialDate(new.due.year, new.due.month, new.due.day) if new.due else None,
        action_evidence=new.evidence,
        action_note=new.note,
        maturity=maturity,
    )
    _record_events(lesson, old, new, old_maturity, actor=actor)
    db.session.flush()
    return current_revision(lesson)


def _record_events(
    lesson: Lesson, old: rules.ActionState, new: rules.ActionState, old_maturity: str, *, actor: User
) -> None:
    if old.status != new.status:
        record_event("entry.action-status", actor=actor, target=lesson, old=old.status, new=new.status)
    details = dataclasses.replace(new, status=old.status)
    if details != old:
        record_event("entry.action", actor=actor, target=lesson, old=_details(old), new=_details(new))
    if old_maturity != lesson.maturity:
        record_event("entry.maturity", actor=actor, target=lesson, old=old_maturity, new=lesson.maturity)


def _details(state: rules.ActionState) -> str:
    """The owner, due date and whether there is evidence or a note, as one line for the audit log."""
    due = state.due.isoformat() if state.due else "none"
    return (
        f"owner: {state.owner or 'none'}; due: {due}; "
        f"evidence: {'given' if state.evidence else 'none'}; note: {'given' if state.note else 'none'}"
    )


def set_action_status(entry: Entry, status: str, *, actor: User, message: str = "") -> Revision | None:
    """Move a lesson's action to `status`, keeping its other details; the rules apply as for any change.

    Raises PermissionDeniedError, ActionError.
    """
    lesson = _lesson(entry)
    return update_action(lesson, dataclasses.replace(action_state(lesson), status=status), actor=actor, message=message)


def check_maturity(entry: Entry, maturity: str) -> None:
    """Raise ActionError when the rules do not allow `entry`'s maturity to become `maturity`."""
    lesson = _lesson(entry)
    if maturity not in MATURITIES:
        raise ActionError([rules.RuleProblem("maturity", "Choose one of the maturities listed.")])
    problem = rules.maturity_problem(maturity, lesson.action_status)
    if problem:
        raise ActionError([rules.RuleProblem("maturity", problem)])
