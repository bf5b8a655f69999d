"""The dashboard page: charts with data tables, figures that depend on who is looking, a bounded number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event, select

from kb.actions.recurrence import decide_recurrence
from kb.entries.models import Lesson
from kb.extensions import db
from tests.accounts import Cast, client_for
from tests.web.dom import Node, main_of

CHART_IDS = (
    "chart-theme",
    "chart-region",
    "chart-year",
    "chart-action-status",
    "chart-action-overdue",
    "chart-consultations",
    "chart-recurring",
)


def figures(main: Node) -> dict[str, str]:
    """The "At a glance" figures: label to value."""
    rows = main.one("dl", cls="kb-dashboard-figures").find_all("div", cls="nhsuk-summary-list__row")
    return {row.one("dt").text(): row.find("dd").text() for row in rows}


def table_of(main: Node, chart_id: str) -> dict[str, str]:
    """The data table under one chart: row label to its number."""
    figure = main.one("figure", where=lambda e: e.attrs.get("aria-labelledby") == f"{chart_id}-caption")
    body = figure.one("tbody")
    return {row.one("th").text(): row.one("td").text() for row in body.find_all("tr")}


def test_everyone_sees_the_dashboard_with_a_table_for_every_chart(seeded_app: Flask) -> None:
    response = client_for(seeded_app).get("/dashboard")
    assert response.status_code == 200
    main = main_of(response.data)
    assert main.one("h1").text() == "Dashboard"
    drawn = {svg.attrs["aria-labelledby"].split()[0].removesuffix("-title") for svg in main.find_all("svg")}
    assert drawn == set(CHART_IDS) - {"chart-consultations", "chart-recurring"}
    for chart_id in ("chart-consultations", "chart-recurring"):  # the seed has neither
        empty = main.one(
            "figure", where=lambda e, chart_id=chart_id: e.attrs.get("aria-labelledby") == f"{chart_id}-caption"
        )
        assert "No data yet." in empty.text()
    for chart_id in drawn:
        assert table_of(main, chart_id)
    assert int(figures(main)["Published lessons"]) == sum(int(n) for n in table_of(main, "chart-region").values())


def test_members_count_more_than_anonymous_readers(seeded_app: Flask, cast: Cast) -> None:
    anonymous = figures(main_of(client_for(seeded_app).get("/dashboard").data))
    member = figures(main_of(client_for(seeded_app, cast.member).get("/dashboard").data))
    assert int(member["Published lessons"]) == int(anonymous["Published lessons"]) + 1


def test_confirmed_recurrences_appear_on_the_dashboard(seeded_app: Flask, cast: Cast) -> None:
    lessons = db.session.scalars(
        select(Lesson).where(Lesson.visibility == "public", Lesson.status == "published").order_by(Lesson.title)
    ).all()
    decide_recurrence(lessons[0], lessons[1], "confirmed", actor=cast.moderator)
    db.session.commit()
    main = main_of(client_for(seeded_app).get("/dashboard").data)
    assert figures(main)["Confirmed recurrences"] == "1"
    assert table_of(main, "chart-recurring") == {lessons[0].title: "1", lessons[1].title: "1"}
    links = [a.attrs["href"] for a in main.find_all("a")]
    assert "/recurrences" in links
    assert "/actions" in links
    assert "/consultations" in links


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


def test_the_page_takes_as_many_queries_with_more_to_count(seeded_app: Flask, cast: Cast) -> None:
    member = client_for(seeded_app, cast.member)
    member.get("/dashboard")
    with counted() as before:
        assert member.get("/dashboard").status_code == 200
    lessons = db.session.scalars(select(Lesson).where(Lesson.status == "published")).all()
    for other in lessons[1:6]:
        decide_recurrence(lessons[0], other, "confirmed", actor=cast.moderator)
        other.action_status = "accepted"
    db.session.commit()
    with counted() as after:
        assert member.get("/dashboard").status_code == 200
    assert len(after) == len(before)
