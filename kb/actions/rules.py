"""The rules of action on a lesson: which status may follow which, what each needs, and maturity.

No app and no database. The path is identified → accepted → action planned → actioned →
verified, or not accepted (with a reason) from identified or accepted. Forward moves may
skip steps up to actioned, but verified only ever follows actioned, so a check of the
action is always its own step. Moving back (reopening) needs a word on why. A lesson is
`learned` only while its action is verified: verifying makes it learned, and moving away
from verified takes a learned lesson back to `lesson`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kb.dates import BadDateError, PartialDate
from kb.entries.vocabulary import ACTION_STATUSES
from kb.states import ActionStatus

CHAIN: tuple[str, ...] = ("identified", "accepted", "action-planned", "actioned", "verified")
"""The statuses of an accepted action, in order."""
NOT_ACCEPTED = "not-accepted"
REFUSABLE_FROM = frozenset({ActionStatus.IDENTIFIED, ActionStatus.ACCEPTED})
"""An action may be not accepted only before anything was planned."""
CLOSED_STATUSES = frozenset({ActionStatus.VERIFIED, NOT_ACCEPTED})
OPEN_STATUSES: tuple[str, ...] = tuple(status for status in ACTION_STATUSES if status not in CLOSED_STATUSES)
"""Statuses of an action still to be finished, in the order of the path."""
NEEDS_OWNER_AND_DUE = frozenset({ActionStatus.ACTION_PLANNED, ActionStatus.ACTIONED, ActionStatus.VERIFIED})
NEEDS_EVIDENCE = frozenset({ActionStatus.ACTIONED, ActionStatus.VERIFIED})
LEARNED = "learned"
AFTER_LEARNED = "lesson"
SELF_CHECK_MESSAGE = (
    "You recorded this action as actioned, so someone else should verify it; if no one else can, say why here."
)


@dataclass(frozen=True)
class ActionState:
    """A lesson's action record: status, owner organisation, due date, evidence and note."""

    status: str
    owner: str | None = None
    due: dt.date | None = None
    evidence: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class RuleProblem:
    """Why a change is refused, and the form field it concerns (`status`, `owner`, `due`, ...)."""

    field: str
    message: str


def label(status: str) -> str:
    """The status as people read it, e.g. `Action planned`."""
    return ACTION_STATUSES.get(status, status)


def allowed_next(status: str) -> tuple[str, ...]:
    """The statuses an action with `status` may move to, in the order of `ACTION_STATUSES`."""
    if status == NOT_ACCEPTED:
        targets = {"identified", "accepted"}
    elif status in CHAIN:
        position = CHAIN.index(status)
        forward = set(CHAIN[position + 1 : CHAIN.index("actioned") + 1])
        if status == ActionStatus.ACTIONED:
            forward = {"verified"}
        targets = forward | set(CHAIN[:position])
        if status in REFUSABLE_FROM:
            targets.add(NOT_ACCEPTED)
    else:
        targets = set()
    return tuple(name for name in ACTION_STATUSES if name in targets)


def is_backward(old: str, new: str) -> bool:
    """Whether moving from `old` to `new` reopens the action (back along the path, or out of not accepted)."""
    if old == NOT_ACCEPTED:
        return new != NOT_ACCEPTED
    return old in CHAIN and new in CHAIN and CHAIN.index(new) < CHAIN.index(old)


def _transition_problems(old: str, new: str) -> list[RuleProblem]:
    if new not in ACTION_STATUSES:
        return [RuleProblem("status", "Choose one of the action statuses listed.")]
    if old == new or new in allowed_next(old):
        return []
    if new == NOT_ACCEPTED:
        why = "only an action that is identified or accepted can be not accepted"
    elif new == "verified":
        why = "an action is verified only after it is recorded as actioned"
    else:
        why = f"from {label(old).lower()} it can move to " + ", ".join(
            label(name).lower() for name in allowed_next(old)
        )
    return [RuleProblem("status", f"The action cannot move from {label(old).lower()} to {label(new).lower()}: {why}.")]


def _requirement_problems(new: ActionState) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    status = label(new.status).lower()
    if new.status == NOT_ACCEPTED and not (new.note or "").strip():
        problems.append(RuleProblem("note", "Give the reason the action was not accepted."))
    if new.status in NEEDS_OWNER_AND_DUE and not new.owner:
        problems.append(RuleProblem("owner", f"Choose the organisation that owns the action: it is {status}."))
    if new.status in NEEDS_OWNER_AND_DUE and new.due is None:
        problems.append(RuleProblem("due", f"Enter the date the action is due: it is {status}."))
    if new.status in NEEDS_EVIDENCE and not (new.evidence or "").strip():
        problems.append(RuleProblem("evidence", f"Describe the evidence of action: it is {status}."))
    return problems


def check_change(
    old: ActionState, new: ActionState, *, actor_id: int | None, actioned_by: int | None, message: str = ""
) -> list[RuleProblem]:
    """Every reason the change from `old` to `new` by `actor_id` is refused; empty when it is allowed.

    `actioned_by` is whoever recorded the action as actioned (None when not known).
    Verifying one's own action, and moving an action back, need `message` to say why.
    """
    problems = _transition_problems(old.status, new.status)
    if problems:
        return problems
    problems = _requirement_problems(new)
    said_why = bool(message.strip())
    verifying_own = (
        new.status == ActionStatus.VERIFIED and old.status != ActionStatus.VERIFIED and actioned_by == actor_id
    )
    if verifying_own and actioned_by is not None and not said_why:
        problems.append(RuleProblem("message", SELF_CHECK_MESSAGE))
    if is_backward(old.status, new.status) and not said_why:
        moves = f"{label(old.status).lower()} to {label(new.status).lower()}"
        problems.append(RuleProblem("message", f"Say why the action moves back from {moves}."))
    if not problems and old == new:
        problems.append(RuleProblem("status", "Nothing was changed: change the status or one of the details."))
    return problems


def maturity_after(maturity: str, status: str) -> str:
    """The lesson's maturity once its action has `status`: verified makes it learned, leaving verified undoes that."""
    if status == ActionStatus.VERIFIED:
        return LEARNED
    if maturity == LEARNED:
        return AFTER_LEARNED
    return maturity


def maturity_problem(maturity: str, status: str) -> str | None:
    """Why a lesson whose action has `status` may not be given `maturity`; None when it may."""
    if maturity == LEARNED and status != ActionStatus.VERIFIED:
        return f"A lesson is learned only once action on it is verified; its action is {label(status).lower()}."
    if maturity != LEARNED and status == ActionStatus.VERIFIED:
        return "A lesson whose action is verified is learned; to change its maturity, change its action status first."
    return None


def is_overdue(state: ActionState, today: dt.date) -> bool:
    """Whether an open action's due date has passed (due before `today`, London's date)."""
    return state.status not in CLOSED_STATUSES and state.due is not None and state.due < today


def parse_due(text: str) -> dt.date | None:
    """The due date typed as YYYY-MM-DD, or None when empty.

    Raises ValueError with a message for the person when it is not a real, full date.
    """
    text = text.strip()
    if not text:
        return None
    try:
        parsed = PartialDate.parse(text)
    except BadDateError:
        raise ValueError("Enter the due date as a real date in the form YYYY-MM-DD, for example 2027-03-31.") from None
    if parsed.precision != "day":
        raise ValueError("Enter the due date with its day, in the form YYYY-MM-DD, for example 2027-03-31.")
    return parsed.first_day
