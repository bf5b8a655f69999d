"""Recurrence pages: a lesson's timeline of similar lessons elsewhere, a moderator's decision, and the list of pairs."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from flask import Flask
from sqlalchemy import select

from kb.actions.models import Recurrence
from kb.actions.recurrence import decide_recurrence
from kb.entries import related
from kb.entries.models import Entry, Lesson
from kb.extensions import db
from kb.permissions import Viewer
from tests.accounts import Cast, client_for, csrf_token, page_text
from tests.factories import reloaded_lesson
from tests.web.dom import Node, main_of

ENGLAND = "providers-pressed-to-go-live-before-ready"
NORTH_WEST = "north-west-service-failed-within-hours"
BRISTOL = "bristol-gps-report-inappropriate-triage-responses"
MEMBERS_ONLY = "good-idea-badly-implemented"
DECIDE = f"/lessons/{ENGLAND}/recurrences/{NORTH_WEST}"


def section_of(html: str | bytes) -> Node | None:
    """The recurrence part of a lesson page's related entries, if it has one."""
    return main_of(html).find("div", cls="kb-recurrence")


def items_of(section: Node) -> list[Node]:
    """The other lessons' items on the timeline, oldest first."""
    timeline = section.one("ol", cls="kb-recurrence__list")
    return [item for item in timeline.find_all("li") if "kb-timeline__item--current" not in item.attrs.get("class", "")]


def listed(section: Node) -> list[str]:
    """The lesson paths on the section's timeline (this lesson left out), in order."""
    return [a.attrs["href"] for item in items_of(section) for a in item.find_all("a")[:1]]


def item_for(section: Node, slug: str) -> Node:
    """The timeline item of the lesson `slug`."""
    return next(item for item in items_of(section) if item.find_all("a")[0].attrs["href"] == f"/lessons/{slug}")


def confirm(cast: Cast, one: str, other: str, decision: str = "confirmed") -> None:
    decide_recurrence(reloaded_lesson(one), reloaded_lesson(other), decision, actor=cast.moderator)
    db.session.commit()


# --- On the lesson page ---------------------------------------------------------------------------


def test_a_lesson_page_lists_similar_lessons_elsewhere_with_a_count_and_timeline(seeded_app: Flask) -> None:
    section = section_of(client_for(seeded_app).get(f"/lessons/{ENGLAND}").data)
    assert section is not None
    assert section.one("h3").text() == "The same problem in another region or year"
    paths = listed(section)
    assert paths
    assert f"/lessons/{ENGLAND}" not in paths
    lessons = "1 lesson" if len(paths) == 1 else f"{len(paths)} lessons"
    assert f"{lessons} from elsewhere or another time" in section.text()
    assert len(section.find_all("ol")) == 1, "the timeline is the list: no second list repeats it"
    timeline = section.one("ol", cls="kb-timeline")
    items = timeline.find_all("li")
    assert len(items) == len(paths) + 1
    assert len(timeline.find_all("li", cls="kb-timeline__item--current")) == 1
    assert all(item.find("time") is not None for item in items)
    assert "Decide" not in section.text()


def test_a_confirmed_recurrence_is_marked_and_counted_on_both_lessons(seeded_app: Flask, cast: Cast) -> None:
    confirm(cast, ENGLAND, BRISTOL)
    reader = client_for(seeded_app)
    for here, there in ((ENGLAND, BRISTOL), (BRISTOL, ENGLAND)):
        section = section_of(reader.get(f"/lessons/{here}").data)
        assert section is not None
        assert item_for(section, there).find("strong", cls="nhsuk-tag") is not None
        assert len(section.find_all("strong", cls="nhsuk-tag")) == 1
        assert "confirmed as the same lesson again 1 time" in section.text()


def test_a_pair_with_a_lesson_the_reader_may_not_see_is_neither_shown_nor_counted(
    seeded_app: Flask, cast: Cast
) -> None:
    confirm(cast, ENGLAND, MEMBERS_ONLY)
    anonymous = page_text(client_for(seeded_app).get(f"/lessons/{ENGLAND}"))
    assert f"/lessons/{MEMBERS_ONLY}" not in anonymous
    assert "confirmed as the same lesson again" not in anonymous
    member = section_of(client_for(seeded_app, cast.member).get(f"/lessons/{ENGLAND}").data)
    assert member is not None
    assert item_for(member, MEMBERS_ONLY).find("strong", cls="nhsuk-tag") is not None
    assert "confirmed as the same lesson again 1 time" in member.text()


def test_a_rejected_pair_is_shown_only_to_moderators(seeded_app: Flask, cast: Cast) -> None:
    confirm(cast, ENGLAND, BRISTOL, "rejected")
    reader = section_of(client_for(seeded_app, cast.member).get(f"/lessons/{ENGLAND}").data)
    assert reader is not None
    assert f"/lessons/{BRISTOL}" not in listed(reader)
    assert "Judged not the same lesson" not in reader.text()
    moderator = section_of(client_for(seeded_app, cast.moderator).get(f"/lessons/{ENGLAND}").data)
    assert moderator is not None
    assert "Judged not the same lesson" in moderator.text()
    assert f"/lessons/{ENGLAND}/recurrences/{BRISTOL}" in [a.attrs["href"] for a in moderator.find_all("a")]


def test_a_lesson_judged_not_the_same_is_not_offered_to_readers_as_similar(
    seeded_app: Flask, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    confirm(cast, ENGLAND, BRISTOL, "rejected")
    bristol = reloaded_lesson(BRISTOL).id
    left_out: list[list[int]] = []
    real_related = related.search.related

    def recording(viewer: Viewer, entry: Entry, *, limit: int = 5, exclude: Iterable[int] = ()) -> list[Entry]:
        left_out.append(list(exclude))
        return real_related(viewer, entry, limit=limit, exclude=exclude)

    monkeypatch.setattr(related.search, "related", recording)
    for viewer in (None, cast.member, cast.moderator):
        page = main_of(client_for(seeded_app, viewer).get(f"/lessons/{ENGLAND}").data)
        similar = page.find("ul", cls="kb-related__similar")
        assert similar is None or f"/lessons/{BRISTOL}" not in [a.attrs["href"] for a in similar.find_all("a")]
        assert bristol in left_out[-1]


def test_moderators_get_a_decide_link_for_each_similar_lesson(seeded_app: Flask, cast: Cast) -> None:
    section = section_of(client_for(seeded_app, cast.moderator).get(f"/lessons/{ENGLAND}").data)
    assert section is not None
    hrefs = [a.attrs["href"] for a in section.find_all("a", cls="kb-recurrence__decide")]
    assert hrefs == [f"/lessons/{ENGLAND}/recurrences/{path.rsplit('/', 1)[1]}" for path in listed(section)]


def test_a_confirmed_recurrence_the_lesson_also_links_to_is_listed_once_saying_both(
    seeded_app: Flask, cast: Cast
) -> None:
    linked = "clinical-leaders-need-to-say-no"
    confirm(cast, ENGLAND, linked)
    main = main_of(client_for(seeded_app).get(f"/lessons/{ENGLAND}").data)
    related = main.one("section", cls="kb-related")
    assert [href for href in related.hrefs() if href == f"/lessons/{linked}"] == [f"/lessons/{linked}"]
    item = item_for(related.one("div", cls="kb-recurrence"), linked)
    assert "Same lesson again" in item.text()
    assert "see also" in item.text()


def test_reviews_and_papers_have_no_recurrence_section(seeded_app: Flask, cast: Cast) -> None:
    assert section_of(client_for(seeded_app).get(f"/reviews/{cast.review.slug}").data) is None


# --- Deciding ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "member", "panel", "author"])
def test_only_moderators_reach_the_decision_page(seeded_app: Flask, cast: Cast, role: str | None) -> None:
    client = client_for(seeded_app, getattr(cast, role) if role else None)
    assert client.get(DECIDE).status_code == 404
    page = client.get(f"/lessons/{ENGLAND}").get_data(as_text=True)
    token = csrf_token(page) if 'name="csrf_token"' in page else ""
    assert client.post(DECIDE, data={"csrf_token": token, "decision": "confirmed"}).status_code == (
        404 if role else 400
    )
    assert db.session.scalar(select(Recurrence.id)) is None


@pytest.mark.parametrize(
    "path",
    [
        f"/lessons/{ENGLAND}/recurrences/{ENGLAND}",
        f"/lessons/{ENGLAND}/recurrences/no-such-lesson",
        f"/lessons/no-such-lesson/recurrences/{ENGLAND}",
        f"/lessons/{ENGLAND}/recurrences/nhs-111-programme-lessons-review",
    ],
)
def test_a_pair_that_is_not_two_lessons_answers_404(seeded_app: Flask, cast: Cast, path: str) -> None:
    assert client_for(seeded_app, cast.moderator).get(path).status_code == 404


def test_a_moderator_compares_and_confirms_then_changes_their_mind(seeded_app: Flask, cast: Cast) -> None:
    moderator = client_for(seeded_app, cast.moderator)
    page = moderator.get(DECIDE)
    assert page.status_code == 200
    text = page_text(page)
    assert reloaded_lesson(ENGLAND).title in text
    assert reloaded_lesson(NORTH_WEST).title in text
    token = csrf_token(page.get_data(as_text=True))
    done = moderator.post(DECIDE, data={"csrf_token": token, "decision": "confirmed", "note": "Same pressure."})
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/lessons/{ENGLAND}#recurrence-heading")
    [pair] = db.session.scalars(select(Recurrence)).all()
    assert (pair.decision, pair.note) == ("confirmed", "Same pressure.")
    shown = page_text(moderator.get(f"/lessons/{ENGLAND}"))
    assert "are the same lesson again" in shown

    again = moderator.get(DECIDE)
    assert main_of(again.data).one("input", where=lambda e: "checked" in e.attrs).attrs["value"] == "confirmed"
    assert "Same pressure." in page_text(again)
    moderator.post(DECIDE, data={"csrf_token": token, "decision": "rejected", "note": ""})
    db.session.expire_all()
    assert [(p.decision, p.note) for p in db.session.scalars(select(Recurrence))] == [("rejected", "")]


def test_a_bad_decision_comes_back_with_a_message_and_the_note_kept(seeded_app: Flask, cast: Cast) -> None:
    moderator = client_for(seeded_app, cast.moderator)
    token = csrf_token(moderator.get(DECIDE).get_data(as_text=True))
    typed = "They share a cause & a <date>."
    response = moderator.post(DECIDE, data={"csrf_token": token, "note": typed})
    assert response.status_code == 400
    text = page_text(response)
    assert "There is a problem" in text
    assert "Choose whether the two are the same lesson again." in text
    assert typed in text
    wrong = moderator.post(DECIDE, data={"csrf_token": token, "decision": "perhaps", "note": typed})
    assert wrong.status_code == 400
    assert typed in page_text(wrong)
    too_long = moderator.post(DECIDE, data={"csrf_token": token, "decision": "confirmed", "note": "x" * 1_001})
    assert too_long.status_code == 400
    assert "1,000 characters or fewer" in page_text(too_long)
    assert db.session.scalar(select(Recurrence.id)) is None


def test_a_decision_without_the_form_token_is_refused(seeded_app: Flask, cast: Cast) -> None:
    response = client_for(seeded_app, cast.moderator).post(DECIDE, data={"decision": "confirmed"})
    assert response.status_code == 400
    assert db.session.scalar(select(Recurrence.id)) is None


# --- The list of pairs ---------------------------------------------------------------------------


def test_the_list_shows_confirmed_pairs_each_reader_may_see(seeded_app: Flask, cast: Cast) -> None:
    empty = page_text(client_for(seeded_app).get("/recurrences"))
    assert "No recurrences have been confirmed yet" in empty
    confirm(cast, ENGLAND, NORTH_WEST)
    confirm(cast, ENGLAND, MEMBERS_ONLY)
    confirm(cast, ENGLAND, BRISTOL, "rejected")
    anonymous = main_of(client_for(seeded_app).get("/recurrences").data)
    hrefs = [a.attrs["href"] for a in anonymous.find_all("a")]
    assert f"/lessons/{NORTH_WEST}" in hrefs
    assert f"/lessons/{MEMBERS_ONLY}" not in hrefs
    assert f"/lessons/{BRISTOL}" not in hrefs
    assert "1 confirmed recurrence." in anonymous.text()
    member = main_of(client_for(seeded_app, cast.member).get("/recurrences").data)
    assert "2 confirmed recurrences." in member.text()
    assert len(member.one("tbody").find_all("tr")) == 2


def test_the_list_pages_through_many_pairs(seeded_app: Flask, cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kb.actions.routes.RECURRENCES_PER_PAGE", 5)
    lessons = list(
        db.session.scalars(select(Lesson).where(Lesson.visibility == "public", Lesson.status == "published"))
    )
    first = lessons[0]
    for other in lessons[1:8]:
        decide_recurrence(first, other, "confirmed", actor=cast.moderator)
    db.session.commit()
    reader = client_for(seeded_app)
    one = main_of(reader.get("/recurrences").data)
    assert len(one.one("tbody").find_all("tr")) == 5
    assert "7 confirmed recurrences, page 1 of 2." in one.text()
    two = main_of(reader.get("/recurrences?page=2").data)
    assert len(two.one("tbody").find_all("tr")) == 2
    assert reader.get("/recurrences?page=999999999").status_code == 200
    assert reader.get("/recurrences?page=999999999999").status_code == 400


def test_two_moderators_deciding_a_new_pair_at_once_never_errors(
    seeded_app: Flask, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    moderator = client_for(seeded_app, cast.moderator)
    token = csrf_token(moderator.get(DECIDE).get_data(as_text=True))
    confirm(cast, ENGLAND, NORTH_WEST)  # the other moderator saves first
    monkeypatch.setattr("kb.actions.recurrence.find_recurrence", lambda lesson, other: None)
    response = moderator.post(DECIDE, data={"csrf_token": token, "decision": "rejected", "note": "Kept"})
    assert response.status_code == 400
    text = page_text(response)
    assert "Another moderator decided on these two lessons at the same moment" in text
    assert "Kept" in text
    assert [pair.decision for pair in db.session.scalars(select(Recurrence))] == ["confirmed"]
