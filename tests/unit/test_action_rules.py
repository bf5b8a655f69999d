"""The rules of action on a lesson: transitions, what each status needs, verification by another, maturity."""

from __future__ import annotations

import datetime as dt

import pytest

from kb.actions import rules
from kb.actions.rules import ActionState
from kb.entries.vocabulary import ACTION_STATUSES

DUE = dt.date(2027, 3, 31)
PLANNED = ActionState("action-planned", owner="NHS England", due=DUE)
ACTIONED = ActionState("actioned", owner="NHS England", due=DUE, evidence="Done and checked.")


def problems(old: ActionState, new: ActionState, *, actor: int = 1, actioned_by: int | None = None, message: str = ""):
    return rules.check_change(old, new, actor_id=actor, actioned_by=actioned_by, message=message)


def fields(found: list[rules.RuleProblem]) -> list[str]:
    return [problem.field for problem in found]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("identified", ("accepted", "action-planned", "actioned", "not-accepted")),
        ("accepted", ("identified", "action-planned", "actioned", "not-accepted")),
        ("action-planned", ("identified", "accepted", "actioned")),
        ("actioned", ("identified", "accepted", "action-planned", "verified")),
        ("verified", ("identified", "accepted", "action-planned", "actioned")),
        ("not-accepted", ("identified", "accepted")),
        ("nonsense", ()),
    ],
)
def test_allowed_next(status: str, expected: tuple[str, ...]) -> None:
    assert rules.allowed_next(status) == expected


def test_every_status_is_known_and_open_ones_are_in_path_order() -> None:
    assert set(rules.CHAIN) | {rules.NOT_ACCEPTED} == set(ACTION_STATUSES)
    assert rules.OPEN_STATUSES == ("identified", "accepted", "action-planned", "actioned")


def test_verified_only_follows_actioned() -> None:
    for old in ("identified", "accepted", "action-planned", "not-accepted"):
        found = problems(ActionState(old, owner="X", due=DUE, evidence="E"), ActionState("verified", "X", DUE, "E"))
        assert fields(found) == ["status"], old
        assert "verified only after it is recorded as actioned" in found[0].message or old == "not-accepted"


def test_not_accepted_only_from_identified_or_accepted_and_needs_a_reason() -> None:
    assert fields(problems(ActionState("identified"), ActionState("not-accepted"))) == ["note"]
    assert problems(ActionState("accepted"), ActionState("not-accepted", note="No money this year.")) == []
    refused = problems(PLANNED, ActionState("not-accepted", "NHS England", DUE, note="Changed our minds."))
    assert fields(refused) == ["status"]
    assert "only an action that is identified or accepted" in refused[0].message


def test_unknown_status_is_refused() -> None:
    assert [p.message for p in problems(ActionState("identified"), ActionState("ripe"))] == [
        "Choose one of the action statuses listed."
    ]


def test_planned_needs_owner_and_due_date() -> None:
    assert fields(problems(ActionState("accepted"), ActionState("action-planned"))) == ["owner", "due"]
    assert fields(problems(ActionState("accepted"), ActionState("action-planned", owner="NHS England"))) == ["due"]
    assert problems(ActionState("accepted"), PLANNED) == []


def test_actioned_needs_evidence() -> None:
    assert fields(problems(PLANNED, ActionState("actioned", "NHS England", DUE))) == ["evidence"]
    assert fields(problems(PLANNED, ActionState("actioned", "NHS England", DUE, evidence="   "))) == ["evidence"]
    assert problems(PLANNED, ACTIONED) == []


def test_verified_by_someone_else_needs_no_explanation() -> None:
    verified = ActionState("verified", "NHS England", DUE, "Done and checked.")
    assert problems(ACTIONED, verified, actor=2, actioned_by=1) == []
    assert problems(ACTIONED, verified, actor=2, actioned_by=None) == []


def test_verifying_your_own_action_needs_a_reason() -> None:
    verified = ActionState("verified", "NHS England", DUE, "Done and checked.")
    refused = problems(ACTIONED, verified, actor=1, actioned_by=1)
    assert fields(refused) == ["message"]
    assert "someone else should verify it" in refused[0].message
    assert problems(ACTIONED, verified, actor=1, actioned_by=1, message="The only member in that region.") == []


def test_verified_keeps_needing_evidence_owner_and_due() -> None:
    assert fields(problems(ACTIONED, ActionState("verified"), actor=2, actioned_by=1)) == ["owner", "due", "evidence"]


def test_moving_back_needs_a_reason() -> None:
    back = ActionState("actioned", "NHS England", DUE, "Done and checked.")
    verified = ActionState("verified", "NHS England", DUE, "Done and checked.")
    refused = problems(verified, back)
    assert fields(refused) == ["message"]
    assert "moves back from verified to actioned" in refused[0].message
    assert problems(verified, back, message="The check missed a region.") == []
    assert fields(problems(ActionState("not-accepted", note="No."), ActionState("identified"))) == ["message"]
    assert problems(ActionState("not-accepted", note="No."), ActionState("accepted"), message="New money.") == []


def test_changing_details_without_status_is_allowed_but_not_nothing() -> None:
    later = ActionState("action-planned", owner="NHS England", due=dt.date(2027, 6, 30))
    assert problems(PLANNED, later) == []
    assert [p.message for p in problems(PLANNED, PLANNED)] == [
        "Nothing was changed: change the status or one of the details."
    ]


def test_forward_moves_may_skip_steps_up_to_actioned() -> None:
    assert problems(ActionState("identified"), ACTIONED) == []
    assert problems(ActionState("identified"), PLANNED) == []


@pytest.mark.parametrize(
    ("maturity", "status", "expected"),
    [
        ("observation", "verified", "learned"),
        ("lesson", "verified", "learned"),
        ("learned", "verified", "learned"),
        ("learned", "actioned", "lesson"),
        ("learned", "identified", "lesson"),
        ("insight", "actioned", "insight"),
        ("observation", "not-accepted", "observation"),
    ],
)
def test_maturity_follows_verification(maturity: str, status: str, expected: str) -> None:
    assert rules.maturity_after(maturity, status) == expected


def test_maturity_learned_only_when_verified() -> None:
    assert "only once action on it is verified" in (rules.maturity_problem("learned", "actioned") or "")
    assert rules.maturity_problem("learned", "verified") is None
    assert rules.maturity_problem("insight", "actioned") is None
    assert "change its action status first" in (rules.maturity_problem("insight", "verified") or "")


def test_overdue_is_an_open_action_due_before_today() -> None:
    today = dt.date(2027, 4, 1)
    assert rules.is_overdue(PLANNED, today)
    assert not rules.is_overdue(PLANNED, DUE)
    assert not rules.is_overdue(ActionState("verified", "X", dt.date(2020, 1, 1), "E"), today)
    assert not rules.is_overdue(ActionState("not-accepted", "X", dt.date(2020, 1, 1), note="n"), today)
    assert not rules.is_overdue(ActionState("accepted"), today)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", None), ("  ", None), ("2027-03-31", DUE), (" 2027-03-31 ", DUE)],
)
def test_parse_due(text: str, expected: dt.date | None) -> None:
    assert rules.parse_due(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027-03", "with its day"),
        ("2027", "with its day"),
        ("2027-02-30", "real date"),
        ("31/03/2027", "real date"),
        ("soon", "real date"),
    ],
)
def test_parse_due_refuses_what_is_not_a_full_date(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rules.parse_due(text)
