"""The dashboard's figures: what each viewer may see, counted the same way as the pages they summarise."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from kb.actions.recurrence import decide_recurrence
from kb.consultations.models import Consultation
from kb.dashboard.queries import NO_REGION, NO_YEAR, consultation_counts, dashboard
from kb.entries.models import Entry, Lesson, Paper
from kb.extensions import db
from kb.permissions import ANONYMOUS, Viewer, can_view_entry, viewer_for
from tests.accounts import Cast
from tests.factories import lesson

NOW = dt.datetime(2026, 10, 25, 12, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 10, 25)
MEMBERS_ONLY = "good-idea-badly-implemented"
ENGLAND = "providers-pressed-to-go-live-before-ready"
NORTH_WEST = "north-west-service-failed-within-hours"
BRISTOL = "bristol-gps-report-inappropriate-triage-responses"


def readable_lessons(viewer: Viewer) -> list[Lesson]:
    """The published lessons `viewer` may read, by the one-entry predicate rather than SQL."""
    lessons = db.session.scalars(select(Lesson)).all()
    return [item for item in lessons if item.status == "published" and can_view_entry(viewer, item)]


def rows(chart) -> dict[str, int]:
    return {label: values[0] for label, values in chart.rows}


def viewers(cast: Cast) -> dict[str, Viewer]:
    return {
        "anonymous": ANONYMOUS,
        "member": viewer_for(cast.member),
        "panel": viewer_for(cast.panel),
        "moderator": viewer_for(cast.moderator),
    }


@pytest.mark.parametrize("who", ["anonymous", "member", "panel", "moderator"])
def test_lessons_by_theme_region_and_year_count_what_the_viewer_may_read(cast: Cast, who: str) -> None:
    viewer = viewers(cast)[who]
    lessons = readable_lessons(viewer)
    board = dashboard(viewer, now=NOW, today=TODAY).lessons
    assert board.total == len(lessons)
    assert rows(board.by_region) == Counter(item.region or NO_REGION for item in lessons)
    years = Counter(str(item.event_date.year) if item.event_date else NO_YEAR for item in lessons)
    assert rows(board.by_year) == years
    assert list(rows(board.by_year)) == sorted(years)
    themes: Counter[str] = Counter()
    for item in lessons:
        themes.update({tag.theme.label for tag in item.tags if tag.theme is not None})
    assert {label: count for label, count in rows(board.by_theme).items() if count} == themes


def test_a_members_only_lesson_is_counted_for_members_alone(cast: Cast) -> None:
    anonymous = dashboard(ANONYMOUS, now=NOW, today=TODAY).lessons
    member = dashboard(viewer_for(cast.member), now=NOW, today=TODAY).lessons
    assert member.total == anonymous.total + 1
    region = lesson(MEMBERS_ONLY).region
    assert rows(member.by_region)[region] == rows(anonymous.by_region)[region] + 1


def test_undated_and_unplaced_lessons_are_counted_last(cast: Cast) -> None:
    undated = lesson(ENGLAND)
    undated.event_date, undated.event_date_precision, undated.region = None, None, None
    db.session.commit()
    board = dashboard(ANONYMOUS, now=NOW, today=TODAY).lessons
    assert list(rows(board.by_year))[-1] == NO_YEAR
    assert rows(board.by_year)[NO_YEAR] == 1
    assert list(rows(board.by_region))[-1] == NO_REGION


def test_open_and_overdue_actions_by_status(cast: Cast) -> None:
    before = dashboard(ANONYMOUS, now=NOW, today=TODAY).actions.counts
    late = lesson(ENGLAND)
    late.action_status, late.action_due = "action-planned", TODAY - dt.timedelta(days=1)
    on_time = lesson(NORTH_WEST)
    on_time.action_status, on_time.action_due = "action-planned", TODAY
    done = lesson(BRISTOL)
    done.action_status = "verified"
    hidden = lesson(MEMBERS_ONLY)
    hidden.action_status, hidden.action_due = "accepted", TODAY - dt.timedelta(days=30)
    db.session.commit()
    anonymous = dashboard(ANONYMOUS, now=NOW, today=TODAY).actions
    assert anonymous.counts.total == before.total - 1
    assert anonymous.counts.overdue == 1
    assert rows(anonymous.by_status)["Action planned"] == 2
    assert rows(anonymous.overdue) == {"Overdue": 1, "Not overdue": anonymous.counts.total - 1}
    member = dashboard(viewer_for(cast.member), now=NOW, today=TODAY).actions
    assert member.counts.overdue == 2
    assert rows(member.by_status)["Accepted"] == 1


def _consult(entry: Entry, opens: dt.datetime, closes: dt.datetime) -> Consultation:
    consultation = Consultation(entry_id=entry.id, title=f"On {entry.title}", opens_at=opens, closes_at=closes)
    db.session.add(consultation)
    return consultation


def test_consultations_open_and_closed_follow_the_consulted_entry(cast: Cast) -> None:
    public = db.session.scalars(select(Paper).where(Paper.visibility == "public", Paper.status == "published")).first()
    panel = db.session.scalars(select(Paper).where(Paper.visibility == "panel", Paper.status == "published")).first()
    assert public is not None
    assert panel is not None
    hour = dt.timedelta(hours=1)
    _consult(public, NOW + hour, NOW + 2 * hour)  # not open yet
    _consult(public, NOW, NOW + hour)  # opens at this instant
    _consult(public, NOW - hour, NOW)  # closes at this instant
    _consult(public, NOW - 2 * hour, NOW - hour)
    _consult(panel, NOW - hour, NOW + hour)
    db.session.commit()
    assert consultation_counts(ANONYMOUS, NOW) == {"upcoming": 1, "open": 1, "closed": 2}
    seat = viewer_for(cast.panel if panel.review_id == cast.review.id else cast.other_panel)
    assert consultation_counts(seat, NOW) == {"upcoming": 1, "open": 2, "closed": 2}
    assert consultation_counts(ANONYMOUS, NOW - dt.timedelta(microseconds=1)) == {"upcoming": 2, "open": 1, "closed": 1}
    chart = dashboard(ANONYMOUS, now=NOW, today=TODAY).consultations
    assert rows(chart.by_state) == {"Not open yet": 1, "Open": 1, "Closed": 2}
    assert chart.total == 4


def test_confirmed_recurrences_count_only_pairs_the_viewer_may_see(cast: Cast) -> None:
    england = lesson(ENGLAND)
    decide_recurrence(england, lesson(NORTH_WEST), "confirmed", actor=cast.moderator)
    decide_recurrence(england, lesson(MEMBERS_ONLY), "confirmed", actor=cast.moderator)
    decide_recurrence(england, lesson(BRISTOL), "rejected", actor=cast.moderator)
    db.session.commit()
    anonymous = dashboard(ANONYMOUS, now=NOW, today=TODAY).recurrences
    assert anonymous.confirmed == 1
    assert rows(anonymous.most_recurring) == {england.title: 1, lesson(NORTH_WEST).title: 1}
    member = dashboard(viewer_for(cast.member), now=NOW, today=TODAY).recurrences
    assert member.confirmed == 2
    assert member.most_recurring.rows[0] == (england.title, (2,))


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_the_dashboard_takes_the_same_few_queries_however_much_there_is(cast: Cast) -> None:
    viewer = viewer_for(cast.member)
    db.session.expire_all()
    with counted() as small:
        dashboard(viewer, now=NOW, today=TODAY)
    lessons = db.session.scalars(select(Lesson).where(Lesson.status == "published")).all()
    paper = db.session.scalars(select(Paper)).first()
    assert paper is not None
    for index, other in enumerate(lessons[1:6]):
        decide_recurrence(lessons[0], other, "confirmed", actor=cast.moderator)
        _consult(paper, NOW + dt.timedelta(days=index - 3), NOW + dt.timedelta(days=index - 1))
        other.action_status, other.action_due = "action-planned", TODAY - dt.timedelta(days=index)
    db.session.commit()
    db.session.expire_all()
    with counted() as large:
        dashboard(viewer, now=NOW, today=TODAY)
    assert len(large) == len(small)
    assert len(large) <= 8
