"""Flags and moderators' decisions through the service: once per item, reasons, resolution, audit, the author told."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kb.audit.models import AuditEvent
from kb.comments.models import Comment
from kb.content.document import parse_document
from kb.entries.models import Entry
from kb.entries.service import current_revision
from kb.extensions import db
from kb.moderation import service
from kb.moderation.models import Flag
from kb.moderation.queries import flagged_item, open_flag_count, open_flag_items
from kb.moderation.service import AlreadyFlaggedError, ModerationError, decide_comment, decide_entry, raise_flag
from kb.permissions import PermissionDeniedError, can_read_comment, can_view_entry, viewer_for
from tests.accounts import Cast
from tests.factories import add_comment, entry

PUBLIC_LESSON = "procurement-weighted-towards-cost"
DRAFT_LESSON = "who-decides-a-service-is-ready-to-go-live"


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every call to `moderation_decided` and `flag_raised`, as the notifications service received it."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        "kb.notifications.service.moderation_decided",
        lambda recipient, **kwargs: calls.append({"kind": "decided", "recipient": recipient, **kwargs}),
    )
    monkeypatch.setattr(
        "kb.notifications.service.flag_raised", lambda flag: calls.append({"kind": "flag", "flag": flag})
    )
    return calls


@pytest.fixture
def lesson(cast: Cast) -> Entry:
    """A public lesson written by the cast's author."""
    found = entry(PUBLIC_LESSON)
    found.author_id = cast.author.id
    db.session.commit()
    return found


@pytest.fixture
def thread(lesson: Entry, cast: Cast) -> tuple[Comment, Comment]:
    """A comment by the author and a member's reply to it."""
    top = add_comment(lesson, cast.author, "The **tender** was scored on price alone.")
    reply = add_comment(lesson, cast.member, "That matches the minutes.", parent=top)
    return top, reply


# --- Raising flags -------------------------------------------------------------------------------


def test_a_member_flags_a_comment_once(thread, cast, told) -> None:
    top, _ = thread
    flag = raise_flag(top.entry, actor=cast.member, reason="abusive", comment=top)
    db.session.commit()
    assert (flag.target_key, flag.entry_id, flag.comment_id, flag.reporter_id) == (
        f"comment:{top.id}",
        top.entry_id,
        top.id,
        cast.member.id,
    )
    assert [event.target_id for event in audit("flag.raise")] == [top.id]
    assert [call["flag"].id for call in told if call["kind"] == "flag"] == [flag.id]
    with pytest.raises(AlreadyFlaggedError, match="already flagged this comment"):
        raise_flag(top.entry, actor=cast.member, reason="off-topic", comment=top)
    db.session.rollback()
    assert db.session.scalar(select(Flag.id).where(Flag.comment_id == top.id, Flag.reason == "off-topic")) is None


def test_the_unique_constraint_backs_the_once_per_item_rule(thread, cast, told, monkeypatch) -> None:
    top, _ = thread
    raise_flag(top.entry, actor=cast.member, reason="abusive", comment=top)
    db.session.commit()
    monkeypatch.setattr(service, "has_flagged", lambda *args, **kwargs: False)
    with pytest.raises(AlreadyFlaggedError):
        raise_flag(top.entry, actor=cast.member, reason="other", note="again", comment=top)


def test_other_people_and_the_entry_itself_are_separate_flags(thread, lesson, cast, told) -> None:
    top, _ = thread
    raise_flag(lesson, actor=cast.member, reason="abusive", comment=top)
    raise_flag(lesson, actor=cast.panel, reason="personal-data", comment=top)
    raise_flag(lesson, actor=cast.member, reason="inaccurate")
    db.session.commit()
    assert open_flag_count() == 2
    keys = {flag.target_key for flag in db.session.scalars(select(Flag))}
    assert keys == {f"comment:{top.id}", f"entry:{lesson.id}"}


def test_something_else_needs_a_note_and_the_reason_must_be_known(thread, cast, told) -> None:
    top, _ = thread
    with pytest.raises(ModerationError, match="Say what is wrong"):
        raise_flag(top.entry, actor=cast.member, reason="other", note="   ", comment=top)
    with pytest.raises(ModerationError, match="Choose why"):
        raise_flag(top.entry, actor=cast.member, reason="boring", comment=top)
    flag = raise_flag(top.entry, actor=cast.member, reason="other", note="  Names a patient.  ", comment=top)
    assert flag.note == "Names a patient."


def test_nobody_flags_what_they_cannot_see(seeded_app, cast, told) -> None:
    draft = entry(DRAFT_LESSON)
    assert not can_view_entry(viewer_for(cast.member), draft)
    with pytest.raises(PermissionDeniedError):
        raise_flag(draft, actor=cast.member, reason="abusive")
    hidden = add_comment(entry(PUBLIC_LESSON), cast.author, "Hidden text", status="hidden")
    with pytest.raises(PermissionDeniedError):
        raise_flag(hidden.entry, actor=cast.member, reason="abusive", comment=hidden)
    with pytest.raises(PermissionDeniedError):
        raise_flag(hidden.entry, actor=None, reason="abusive")  # type: ignore[arg-type]
    assert db.session.scalar(select(Flag.id)) is None


def test_a_comment_must_belong_to_the_entry_named(thread, cast, told) -> None:
    top, _ = thread
    other = entry("north-west-service-failed-within-hours")
    with pytest.raises(PermissionDeniedError):
        raise_flag(other, actor=cast.member, reason="abusive", comment=top)


# --- The queue -----------------------------------------------------------------------------------


def test_the_queue_groups_flags_by_item_oldest_first_with_context(thread, lesson, cast, told) -> None:
    top, reply = thread
    raise_flag(lesson, actor=cast.member, reason="inaccurate")
    raise_flag(lesson, actor=cast.panel, reason="abusive", comment=reply)
    raise_flag(lesson, actor=cast.other_panel, reason="other", note="Rude.", comment=reply)
    db.session.commit()
    items = open_flag_items(viewer_for(cast.moderator))
    assert [item.key for item in items] == [f"entry:{lesson.id}", f"comment:{reply.id}"]
    comment_item = items[1]
    assert comment_item.comment.id == reply.id
    assert comment_item.parent.id == top.id
    assert comment_item.reporter_count == 2
    assert comment_item.reason_counts == [("Abusive", 1), ("Something else", 1)]
    assert [flag.note for flag in comment_item.notes] == ["Rude."]


# --- Decisions on comments -----------------------------------------------------------------------


def test_hiding_a_comment_resolves_its_flags_audits_and_tells_its_author(thread, cast, told) -> None:
    top, reply = thread
    raise_flag(top.entry, actor=cast.member, reason="abusive", comment=top)
    raise_flag(top.entry, actor=cast.panel, reason="off-topic", comment=top)
    db.session.commit()
    decided = decide_comment(top, "hide", actor=cast.moderator, reason="Please keep to the evidence.")
    db.session.commit()
    assert decided.flags_resolved == 2
    assert (top.status, top.status_reason, top.moderated_by_id) == (
        "hidden",
        "Please keep to the evidence.",
        cast.moderator.id,
    )
    assert top.moderated_at is not None
    flags = list(db.session.scalars(select(Flag).where(Flag.comment_id == top.id)))
    assert {(flag.resolution, flag.resolved_by_id) for flag in flags} == {("hidden", cast.moderator.id)}
    event = audit("comment.hide")[-1]
    assert (event.target_type, event.target_id, event.old_value) == ("comment", top.id, "visible")
    assert "Please keep to the evidence." in event.new_value
    decided_calls = [call for call in told if call["kind"] == "decided"]
    assert len(decided_calls) == 1
    call = decided_calls[0]
    assert call["recipient"].id == cast.author.id
    assert call["comment"].id == top.id
    assert call["actor"].id == cast.moderator.id
    assert "Please keep to the evidence." in call["message"]
    # Only moderators and the author read it now; the reply stays readable by everyone.
    assert can_read_comment(viewer_for(cast.author), top)
    assert can_read_comment(viewer_for(cast.moderator), top)
    assert not can_read_comment(viewer_for(cast.member), top)
    assert can_read_comment(viewer_for(cast.member), reply)
    assert reply.status == "visible"


def test_hiding_and_removing_need_a_reason(thread, cast, told) -> None:
    top, _ = thread
    for decision in ("hide", "remove"):
        with pytest.raises(ModerationError, match="Give a reason"):
            decide_comment(top, decision, actor=cast.moderator, reason="  ")
    assert top.status == "visible"
    assert not [call for call in told if call["kind"] == "decided"]


def test_removing_then_restoring_a_comment(thread, cast, told) -> None:
    top, _ = thread
    decide_comment(top, "remove", actor=cast.moderator, reason="Names a patient.")
    db.session.commit()
    assert top.status == "removed"
    assert not can_read_comment(viewer_for(cast.author), top)
    assert can_read_comment(viewer_for(cast.admin), top)
    raise_flag(top.entry, actor=cast.admin, reason="other", note="Was fine.", comment=top)
    decided = decide_comment(top, "restore", actor=cast.moderator)
    db.session.commit()
    assert (top.status, top.status_reason, decided.flags_resolved) == ("visible", None, 1)
    actions = [event.action for event in audit("comment.remove") + audit("comment.restore")]
    assert actions == ["comment.remove", "comment.restore"]
    assert [call["message"] for call in told if call["kind"] == "decided"][-1].startswith("A moderator restored")


def test_dismissing_leaves_the_comment_and_resolves_its_flags(thread, cast, told) -> None:
    top, _ = thread
    with pytest.raises(ModerationError, match="no open flags"):
        decide_comment(top, "dismiss", actor=cast.moderator)
    raise_flag(top.entry, actor=cast.member, reason="inaccurate", comment=top)
    decided = decide_comment(top, "dismiss", actor=cast.moderator)
    db.session.commit()
    assert top.status == "visible"
    assert decided.flags_resolved == 1
    assert db.session.scalar(select(Flag.resolution).where(Flag.comment_id == top.id)) == "dismissed"
    assert audit("flag.dismiss")[-1].target_id == top.id
    assert open_flag_count() == 0
    last = [call for call in told if call["kind"] == "decided"][-1]
    assert last["recipient"] == top.author
    assert "left it as it was" in last["message"]


def test_a_decision_that_does_not_fit_the_status_is_refused(thread, cast, told) -> None:
    top, _ = thread
    with pytest.raises(ModerationError, match="cannot be restored"):
        decide_comment(top, "restore", actor=cast.moderator)
    assert service.available_decisions(top.entry, top) == ["hide", "remove"]
    assert service.available_decisions(top.entry, top, flagged=True) == ["hide", "remove", "dismiss"]


def test_members_cannot_decide(thread, cast, told) -> None:
    top, _ = thread
    with pytest.raises(PermissionDeniedError):
        decide_comment(top, "hide", actor=cast.member, reason="No.")
    with pytest.raises(PermissionDeniedError):
        decide_entry(top.entry, "hide", actor=cast.author, reason="No.")


# --- Decisions on entries ------------------------------------------------------------------------


def test_hiding_an_entry_leaves_it_to_its_author_and_staff(lesson, cast, told) -> None:
    raise_flag(lesson, actor=cast.member, reason="inaccurate")
    revisions_before = current_revision(lesson).number
    decided = decide_entry(lesson, "hide", actor=cast.moderator, reason="The figures are disputed.")
    db.session.commit()
    assert decided.flags_resolved == 1
    assert (lesson.status, lesson.status_note) == ("hidden", "The figures are disputed.")
    revision = current_revision(lesson)
    assert revision.number == revisions_before + 1
    assert parse_document(revision.document, lesson.slug).document.status == "hidden"
    assert can_view_entry(viewer_for(cast.author), lesson)
    assert can_view_entry(viewer_for(cast.moderator), lesson)
    assert not can_view_entry(viewer_for(cast.member), lesson)
    assert not can_view_entry(None, lesson)
    assert audit("entry.hide")[-1].target_id == lesson.id
    call = [call for call in told if call["kind"] == "decided"][-1]
    assert call["recipient"].id == cast.author.id
    assert call["entry"].id == lesson.id
    assert call.get("comment") is None


def test_removing_an_entry_leaves_it_to_staff_and_restoring_publishes_it(lesson, cast, told) -> None:
    decide_entry(lesson, "remove", actor=cast.moderator, reason="Duplicate of another review's finding.")
    db.session.commit()
    assert lesson.status == "removed"
    assert not can_view_entry(viewer_for(cast.author), lesson)
    assert can_view_entry(viewer_for(cast.admin), lesson)
    decide_entry(lesson, "restore", actor=cast.moderator)
    db.session.commit()
    assert (lesson.status, lesson.status_note) == ("published", None)
    assert can_view_entry(None, lesson)
    assert [event.action for event in audit("entry.remove") + audit("entry.restore")] == [
        "entry.remove",
        "entry.restore",
    ]


def test_dismissing_an_entry_flag(lesson, cast, told) -> None:
    raise_flag(lesson, actor=cast.member, reason="inaccurate")
    decide_entry(lesson, "dismiss", actor=cast.moderator)
    db.session.commit()
    assert lesson.status == "published"
    assert flagged_item(lesson).flags == []
    assert audit("flag.dismiss")[-1].target_id == lesson.id
