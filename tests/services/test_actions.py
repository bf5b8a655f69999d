"""Recording action on lessons through the service: permissions, rules, history, audit, maturity and open actions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from kb.actions import queries
from kb.actions.rules import ActionState
from kb.actions.service import ActionError, set_action_status, update_action
from kb.audit.models import AuditEvent
from kb.content.document import parse_document, serialise_document
from kb.contributions.service import EditConflictError
from kb.entries.models import Lesson
from kb.entries.service import current_revision
from kb.extensions import db
from kb.permissions import ANONYMOUS, PermissionDeniedError, viewer_for
from tests.accounts import Cast, make_user, organisation
from tests.action_lessons import import_lessons, lesson_file

OWNER = "Test out-of-hours provider"
TODAY = dt.date(2027, 4, 1)


@pytest.fixture
def lessons(cast: Cast, tmp_path: Path) -> dict[str, Lesson]:
    """A members' lesson and a panel-only lesson under the first review, and a lesson under no review."""
    review = cast.review.slug
    return import_lessons(
        tmp_path / "extra",
        {
            "acted-on": lesson_file("acted-on", review=review),
            "panel-only": lesson_file("panel-only", review=review, visibility="panel"),
            "no-review": lesson_file("no-review", review=None),
        },
    )


def audit(action: str, lesson: Lesson) -> list[tuple[str | None, str | None]]:
    query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.target_id == lesson.id)
    return [(event.old_value, event.new_value) for event in db.session.scalars(query.order_by(AuditEvent.id))]


def planned(due: dt.date = dt.date(2027, 3, 31)) -> ActionState:
    return ActionState("action-planned", owner=OWNER, due=due)


def actioned() -> ActionState:
    return ActionState("actioned", owner=OWNER, due=dt.date(2027, 3, 31), evidence="We *rewrote* the checklist.")


def verified() -> ActionState:
    return dataclasses.replace(actioned(), status="verified")


def saved_document(lesson: Lesson):
    revision = current_revision(lesson)
    assert revision is not None
    return parse_document(revision.document, lesson.slug).document


def test_the_panel_records_action_as_revisions_with_audit(cast: Cast, lessons: dict[str, Lesson]) -> None:
    lesson = lessons["acted-on"]
    start = current_revision(lesson).number
    update_action(lesson, ActionState("accepted"), actor=cast.panel)
    update_action(lesson, planned(), actor=cast.panel, message="Agreed at the board.")
    db.session.commit()
    assert (lesson.action_status, lesson.action_owner, lesson.action_due) == ("action-planned", OWNER, planned().due)
    revision = current_revision(lesson)
    assert revision.number == start + 2
    assert revision.author_id == cast.panel.id
    assert (
        revision.message == "Action: Accepted to Action planned; Action owner, due date updated: Agreed at the board."
    )
    document = saved_document(lesson)
    assert (document.action_status, document.action_owner, str(document.action_due)) == (
        "action-planned",
        OWNER,
        "2027-03-31",
    )
    assert audit("entry.action-status", lesson) == [("identified", "accepted"), ("accepted", "action-planned")]
    assert audit("entry.action", lesson) == [
        (
            "owner: none; due: none; evidence: none; note: none",
            f"owner: {OWNER}; due: 2027-03-31; evidence: none; note: none",
        )
    ]


def test_evidence_is_kept_in_the_document_and_round_trips(cast: Cast, lessons: dict[str, Lesson]) -> None:
    lesson = lessons["acted-on"]
    update_action(lesson, actioned(), actor=cast.panel)
    db.session.commit()
    assert lesson.action_evidence == "We *rewrote* the checklist."
    revision = current_revision(lesson)
    document = parse_document(revision.document, lesson.slug).document
    assert document.action_evidence == "We *rewrote* the checklist."
    assert serialise_document(document) == revision.document


@pytest.mark.parametrize("who", ["member", "other_panel", "author"])
def test_only_the_panel_and_staff_record_action(cast: Cast, lessons: dict[str, Lesson], who: str) -> None:
    with pytest.raises(PermissionDeniedError):
        update_action(lessons["acted-on"], ActionState("accepted"), actor=getattr(cast, who))


def test_a_lesson_under_no_review_is_for_staff_alone(cast: Cast, lessons: dict[str, Lesson]) -> None:
    lesson = lessons["no-review"]
    with pytest.raises(PermissionDeniedError):
        update_action(lesson, ActionState("accepted"), actor=cast.panel)
    update_action(lesson, ActionState("accepted"), actor=cast.moderator)
    assert lesson.action_status == "accepted"


def test_refused_changes_save_nothing(cast: Cast, lessons: dict[str, Lesson]) -> None:
    lesson = lessons["acted-on"]
    start = current_revision(lesson).number
    with pytest.raises(ActionError) as refused:
        update_action(lesson, ActionState("verified"), actor=cast.panel)
    assert [problem.field for problem in refused.value.problems] == ["status"]
    with pytest.raises(ActionError) as refused:
        update_action(lesson, ActionState("actioned"), actor=cast.panel)
    assert [problem.field for problem in refused.value.problems] == ["owner", "due", "evidence"]
    with pytest.raises(ActionError, match="Choose one of the organisations listed"):
        update_action(lesson, dataclasses.replace(planned(), owner="Nobody we know"), actor=cast.panel)
    db.session.rollback()
    assert current_revision(lesson).number == start
    assert lesson.action_status == "identified"
    assert audit("entry.action-status", lesson) == []


def test_verification_needs_someone_else_or_a_reason(cast: Cast, lessons: dict[str, Lesson]) -> None:
    lesson = lessons["acted-on"]
    update_action(lesson, actioned(), actor=cast.panel)
    db.session.commit()
    assert queries.actioned_by(lesson) == cast.panel.id
    with pytest.raises(ActionError, match="someone else should verify it"):
        update_action(lesson, verified(), actor=cast.panel)
    db.session.rollback()
    update_action(lesson, verified(), actor=cast.panel, message="The only panel member who attended the audit.")
    db.session.commit()
    assert lesson.action_status == "verified"
    assert "The only panel member who attended the audit." in current_revision(lesson).message


def test_verifying_makes_the_lesson_learned_and_reopening_undoes_it(cast: Cast, lessons: dict[str, Lesson]) -> None:
    lesson = lessons["acted-on"]
    second = make_user("second-panel@example.org", panels=(cast.review,))
    update_action(lesson, actioned(), actor=cast.panel)
    update_action(lesson, verified(), actor=second)
    db.session.commit()
    assert (lesson.action_status, lesson.maturity) == ("verified", "learned")
    assert saved_document(lesson).maturity == "learned"
    assert audit("entry.maturity", lesson) == [("observation", "learned")]
    with pytest.raises(ActionError, match="moves back from verified to actioned"):
        update_action(lesson, actioned(), actor=second)
    db.session.rollback()
    update_action(lesson, actioned(), actor=second, message="The check missed the night shift.")
    db.session.commit()
    assert (lesson.action_status, lesson.maturity) == ("actioned", "lesson")
    assert saved_document(lesson).maturity == "lesson"
    assert audit("entry.maturity", lesson) == [("observation", "learned"), ("learned", "lesson")]
    assert "The check missed the night shift." in current_revision(lesson).message


def test_not_accepted_needs_a_reason_kept_as_the_note(cast: Cast, lessons: dict[str, Lesson]) -> None:
    lesson = lessons["acted-on"]
    with pytest.raises(ActionError, match="Give the reason"):
        update_action(lesson, ActionState("not-accepted"), actor=cast.panel)
    db.session.rollback()
    update_action(lesson, ActionState("not-accepted", note="Outside what the alliance can change."), actor=cast.panel)
    db.session.commit()
    assert (lesson.action_status, lesson.action_note) == ("not-accepted", "Outside what the alliance can change.")
    assert saved_document(lesson).action_note == "Outside what the alliance can change."


def test_an_edit_from_an_older_revision_is_stopped(cast: Cast, lessons: dict[str, Lesson]) -> None:
    lesson = lessons["acted-on"]
    base = current_revision(lesson).number
    update_action(lesson, ActionState("accepted"), actor=cast.moderator, base_number=base)
    db.session.commit()
    with pytest.raises(EditConflictError):
        update_action(lesson, planned(), actor=cast.panel, base_number=base)
    db.session.rollback()
    assert lesson.action_status == "accepted"


def test_set_action_status_keeps_the_details(cast: Cast, lessons: dict[str, Lesson]) -> None:
    lesson = lessons["acted-on"]
    update_action(lesson, planned(), actor=cast.panel)
    with pytest.raises(ActionError, match="evidence"):
        set_action_status(lesson, "actioned", actor=cast.moderator)
    set_action_status(lesson, "accepted", actor=cast.moderator, message="Plan withdrawn for now.")
    assert (lesson.action_status, lesson.action_owner, lesson.action_due) == ("accepted", OWNER, planned().due)


# --- Open actions --------------------------------------------------------------------------------


def test_open_actions_are_overdue_first_then_by_due_date(cast: Cast, lessons: dict[str, Lesson]) -> None:
    organisation("Another provider")
    update_action(lessons["acted-on"], planned(dt.date(2027, 5, 1)), actor=cast.moderator)
    update_action(lessons["no-review"], planned(dt.date(2027, 2, 1)), actor=cast.moderator)
    update_action(
        lessons["panel-only"],
        dataclasses.replace(planned(dt.date(2027, 3, 1)), owner="Another provider"),
        actor=cast.panel,
    )
    db.session.commit()
    staff = viewer_for(cast.moderator)
    page = queries.open_actions(staff)
    slugs = [lesson.slug for lesson in page.items]
    assert slugs[:3] == ["no-review", "panel-only", "acted-on"]
    assert all(lesson.action_due is None for lesson in page.items[3:])
    counts = queries.open_action_counts(staff, today=TODAY)
    assert counts.overdue == 2
    assert counts.by_status["action-planned"] == 3
    assert counts.total == page.total
    assert sum(1 for lesson in page.items if lesson.action_status == "identified") == counts.by_status["identified"]


def test_open_actions_count_only_what_the_viewer_may_read(cast: Cast, lessons: dict[str, Lesson]) -> None:
    update_action(lessons["panel-only"], planned(dt.date(2027, 3, 1)), actor=cast.panel)
    update_action(lessons["acted-on"], planned(dt.date(2027, 5, 1)), actor=cast.panel)
    db.session.commit()
    for viewer, expected in (
        (viewer_for(cast.panel), {"panel-only", "acted-on"}),
        (viewer_for(cast.member), {"acted-on"}),
        (viewer_for(cast.other_panel), {"acted-on"}),
        (ANONYMOUS, set()),
    ):
        planned_slugs = {lesson.slug for lesson in queries.open_actions(viewer, status="action-planned").items}
        assert planned_slugs == expected
        assert queries.open_action_counts(viewer, today=TODAY).by_status["action-planned"] == len(expected)
        assert queries.open_action_counts(viewer, today=TODAY).overdue == (1 if "panel-only" in expected else 0)
    public = {lesson.slug for lesson in queries.open_actions(ANONYMOUS).items}
    assert public
    assert not public & set(lessons)


def test_open_actions_leave_out_verified_and_not_accepted_and_filter_by_owner(
    cast: Cast, lessons: dict[str, Lesson]
) -> None:
    organisation("Another provider")
    update_action(lessons["acted-on"], actioned(), actor=cast.panel)
    update_action(lessons["acted-on"], verified(), actor=cast.moderator)
    update_action(lessons["no-review"], ActionState("not-accepted", note="No."), actor=cast.moderator)
    update_action(lessons["panel-only"], dataclasses.replace(planned(), owner="Another provider"), actor=cast.moderator)
    db.session.commit()
    staff = viewer_for(cast.moderator)
    slugs = {lesson.slug for lesson in queries.open_actions(staff).items}
    assert "panel-only" in slugs
    assert not {"acted-on", "no-review"} & slugs
    assert [lesson.slug for lesson in queries.open_actions(staff, owner="Another provider").items] == ["panel-only"]
    assert queries.open_action_owners(staff) == ["Another provider"]
    assert queries.open_action_counts(staff, today=TODAY, owner="Another provider").total == 1
