"""The action pages through the test client: who may open them, bad input kept, the lesson page, open actions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb.actions.rules import ActionState
from kb.actions.service import update_action
from kb.entries.models import Lesson
from kb.entries.service import current_revision
from kb.extensions import db
from tests.accounts import Cast, client_for, csrf_token, make_user, page_text
from tests.action_lessons import import_lessons, lesson_file
from tests.factories import reloaded_lesson
from tests.web.dom import main_of

OWNER = "Test out-of-hours provider"
PUBLIC_LESSON = "procurement-weighted-towards-cost"


@pytest.fixture
def lessons(cast: Cast, tmp_path: Path) -> dict[str, Lesson]:
    """A members' lesson and a panel-only lesson under the first review."""
    review = cast.review.slug
    return import_lessons(
        tmp_path / "extra",
        {
            "acted-on": lesson_file("acted-on", review=review),
            "panel-only": lesson_file("panel-only", review=review, visibility="panel"),
        },
    )


def action_path(slug: str) -> str:
    return f"/lessons/{slug}/action"


def post_action(client: FlaskClient, slug: str, **data: str):
    """Open the action form, then post it with `data` over what it held."""
    page = client.get(action_path(slug)).get_data(as_text=True)
    revision = current_revision(reloaded_lesson(slug))
    fields = {
        "csrf_token": csrf_token(page),
        "base_revision": str(revision.number),
        "status": reloaded_lesson(slug).action_status,
        "owner": "",
        "due": "",
        "evidence": "",
        "note": "",
        "message": "",
        **data,
    }
    return client.post(action_path(slug), data=fields)


@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 404), ("member", 404), ("other_panel", 404), ("author", 404)]
)
def test_the_action_form_is_for_the_panel_and_staff(
    seeded_app: Flask, cast: Cast, lessons: dict[str, Lesson], who: str, status: int
) -> None:
    client = client_for(seeded_app, None if who == "anonymous" else getattr(cast, who))
    assert client.get(action_path("acted-on")).status_code == status
    assert client.post(action_path("acted-on"), data={"status": "accepted"}).status_code in (400, 404)
    assert reloaded_lesson("acted-on").action_status == "identified"


@pytest.mark.parametrize("who", ["panel", "moderator"])
def test_the_panel_and_staff_open_the_form(seeded_app: Flask, cast: Cast, lessons: dict[str, Lesson], who: str) -> None:
    client = client_for(seeded_app, getattr(cast, who))
    response = client.get(action_path("panel-only"))
    assert response.status_code == 200
    text = page_text(response)
    assert "Action on the lesson" in text
    assert f'<option value="{OWNER}">' in text


def test_a_lesson_under_no_review_and_a_missing_one(seeded_app: Flask, cast: Cast) -> None:
    assert client_for(seeded_app, cast.panel).get(action_path(PUBLIC_LESSON)).status_code == 404
    assert client_for(seeded_app, cast.moderator).get(action_path(PUBLIC_LESSON)).status_code == 200
    assert client_for(seeded_app, cast.moderator).get(action_path("no-such-lesson")).status_code == 404
    review = cast.review.slug
    assert client_for(seeded_app, cast.moderator).get(action_path(review)).status_code == 404


def test_saving_the_action_shows_it_on_the_lesson(seeded_app: Flask, cast: Cast, lessons: dict[str, Lesson]) -> None:
    panel = client_for(seeded_app, cast.panel)
    response = post_action(
        panel,
        "acted-on",
        status="actioned",
        owner=OWNER,
        due="2027-03-31",
        evidence="We **rewrote** the checklist. <script>alert(1)</script> See [[acted-on]].",
        message="Reported at the March board.",
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/lessons/acted-on#lesson-action")
    saved = reloaded_lesson("acted-on")
    assert (saved.action_status, saved.action_owner, saved.action_due) == ("actioned", OWNER, dt.date(2027, 3, 31))
    page = panel.get("/lessons/acted-on")
    html = page.get_data(as_text=True)
    section = main_of(html)
    assert "Action on this lesson" in section.text()
    assert "<strong>rewrote</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "31 March 2027" in section.text()
    assert 'href="#lesson-action"' in html
    assert action_path("acted-on") in html
    member_html = client_for(seeded_app, cast.member).get("/lessons/acted-on").get_data(as_text=True)
    assert "<strong>rewrote</strong>" in member_html
    assert action_path("acted-on") not in member_html
    history = page_text(panel.get("/lessons/acted-on/history"))
    assert "Reported at the March board." in history


def test_refused_input_is_explained_and_kept(seeded_app: Flask, cast: Cast, lessons: dict[str, Lesson]) -> None:
    panel = client_for(seeded_app, cast.panel)
    response = post_action(panel, "acted-on", status="actioned", evidence="Typed evidence stays.", due="31/03/2027")
    assert response.status_code == 400
    text = page_text(response)
    assert "There is a problem" in text
    assert "Enter the due date as a real date" in text
    assert "Typed evidence stays." in text
    response = post_action(panel, "acted-on", status="actioned", evidence="Typed evidence stays.", due="2027-03-31")
    assert response.status_code == 400
    text = page_text(response)
    assert "Choose the organisation that owns the action" in text
    assert 'value="2027-03-31"' in text
    assert "Typed evidence stays." in text
    response = post_action(panel, "acted-on", status="accepted", owner="Made up organisation")
    assert response.status_code == 400
    assert "Choose one of the organisations listed." in page_text(response)
    response = post_action(panel, "acted-on", status="ripe")
    assert response.status_code == 400
    assert reloaded_lesson("acted-on").action_status == "identified"


def test_verifying_your_own_action_asks_why(seeded_app: Flask, cast: Cast, lessons: dict[str, Lesson]) -> None:
    panel = client_for(seeded_app, cast.panel)
    done = {"owner": OWNER, "due": "2027-03-31", "evidence": "Done."}
    assert post_action(panel, "acted-on", status="actioned", **done).status_code == 303
    refused = post_action(panel, "acted-on", status="verified", **done)
    assert refused.status_code == 400
    assert "someone else should verify it" in page_text(refused)
    second = client_for(seeded_app, make_user("second@example.org", panels=(cast.review,)))
    assert post_action(second, "acted-on", status="verified", **done).status_code == 303
    assert (reloaded_lesson("acted-on").action_status, reloaded_lesson("acted-on").maturity) == ("verified", "learned")


def test_a_save_from_an_old_revision_keeps_what_was_typed(
    seeded_app: Flask, cast: Cast, lessons: dict[str, Lesson]
) -> None:
    panel = client_for(seeded_app, cast.panel)
    page = panel.get(action_path("acted-on")).get_data(as_text=True)
    base = current_revision(reloaded_lesson("acted-on")).number
    update_action(reloaded_lesson("acted-on"), ActionState("accepted"), actor=cast.moderator)
    db.session.commit()
    data = {"csrf_token": csrf_token(page), "base_revision": str(base), "status": "not-accepted"}
    response = panel.post(action_path("acted-on"), data={**data, "note": "Typed reason stays."})
    assert response.status_code == 409
    text = page_text(response)
    assert "changed this lesson while you were editing" in text
    assert "Typed reason stays." in text
    assert f'value="{base + 1}"' in text
    assert reloaded_lesson("acted-on").action_status == "accepted"


def test_open_actions_page(seeded_app: Flask, cast: Cast, lessons: dict[str, Lesson]) -> None:
    update_action(
        reloaded_lesson("panel-only"), ActionState("action-planned", OWNER, dt.date(2020, 1, 31)), actor=cast.moderator
    )
    update_action(
        reloaded_lesson("acted-on"), ActionState("action-planned", OWNER, dt.date(2099, 1, 31)), actor=cast.moderator
    )
    db.session.commit()
    panel_page = page_text(client_for(seeded_app, cast.panel).get("/actions"))
    assert panel_page.index("Lesson panel only") < panel_page.index("Lesson acted on")
    assert "Overdue" in panel_page
    member_page = page_text(client_for(seeded_app, cast.member).get("/actions"))
    assert "Lesson acted on" in member_page
    assert "Lesson panel only" not in member_page
    anonymous_page = page_text(client_for(seeded_app).get("/actions"))
    assert "Lesson acted on" not in anonymous_page
    assert "Open actions" in anonymous_page
    filtered = page_text(client_for(seeded_app, cast.panel).get(f"/actions?owner={OWNER}&status=action-planned"))
    assert "Showing 1 to 2 of 2 open actions matching the filters." in filtered
    odd = client_for(seeded_app, cast.panel).get("/actions?owner=%3Cb%3E&status=zzz&page=999999999")
    assert odd.status_code == 200
    assert client_for(seeded_app, cast.panel).get("/actions?owner=%00").status_code == 400
    assert client_for(seeded_app, cast.panel).get("/actions?page=99999999999999999999").status_code == 400
