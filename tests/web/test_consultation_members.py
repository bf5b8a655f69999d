"""Members' pages of consultations: "Tell all members" on the set-up form, the receipt page, "Your work", the copy
of a finding's links, and linking a "we did" change to a theme's responses on the outcome editor."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from kb.consultations import outcome
from kb.consultations.models import Consultation
from kb.consultations.service import open_consultation, save_response
from kb.contributions.service import LessonFields, create_lesson
from kb.dates import utcnow
from kb.extensions import db
from kb.panels.service import FindingText, create_finding
from tests.accounts import Cast, client_for, make_user, page_text, post_form
from tests.factories import entry
from tests.outcome_factory import answer, text_answer
from tests.outcome_factory import make_consultation as closed_consultation
from tests.services.test_consultations import PANEL_PAPER, PUBLIC_PAPER, draft, ids, open_now
from tests.web.test_consultations import NEW_PUBLIC, setup_form

DAY = dt.timedelta(days=1)
SECTIONS = {name: f"Words for {name}." for name in ("driving_event", "lesson", "recommendation", "evidence")}
PUBLIC_LESSON = "bristol-gps-report-inappropriate-triage-responses"


def lesson_fields(title: str) -> LessonFields:
    return LessonFields(title=title, summary="Draft.", sections=SECTIONS, tags=[])


def test_the_set_up_form_stores_tell_all_members(seeded_app: Flask, cast: Cast):
    client = client_for(seeded_app, cast.moderator)
    assert "Tell all members when it opens" in page_text(client.get(NEW_PUBLIC))
    assert post_form(client, NEW_PUBLIC, setup_form(tell_all_members="y")).status_code == 303
    assert post_form(client, NEW_PUBLIC, setup_form(title="Quiet one")).status_code == 303
    stored = {c.title: c.tell_all_members for c in db.session.scalars(select(Consultation))}
    assert stored == {"Go-live readiness": True, "Quiet one": False}


def test_submitting_shows_the_receipt_page_with_every_answer(seeded_app: Flask, cast: Cast):
    consultation = open_now(entry(PUBLIC_PAPER))
    text, scale, _choice = ids(consultation)
    client = client_for(seeded_app, cast.member)
    page = f"/consultations/{consultation.id}"
    data = {f"answer-{text}": "Train the call handlers.", f"answer-{scale}": "agree", "action": "submit"}
    posted = post_form(client, f"{page}/answer", data, page=page)
    assert posted.status_code == 303
    assert posted.location.endswith(f"{page}/receipt")
    shown = client.get(f"{page}/receipt")
    assert shown.status_code == 200
    text_of = page_text(shown)
    assert "Your response has been submitted" in text_of
    assert "Train the call handlers." in text_of
    assert "Agree" in text_of
    assert "(not answered)" in text_of
    # Someone without a submitted response is sent to answer; a signed-out visitor to sign in.
    assert client_for(seeded_app, cast.author).get(f"{page}/receipt").location.endswith(f"{page}#your-response")
    assert "/login" in client_for(seeded_app).get(f"{page}/receipt").location
    hidden = open_now(entry(PANEL_PAPER), title="Panel questions")
    assert client.get(f"/consultations/{hidden.id}/receipt").status_code == 404


def test_your_work_lists_only_the_persons_own_things_that_they_may_read(seeded_app: Flask, cast: Cast):
    visible = open_now(entry(PUBLIC_PAPER), title="Readiness questions")
    other = open_now(entry(PUBLIC_PAPER), title="Second questions")
    hidden = open_now(entry(PANEL_PAPER), title="Panel questions")
    save_response(visible, {ids(visible)[0]: "My answer is here."}, actor=cast.member, submit=True)
    save_response(other, {ids(other)[0]: "Half an answer"}, actor=cast.member, submit=False)
    # A response to a consultation the member may not read (written as if their access had gone).
    answer_row = save_response(hidden, {ids(hidden)[0]: "Secret"}, actor=cast.other_panel, submit=True)
    answer_row.user_id = cast.member.id
    mine = create_lesson(lesson_fields("My unfinished lesson"), actor=cast.member)
    create_lesson(lesson_fields("Somebody else's lesson"), actor=cast.author)
    finding = create_finding(cast.review, FindingText("Finding of the panel", "Body.", ""), actor=cast.panel)
    db.session.commit()

    shown = client_for(seeded_app, cast.member).get("/account/work")
    assert shown.status_code == 200
    text = page_text(shown)
    assert "Readiness questions" in text
    assert "Your receipt" in text
    assert "My answer is here." in text
    assert "Second questions" in text
    assert "Draft saved" in text
    assert mine.title in text
    assert "Panel questions" not in text
    assert "Secret" not in text
    assert "Somebody else's lesson" not in text
    assert finding.title not in text

    panel_text = page_text(client_for(seeded_app, cast.panel).get("/account/work"))
    assert "Finding 1: Finding of the panel" in panel_text
    assert "You hold the pen" in panel_text
    assert "Readiness questions" not in panel_text
    assert mine.title not in panel_text
    assert client_for(seeded_app).get("/account/work").status_code == 302
    assert client_for(seeded_app, cast.member).get("/account/work/nothing").status_code == 404


def test_a_long_list_shows_five_and_a_page_with_all(seeded_app: Flask, cast: Cast):
    for number in range(7):
        create_lesson(lesson_fields(f"Lesson number {number}"), actor=cast.member)
    db.session.commit()
    client = client_for(seeded_app, cast.member)
    text = page_text(client.get("/account/work"))
    assert sum(f"Lesson number {n}" in text for n in range(7)) == 5
    assert "See all 7" in text
    full = page_text(client.get("/account/work/draft-lessons"))
    assert all(f"Lesson number {n}" in full for n in range(7))
    assert 'href="/account/work"' in client.get("/account").get_data(as_text=True)


def test_the_consultation_page_shows_a_findings_links_not_its_slugs(seeded_app: Flask, cast: Cast):
    review = cast.other_review
    body = f"As [[{PUBLIC_LESSON}]] shows."
    finding = create_finding(review, FindingText("Triage", body, ""), actor=cast.other_panel)
    db.session.commit()
    now = utcnow()
    consultation = open_consultation(
        review, draft(opens_at=now + DAY, closes_at=now + 3 * DAY, finding_ids=(finding.id,)), actor=cast.other_panel
    )
    db.session.commit()
    html = client_for(seeded_app, cast.member).get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert f"[[{PUBLIC_LESSON}]]" not in html
    assert f'href="/lessons/{PUBLIC_LESSON}"' in html


def test_the_outcome_editor_links_a_themes_responses_in_one_step(seeded_app: Flask, cast: Cast):
    consultation = closed_consultation(cast.other_review)
    responses = [answer(consultation, make_user(f"r{n}@example.org"), text=f"Answer {n}") for n in range(3)]
    for response in responses[:2]:
        outcome.tag_answer(text_answer(response), "Staffing", actor=cast.other_panel)
    db.session.commit()
    client = client_for(seeded_app, cast.other_panel)
    edit = f"/consultations/{consultation.id}/outcome/edit"
    assert "Staffing (2 responses)" in page_text(client.get(edit))
    data = {"we_asked": "Q", "you_said": "A", "changes-0-we_did": "We added staff.", "changes-0-theme": "Staffing"}
    assert post_form(client, edit, {**data, "then": "save"}).status_code == 303
    linked = {response.id for response in outcome.changes_of(consultation)[0].responses}
    assert linked == {responses[0].id, responses[1].id}
    refused = post_form(client, edit, {**data, "changes-0-theme": "Not a theme", "then": "save"})
    assert refused.status_code == 400
