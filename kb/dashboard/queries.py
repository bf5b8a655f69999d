"""The dashboard's figures: each counts only what the viewer may see, in a fixed number of queries.

Lessons are counted once they are published and the viewer may read them; open actions
come from `kb.actions.queries` (the open actions page's own count), consultation states
from `kb.consultations.windows`, recurrences from `kb.actions.recurrence_queries`.
Eight queries in all, however much there is.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, extract, func, select

from kb.actions import queries as action_queries
from kb.actions import recurrence_queries, rules
from kb.actions.queries import ActionCounts
from kb.charts import BarChart, chart_from_counts
from kb.consultations.models import Consultation
from kb.consultations.windows import STATES, state_at
from kb.dates import utcnow
from kb.entries.models import Entry, entry_tags
from kb.extensions import db
from kb.permissions import Viewer, visible_consultations, visible_entries
from kb.states import EntryKind, EntryStatus
from kb.taxonomy.models import Tag, Theme

NO_REGION = "Region not given"
NO_YEAR = "Date not known"
MOST_RECURRING = 10


@dataclass(frozen=True)
class LessonCharts:
    """Published lessons the viewer may read: how many, and by theme, region and year."""

    total: int
    by_theme: BarChart
    by_region: BarChart
    by_year: BarChart


@dataclass(frozen=True)
class ActionCharts:
    """Open actions on those lessons, by status, and how many of them are overdue."""

    counts: ActionCounts
    by_status: BarChart
    overdue: BarChart


@dataclass(frozen=True)
class ConsultationCharts:
    """Consultations the viewer may read, by whether they are open, not open yet or closed."""

    counts: dict[str, int]
    by_state: BarChart

    @property
    def total(self) -> int:
        """Every consultation counted."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class RecurrenceCharts:
    """Confirmed recurrences whose two lessons the viewer may see, and the lessons most often learned again."""

    confirmed: int
    most_recurring: BarChart


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page shows."""

    lessons: LessonCharts
    actions: ActionCharts
    consultations: ConsultationCharts
    recurrences: RecurrenceCharts


def _readable_lessons(viewer: Viewer | None) -> ColumnElement[bool]:
    return and_(Entry.kind == EntryKind.LESSON, Entry.status == EntryStatus.PUBLISHED, visible_entries(viewer))


def lessons_by_theme(viewer: Viewer | None) -> list[tuple[str, int]]:
    """Every theme, in its set order, with how many readable lessons carry one of its tags (one query)."""
    lesson_ids = select(Entry.id).where(_readable_lessons(viewer))
    query = (
        select(Theme.label, func.count(func.distinct(entry_tags.c.entry_id)))
        .select_from(Theme)
        .outerjoin(Tag, Tag.theme_id == Theme.id)
        .outerjoin(entry_tags, and_(entry_tags.c.tag_id == Tag.id, entry_tags.c.entry_id.in_(lesson_ids)))
        .group_by(Theme.id, Theme.label, Theme.position)
        .order_by(Theme.position, Theme.label)
    )
    return [(label, count) for label, count in db.session.execute(query).all()]


def lessons_by_region(viewer: Viewer | None) -> list[tuple[str, int]]:
    """Readable lessons per region, the most first; those with no region last (one query)."""
    rows = db.session.execute(
        select(Entry.region, func.count()).where(_readable_lessons(viewer)).group_by(Entry.region)
    ).all()
    named = sorted(((region, count) for region, count in rows if region), key=lambda row: (-row[1], row[0]))
    missing = sum(count for region, count in rows if not region)
    return [*named, *([(NO_REGION, missing)] if missing else [])]


def lessons_by_year(viewer: Viewer | None) -> list[tuple[str, int]]:
    """Readable lessons per year of their event, oldest first; those with no date last (one query)."""
    year = extract("year", Entry.event_date)
    rows = db.session.execute(select(year, func.count()).where(_readable_lessons(viewer)).group_by(year)).all()
    dated = sorted((int(value), count) for value, count in rows if value is not None)
    missing = sum(count for value, count in rows if value is None)
    return [*((str(value), count) for value, count in dated), *([(NO_YEAR, missing)] if missing else [])]


def consultation_counts(viewer: Viewer | None, now: dt.datetime) -> dict[str, int]:
    """Consultations `viewer` may read by state at `now`, in the order of `windows.STATES` (one query)."""
    rows = db.session.execute(
        select(Consultation.opens_at, Consultation.closes_at).where(visible_consultations(viewer))
    ).all()
    states = Counter(state_at(opens_at, closes_at, now) for opens_at, closes_at in rows)
    return {state: states[state] for state in STATES}


def _lesson_charts(viewer: Viewer | None) -> LessonCharts:
    regions = lessons_by_region(viewer)
    return LessonCharts(
        total=sum(count for _, count in regions),
        by_theme=chart_from_counts("Lessons by theme", lessons_by_theme(viewer), unit="lessons"),
        by_region=chart_from_counts("Lessons by region", regions, unit="lessons"),
        by_year=chart_from_counts("Lessons by year of the event", lessons_by_year(viewer), unit="lessons"),
    )


def _action_charts(viewer: Viewer | None, today: dt.date) -> ActionCharts:
    counts = action_queries.open_action_counts(viewer, today=today)
    by_status = [(rules.label(status), counts.by_status.get(status, 0)) for status in rules.OPEN_STATUSES]
    overdue = [("Overdue", counts.overdue), ("Not overdue", counts.total - counts.overdue)]
    return ActionCharts(
        counts=counts,
        by_status=chart_from_counts("Open actions by status", by_status, unit="actions"),
        overdue=chart_from_counts("Open actions overdue", overdue, unit="actions"),
    )


def dashboard(viewer: Viewer | None, *, now: dt.datetime | None = None, today: dt.date | None = None) -> Dashboard:
    """The dashboard as `viewer` sees it at `now` (UTC; default the present), overdue judged on `today` (London)."""
    now = now or utcnow()
    consultations = consultation_counts(viewer, now)
    by_state = [(STATES[state], count) for state, count in consultations.items()]
    return Dashboard(
        lessons=_lesson_charts(viewer),
        actions=_action_charts(viewer, today or action_queries.london_today()),
        consultations=ConsultationCharts(
            consultations, chart_from_counts("Consultations by state", by_state, unit="consultations")
        ),
        recurrences=RecurrenceCharts(
            confirmed=recurrence_queries.confirmed_count(viewer),
            most_recurring=chart_from_counts(
                "Lessons most often learned again",
                recurrence_queries.most_recurring(viewer, MOST_RECURRING),
                unit="confirmed recurrences",
            ),
        ),
    )
