"""Recurrence through the service and its queries: deciding pairs, who may, and who sees what is counted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from kb.actions.models import Recurrence
from kb.actions.recurrence import RecurrenceError, decide_recurrence, ordered_pair
from kb.actions.recurrence_queries import (
    confirmed_count,
    confirmed_recurrences,
    decisions_on,
    recurrence_section,
    timeline_order,
)
from kb.audit.models import AuditEvent
from kb.extensions import db
from kb.permissions import ANONYMOUS, PermissionDeniedError, viewer_for
from kb.search.service import similar_lessons_elsewhere
from tests.accounts import Cast
from tests.factories import lesson

ENGLAND = "providers-pressed-to-go-live-before-ready"
NORTH_WEST = "north-west-service-failed-within-hours"
BRISTOL = "bristol-gps-report-inappropriate-triage-responses"
MEMBERS_ONLY = "good-idea-badly-implemented"
DRAFT = "who-decides-a-service-is-ready-to-go-live"


def audit(prefix: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action.like(f"{prefix}%")).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def rows() -> list[tuple[int, int, str]]:
    return [
        tuple(row) for row in db.session.execute(select(Recurrence.first_id, Recurrence.second_id, Recurrence.decision))
    ]


# --- Deciding ------------------------------------------------------------------------------------


def test_ordered_pair_puts_the_lower_id_first() -> None:
    assert ordered_pair(7, 3) == (3, 7)
    assert ordered_pair(3, 7) == (3, 7)


def test_a_moderator_confirms_a_pair_stored_lower_id_first_and_audited(cast: Cast) -> None:
    high, low = sorted([lesson(ENGLAND), lesson(NORTH_WEST)], key=lambda item: -item.id)
    recurrence = decide_recurrence(high, low, "confirmed", actor=cast.moderator, note="  Same go-live pressure.  ")
    db.session.commit()
    assert (recurrence.first_id, recurrence.second_id) == (low.id, high.id)
    assert recurrence.note == "Same go-live pressure."
    assert recurrence.decided_by_id == cast.moderator.id
    [event] = audit("recurrence.")
    assert event.action == "recurrence.confirm"
    assert (event.old_value, event.new_value) == (None, "confirmed")
    assert event.target_type == "recurrence"
    assert event.target_id == recurrence.id
    assert event.target_label == f"{low.slug} and {high.slug}"


def test_deciding_the_pair_again_in_either_order_updates_the_one_decision(cast: Cast) -> None:
    one, other = lesson(ENGLAND), lesson(NORTH_WEST)
    first = decide_recurrence(one, other, "confirmed", actor=cast.moderator)
    db.session.commit()
    again = decide_recurrence(other, one, "rejected", actor=cast.admin, note="Different causes.")
    db.session.commit()
    assert again.id == first.id
    assert rows() == [(*ordered_pair(one.id, other.id), "rejected")]
    assert again.decided_by_id == cast.admin.id
    assert again.note == "Different causes."
    assert [(e.action, e.old_value, e.new_value) for e in audit("recurrence.")] == [
        ("recurrence.confirm", None, "confirmed"),
        ("recurrence.reject", "confirmed", "rejected"),
    ]


@pytest.mark.parametrize("role", ["member", "panel", "author"])
def test_only_staff_decide(cast: Cast, role: str) -> None:
    with pytest.raises(PermissionDeniedError):
        decide_recurrence(lesson(ENGLAND), lesson(NORTH_WEST), "confirmed", actor=getattr(cast, role))
    assert rows() == []
    assert audit("recurrence.") == []


@pytest.mark.parametrize(
    ("decision", "note", "other", "message"),
    [
        ("confirmed", "", ENGLAND, "cannot be a recurrence of itself"),
        ("maybe", "", NORTH_WEST, "Choose whether"),
        ("confirmed", "x" * 1_001, NORTH_WEST, "1,000 characters"),
    ],
)
def test_bad_decisions_are_refused_with_a_message(
    cast: Cast, decision: str, note: str, other: str, message: str
) -> None:
    with pytest.raises(RecurrenceError, match=message):
        decide_recurrence(lesson(ENGLAND), lesson(other), decision, actor=cast.moderator, note=note)
    assert rows() == []


# --- Who sees what -------------------------------------------------------------------------------


@dataclass
class Pairs:
    public: Recurrence
    members: Recurrence
    rejected: Recurrence


@pytest.fixture
def pairs(cast: Cast) -> Pairs:
    """England confirmed with North West (both public) and with a members-only lesson; rejected with Bristol."""
    england = lesson(ENGLAND)
    made = Pairs(
        public=decide_recurrence(england, lesson(NORTH_WEST), "confirmed", actor=cast.moderator),
        members=decide_recurrence(england, lesson(MEMBERS_ONLY), "confirmed", actor=cast.moderator),
        rejected=decide_recurrence(lesson(BRISTOL), england, "rejected", actor=cast.moderator),
    )
    db.session.commit()
    return made


def test_confirmed_recurrences_count_only_pairs_whose_both_lessons_are_visible(cast: Cast, pairs: Pairs) -> None:
    assert confirmed_count(ANONYMOUS) == 1
    assert [r.id for r in confirmed_recurrences(ANONYMOUS, 1, 10).items] == [pairs.public.id]
    member = viewer_for(cast.member)
    assert confirmed_count(member) == 2
    assert {r.id for r in confirmed_recurrences(member, 1, 10).items} == {pairs.public.id, pairs.members.id}


def test_a_draft_lesson_hides_its_pairs_from_everyone_but_staff(cast: Cast) -> None:
    decide_recurrence(lesson(DRAFT), lesson(ENGLAND), "confirmed", actor=cast.moderator)
    db.session.commit()
    assert confirmed_count(viewer_for(cast.member)) == 0
    assert confirmed_count(viewer_for(cast.moderator)) == 1
    assert decisions_on(viewer_for(cast.member), lesson(ENGLAND)) == []


def test_decisions_on_a_lesson_list_the_other_lesson_confirmed_first(cast: Cast, pairs: Pairs) -> None:
    member = [(item.lesson.slug, item.decision) for item in decisions_on(viewer_for(cast.member), lesson(ENGLAND))]
    assert member[:2] == sorted(member[:2])
    assert set(member) == {(NORTH_WEST, "confirmed"), (MEMBERS_ONLY, "confirmed"), (BRISTOL, "rejected")}
    assert member[-1] == (BRISTOL, "rejected")
    anonymous = [item.lesson.slug for item in decisions_on(ANONYMOUS, lesson(ENGLAND))]
    assert MEMBERS_ONLY not in anonymous


def test_the_section_lists_confirmed_first_and_hides_rejected_from_readers(cast: Cast, pairs: Pairs) -> None:
    england = lesson(ENGLAND)
    section = recurrence_section(viewer_for(cast.member), england)
    assert [item.lesson.slug for item in section.confirmed] == sorted(
        [NORTH_WEST, MEMBERS_ONLY], key=lambda slug: lesson(slug).title
    )
    assert section.shown[: section.confirmed_count] == section.confirmed
    assert section.confirmed_count == 2
    assert section.rejected == []
    suggested = {item.lesson.slug for item in section.similar}
    assert suggested.isdisjoint({NORTH_WEST, MEMBERS_ONLY, BRISTOL})
    assert all(item.decision is None for item in section.similar)
    assert section.count == 2 + len(section.similar)

    anonymous = recurrence_section(ANONYMOUS, england)
    assert [item.lesson.slug for item in anonymous.confirmed] == [NORTH_WEST]

    moderator = recurrence_section(viewer_for(cast.moderator), england)
    assert [item.lesson.slug for item in moderator.rejected] == [BRISTOL]
    assert lesson(BRISTOL).id in moderator.entry_ids


def test_the_section_suggests_what_the_search_index_finds_elsewhere(cast: Cast) -> None:
    england = lesson(ENGLAND)
    viewer = viewer_for(cast.member)
    expected = [other.id for other in similar_lessons_elsewhere(viewer, england)]
    section = recurrence_section(viewer, england)
    assert expected, "the seed has lessons like this one from other regions"
    assert [item.lesson.id for item in section.similar] == expected
    linked = expected[0]
    assert linked not in [item.lesson.id for item in recurrence_section(viewer, england, exclude=[linked]).similar]


def test_the_timeline_runs_from_the_oldest_event_with_the_lesson_marked(cast: Cast, pairs: Pairs) -> None:
    england = lesson(ENGLAND)
    north_west = lesson(NORTH_WEST)
    north_west.event_date = dt.date(2011, 3, 1)
    db.session.commit()
    section = recurrence_section(viewer_for(cast.member), england)
    timeline = section.timeline
    assert timeline[0].lesson.id == north_west.id
    assert timeline[0].confirmed
    assert [item.lesson.id for item in timeline if item.current] == [england.id]
    assert len(timeline) == section.count + 1


@dataclass
class Dated:
    id: int
    title: str
    event_date: dt.date | None


def test_timeline_order_puts_undated_last_and_breaks_ties_by_title() -> None:
    items = [
        Dated(1, "B", dt.date(2013, 5, 1)),
        Dated(2, "Undated", None),
        Dated(3, "A", dt.date(2013, 5, 1)),
        Dated(4, "Old", dt.date(2010, 1, 1)),
    ]
    assert [item.id for item in timeline_order(items)] == [4, 3, 1, 2]
