"""Reading recurrences: a lesson's similar lessons from elsewhere, its confirmed recurrences, and the list of pairs.

Only pairs whose two lessons the viewer may both see are shown or counted: every query
here keeps both ends to `permissions.visible_entries`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, union_all
from sqlalchemy.orm import selectinload

from kb.actions.models import Recurrence
from kb.entries.models import Entry, Lesson
from kb.extensions import db
from kb.pagination import Page, paginate
from kb.permissions import Viewer, can, listed_entries, visible_entries
from kb.search import service as search
from kb.states import EntryKind, RecurrenceDecision


class Dated(Protocol):
    """Anything placed on a timeline: an id, a title and perhaps an event date."""

    @property
    def id(self) -> int: ...  # noqa: D102

    @property
    def title(self) -> str: ...  # noqa: D102

    @property
    def event_date(self) -> dt.date | None: ...  # noqa: D102


DatedT = TypeVar("DatedT", bound=Dated)


@dataclass(frozen=True)
class SimilarLesson:
    """A lesson like the one shown, with a moderator's decision on the pair if there is one."""

    lesson: Lesson
    decision: str | None = None
    note: str = ""

    @property
    def confirmed(self) -> bool:
        """Whether a moderator confirmed the two as the same lesson again."""
        return self.decision == RecurrenceDecision.CONFIRMED


@dataclass(frozen=True)
class TimelineItem:
    """One lesson on a lesson's timeline; `current` marks the lesson whose page it is."""

    lesson: Lesson
    current: bool
    confirmed: bool


@dataclass
class RecurrenceSection:
    """What a lesson's page shows about the same problem seen elsewhere or at another time.

    `confirmed` are the pairs a moderator confirmed, `similar` the search index's
    undecided suggestions, `rejected` the pairs judged not the same (filled only for
    those who decide, so they can change their minds). `decided_ids` are the other lessons
    of every decided pair the viewer may see, rejected ones included for every viewer, so
    that no other list on the page offers a rejected lesson as related.
    """

    lesson: Lesson
    confirmed: list[SimilarLesson] = field(default_factory=list)
    similar: list[SimilarLesson] = field(default_factory=list)
    rejected: list[SimilarLesson] = field(default_factory=list)
    decided_ids: list[int] = field(default_factory=list)

    @property
    def shown(self) -> list[SimilarLesson]:
        """The lessons listed to every reader: confirmed recurrences first, then suggestions."""
        return [*self.confirmed, *self.similar]

    @property
    def count(self) -> int:
        """How many similar lessons are listed."""
        return len(self.shown)

    @property
    def confirmed_count(self) -> int:
        """How many confirmed recurrences of this lesson the viewer may see."""
        return len(self.confirmed)

    @property
    def entry_ids(self) -> list[int]:
        """The ids of every lesson listed in the section, in the order listed."""
        return [item.lesson.id for item in (*self.shown, *self.rejected)]

    @property
    def excluded_ids(self) -> list[int]:
        """The ids other lists on the page leave out: those listed here and every decided pair's other lesson."""
        return list(dict.fromkeys([*self.entry_ids, *self.decided_ids]))

    @property
    def timeline(self) -> list[TimelineItem]:
        """The lesson and those listed, oldest event first (undated last)."""
        confirmed = {item.lesson.id for item in self.confirmed}
        ordered = timeline_order([self.lesson, *(item.lesson for item in self.shown)])
        return [TimelineItem(lesson, lesson.id == self.lesson.id, lesson.id in confirmed) for lesson in ordered]

    def __bool__(self) -> bool:
        return bool(self.shown or self.rejected)


def timeline_order(lessons: Iterable[DatedT]) -> list[DatedT]:
    """Lessons by event date, oldest first; those without a date come last; ties by title then id."""
    return sorted(
        lessons, key=lambda item: (item.event_date is None, item.event_date or dt.date.min, item.title, item.id)
    )


def _visible_lesson_ids(viewer: Viewer | None) -> Select[int]:
    return select(Entry.id).where(Entry.kind == EntryKind.LESSON, listed_entries(viewer))


def visible_pairs(viewer: Viewer | None) -> ColumnElement[bool]:
    """SQL condition on `Recurrence`: pairs whose two lessons `viewer` may both see."""
    lessons = _visible_lesson_ids(viewer)
    return and_(Recurrence.first_id.in_(lessons), Recurrence.second_id.in_(lessons))


def visible_lesson(viewer: Viewer | None, slug: str) -> Lesson | None:
    """The lesson with this slug if `viewer` may see it, else None (shown as 404)."""
    return db.session.scalar(select(Lesson).where(Lesson.slug == slug, visible_entries(viewer)))


def decisions_on(viewer: Viewer | None, lesson: Lesson) -> list[SimilarLesson]:
    """Every decision on a pair that includes `lesson`, with the other lesson, if `viewer` may see it.

    One query; confirmed pairs first, then by the other lesson's title.
    """
    other_id = case((Recurrence.first_id == lesson.id, Recurrence.second_id), else_=Recurrence.first_id)
    rows = db.session.execute(
        select(Recurrence.decision, Recurrence.note, Lesson)
        .join(Lesson, Lesson.id == other_id)
        .where(or_(Recurrence.first_id == lesson.id, Recurrence.second_id == lesson.id), visible_entries(viewer))
        .order_by(Recurrence.decision != RecurrenceDecision.CONFIRMED, Lesson.title)
    ).all()
    return [SimilarLesson(other, decision, note) for decision, note, other in rows]


def recurrence_section(viewer: Viewer, lesson: Lesson, *, exclude: Sequence[int] = ()) -> RecurrenceSection:
    """The similar lessons a lesson's page lists: confirmed recurrences, then the index's suggestions.

    Suggestions are lessons from another region or year (`search.similar_lessons_elsewhere`),
    leaving out `exclude` (already linked on the page) and any pair already decided. Pairs
    judged not the same are listed only for those who may decide.
    """
    decided = decisions_on(viewer, lesson)
    decided_ids = [item.lesson.id for item in decided]
    suggestions = search.similar_lessons_elsewhere(viewer, lesson, exclude=[*exclude, *decided_ids])
    section = RecurrenceSection(
        lesson,
        confirmed=[item for item in decided if item.confirmed],
        similar=[SimilarLesson(other) for other in suggestions if isinstance(other, Lesson)],
        decided_ids=decided_ids,
    )
    if can(viewer, "recurrence.decide", lesson):
        section.rejected = [item for item in decided if not item.confirmed]
    return section


def confirmed_recurrences(viewer: Viewer | None, number: int, per_page: int) -> Page:
    """One page of confirmed recurrences whose two lessons `viewer` may see, most recently decided first."""
    query = (
        select(Recurrence)
        .where(Recurrence.decision == RecurrenceDecision.CONFIRMED, visible_pairs(viewer))
        .order_by(Recurrence.decided_at.desc(), Recurrence.id.desc())
        .options(selectinload(Recurrence.first), selectinload(Recurrence.second))
    )
    return paginate(query, number, per_page)


def confirmed_count(viewer: Viewer | None) -> int:
    """How many confirmed recurrences `viewer` may see (both lessons visible)."""
    query = select(func.count(Recurrence.id)).where(
        Recurrence.decision == RecurrenceDecision.CONFIRMED, visible_pairs(viewer)
    )
    return db.session.scalar(query) or 0


def most_recurring(viewer: Viewer | None, limit: int = 10) -> list[tuple[str, int]]:
    """The lessons with the most confirmed recurrences `viewer` may see, as (title, count), most first."""
    confirmed = and_(Recurrence.decision == RecurrenceDecision.CONFIRMED, visible_pairs(viewer))
    ends = union_all(
        select(Recurrence.first_id.label("lesson_id")).where(confirmed),
        select(Recurrence.second_id.label("lesson_id")).where(confirmed),
    ).subquery()
    count = func.count()
    query = (
        select(Entry.title, count)
        .join(ends, ends.c.lesson_id == Entry.id)
        .group_by(Entry.id, Entry.title)
        .order_by(count.desc(), Entry.title, Entry.id)
        .limit(limit)
    )
    return [(title, number) for title, number in db.session.execute(query).all()]
