"""Consultation pages: visibility, the set-up form's bad input, answering in the window, and the calendar file."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from sqlalchemy import select

from kb.consultations.models import Consultation, Response
from kb.dates import utcnow
from kb.entries.models import Lesson
from kb.extensions import db
from kb.panels.models import Finding
from tests.accounts import Cast, client_for, csrf_token, page_text, post_form
from tests.services.test_consultations import PANEL_PAPER, PUBLIC_PAPER, entry, ids, make_consultation, open_now

DAY = dt.timedelta(days=1)
NEW_PUBLIC = f"/consultations/new?entry={PUBLIC_PAPER}"


def setup_form(**changes: str) -> dict[str, str]:
    data = {
        "title": "Go-live readiness",
        "introduction": "We would like to hear from you.",
        "opens_date": "2030-03-01",
        "opens_time": "09:00",
        "closes_date": "2030-04-01",
        "closes_time": "17:00",
        "questions-0-kind": "text",
        "questions-0-prompt": "What would you change?",
        "questions-1-kind": "scale",
        "questions-1-prompt": "The finding is fair.",
        "questions-1-required": "y",
        "questions-2-kind": "choice",
        "questions-2-prompt": "Which comes first?",
        "questions-2-options": "Training\nStaffing\n",
        "action": "save",
    }
    data.update(changes)
    return data


# --- Who sees what -------------------------------------------------------------------------------


def test_a_panel_papers_consultation_is_seen_only_by_those_who_see_the_paper(seeded_app: Flask, cast: Cast):
    hidden = open_now(entry(PANEL_PAPER), title="Panel paper questions")
    open_now(entry(PUBLIC_PAPER), title="Public paper questions")
    for person, sees in [
        (None, False),
        (cast.member, False),
        (cast.panel, False),
        (cast.other_panel, True),
        (cast.moderator, True),
    ]:
        client = client_for(seeded_app, person)
        listing = page_text(client.get("/consultations"))
        assert "Public paper questions" in listing
        assert ("Panel paper questions" in listing) is sees, person
        expected = 200 if sees else 404
        assert client.get(f"/consultations/{hidden.id}").status_code == expected, person
        assert client.get(f"/consultations/{hidden.id}/closing.ics").status_code == expected, person
        edit = client.get(f"/consultations/{hidden.id}/edit")
        assert edit.status_code == (200 if sees else 302 if person is None else 404), person
        if sees:
            assert "has opened, so it can no longer be changed" in page_text(edit)
        if person is not None and not sees:
            # Without a form token the post is kept as the poster's draft of the page, which answers 404.
            answer = f"/consultations/{hidden.id}/answer"
            posted = client.post(answer, data={"action": "submit"}, follow_redirects=True)
            assert posted.status_code == 404, person


def test_the_entry_page_lists_its_consultations_and_offers_the_panel_a_new_one(seeded_app: Flask, cast: Cast):
    consultation = open_now(entry(PUBLIC_PAPER), title="Readiness questions")
    paper_path = entry(PUBLIC_PAPER).path
    anonymous = page_text(client_for(seeded_app).get(paper_path))
    assert "Readiness questions" in anonymous
    assert f"/consultations/{consultation.id}" in anonymous
    assert "Consult members on this" not in anonymous
    moderator = page_text(client_for(seeded_app, cast.moderator).get(paper_path))
    assert f"/consultations/new?entry={PUBLIC_PAPER}" in moderator
    lesson = db.session.scalar(select(Lesson).where(Lesson.status == "published"))
    assert lesson is not None
    lesson_page = page_text(client_for(seeded_app, cast.moderator).get(lesson.path))
    assert 'id="consultations-heading"' not in lesson_page


def test_only_those_who_manage_the_entry_open_the_form(seeded_app: Flask, cast: Cast):
    assert client_for(seeded_app).get(NEW_PUBLIC).status_code == 302
    assert client_for(seeded_app, cast.member).get(NEW_PUBLIC).status_code == 403
    assert client_for(seeded_app, cast.panel).get(f"/consultations/new?entry={PANEL_PAPER}").status_code == 404
    assert client_for(seeded_app, cast.other_panel).get(f"/consultations/new?entry={PANEL_PAPER}").status_code == 200
    assert client_for(seeded_app, cast.moderator).get("/consultations/new?entry=no-such-entry").status_code == 404


# --- Setting one up ------------------------------------------------------------------------------


def test_setting_up_stores_utc_and_shows_london_time(seeded_app: Flask, cast: Cast):
    client = client_for(seeded_app, cast.moderator)
    response = post_form(client, NEW_PUBLIC, setup_form())
    assert response.status_code == 303
    consultation = db.session.scalar(select(Consultation).where(Consultation.title == "Go-live readiness"))
    assert consultation is not None
    assert response.location.endswith(f"/consultations/{consultation.id}")
    # 1 March is GMT, 1 April BST: 17:00 in London is 16:00 UTC.
    assert consultation.opens_at.replace(tzinfo=dt.UTC) == dt.datetime(2030, 3, 1, 9, tzinfo=dt.UTC)
    assert consultation.closes_at.replace(tzinfo=dt.UTC) == dt.datetime(2030, 4, 1, 16, tzinfo=dt.UTC)
    assert [(q.kind, q.required, q.options) for q in consultation.questions] == [
        ("text", False, []),
        ("scale", True, []),
        ("choice", False, ["Training", "Staffing"]),
    ]
    shown = page_text(client.get(f"/consultations/{consultation.id}"))
    assert "from 1 March 2030, 09:00 to 1 April 2030, 17:00 (London time)" in shown
    assert "Not open yet" in shown
    assert "Change the consultation" in shown


def test_a_time_that_does_not_exist_in_london_is_refused_and_the_form_kept(seeded_app: Flask, cast: Cast):
    client = client_for(seeded_app, cast.moderator)
    response = post_form(client, NEW_PUBLIC, setup_form(closes_date="2030-03-31", closes_time="01:30"))
    text = page_text(response)
    assert response.status_code == 400
    assert "01:30 on 31 March 2030 does not exist in London: the clocks go forward" in text
    assert 'value="Go-live readiness"' in text
    assert "Training\nStaffing" in text
    assert db.session.scalar(select(Consultation.id)) is None

    repeated = page_text(post_form(client, NEW_PUBLIC, setup_form(closes_date="2030-10-27", closes_time="01:15")))
    assert "happens twice in London: the clocks go back" in repeated


def test_half_filled_question_blocks_and_bad_dates_are_named(seeded_app: Flask, cast: Cast):
    client = client_for(seeded_app, cast.moderator)
    response = post_form(
        client,
        NEW_PUBLIC,
        setup_form(
            **{"questions-2-options": "Only one", "questions-0-prompt": "", "questions-0-hint": "A hint alone"},
            opens_date="1 March",
        ),
    )
    text = page_text(response)
    assert response.status_code == 400
    assert "Question 1: Write the question, or clear this block to leave it out." in text
    assert "Question 3: Give 2 to 12 different options, one a line." in text
    assert "Enter the date as year-month-day" in text
    assert 'href="#questions-2-options"' in text


def test_add_another_question_keeps_what_was_typed(seeded_app: Flask, cast: Cast):
    client = client_for(seeded_app, cast.moderator)
    response = post_form(client, NEW_PUBLIC, setup_form(action="add-question"))
    text = page_text(response)
    assert response.status_code == 200
    assert "Question 4" in text
    assert 'id="questions-3-prompt"' in text
    assert "What would you change?" in text
    assert db.session.scalar(select(Consultation.id)) is None


def test_an_expired_form_token_keeps_the_text(seeded_app: Flask, cast: Cast):
    client = client_for(seeded_app, cast.moderator)
    response = client.post(NEW_PUBLIC, data={**setup_form(), "csrf_token": "stale"}, follow_redirects=True)
    assert response.status_code == 200
    assert "This form expired" in page_text(response)
    assert 'value="Go-live readiness"' in page_text(response)


def test_changes_are_taken_until_it_opens(seeded_app: Flask, cast: Cast):
    client = client_for(seeded_app, cast.moderator)
    post_form(client, NEW_PUBLIC, setup_form())
    consultation = db.session.scalar(select(Consultation))
    assert consultation is not None
    edit = f"/consultations/{consultation.id}/edit"
    form_page = page_text(client.get(edit))
    assert 'value="2030-04-01"' in form_page
    assert 'value="17:00"' in form_page
    assert post_form(client, edit, setup_form(title="Renamed")).status_code == 303
    db.session.expire_all()
    assert db.session.get(Consultation, consultation.id).title == "Renamed"  # type: ignore[union-attr]

    token = csrf_token(client.get(edit).get_data(as_text=True))
    consultation.opens_at = utcnow() - DAY
    db.session.commit()
    refused = client.post(edit, data={**setup_form(title="Too late"), "csrf_token": token})
    assert refused.status_code == 409
    assert "has opened, so it can no longer be changed" in page_text(refused)
    assert "has opened" in page_text(client.get(edit))


# --- Answering -----------------------------------------------------------------------------------


def test_a_member_saves_a_draft_submits_and_sees_it_read_only_after_the_close(seeded_app: Flask, cast: Cast):
    consultation = open_now(entry(PUBLIC_PAPER))
    text, scale, choice = ids(consultation)
    page = f"/consultations/{consultation.id}"
    client = client_for(seeded_app, cast.member)
    answer = f"{page}/answer"

    saved = post_form(client, answer, {f"answer-{scale}": "agree", "action": "draft"}, page=page)
    assert saved.status_code == 303
    shown = page_text(client.get(page))
    assert "You have a draft saved" in shown
    assert re.search(rf'id="answer-{scale}-2"[^>]*value="agree" checked', shown)

    missing = post_form(client, answer, {f"answer-{choice}": "Staffing", "action": "submit"}, page=page)
    assert missing.status_code == 400
    assert "Question 1: this question needs an answer before you submit." in page_text(missing)
    assert re.search(r'value="Staffing" checked', page_text(missing))

    submitted = post_form(
        client, answer, {f"answer-{text}": "Train first.", f"answer-{scale}": "agree", "action": "submit"}, page=page
    )
    assert submitted.status_code == 303
    shown = page_text(client.get(page))
    assert "You submitted your response" in shown
    assert "Save changes to your response" in shown
    assert db.session.scalar(select(Response.status)) == "submitted"

    consultation.closes_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    closed = page_text(client.get(page))
    assert "Closed" in closed
    assert "Your response, submitted on" in closed
    assert "Train first." in closed
    assert "Agree" in closed
    assert "<textarea" not in closed


def test_an_answer_sent_after_the_close_is_refused_with_the_text_kept(seeded_app: Flask, cast: Cast):
    consultation = open_now(entry(PUBLIC_PAPER))
    text = ids(consultation)[0]
    page = f"/consultations/{consultation.id}"
    client = client_for(seeded_app, cast.member)
    token = csrf_token(client.get(page).get_data(as_text=True))
    consultation.closes_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    late = client.post(
        f"{page}/answer", data={"csrf_token": token, f"answer-{text}": "My long considered answer.", "action": "submit"}
    )
    assert late.status_code == 409
    shown = page_text(late)
    assert "answers can no longer be saved or changed" in shown
    assert "What you typed (not saved)" in shown
    assert "My long considered answer." in shown
    assert db.session.scalar(select(Response.id)) is None


def test_signed_out_readers_are_asked_to_sign_in_and_cannot_post(seeded_app: Flask):
    consultation = open_now(entry(PUBLIC_PAPER))
    client = client_for(seeded_app)
    shown = page_text(client.get(f"/consultations/{consultation.id}"))
    assert "Sign in to answer" in shown
    assert "<textarea" not in shown
    posted = client.post(f"/consultations/{consultation.id}/answer", data={"action": "submit"})
    assert posted.status_code == 303
    assert posted.headers["Location"].startswith("/login?next=")
    assert db.session.scalar(select(Response.id)) is None


def test_the_closing_date_calendar_file(seeded_app: Flask):
    consultation = make_consultation(
        entry(PUBLIC_PAPER),
        opens_at=utcnow() - DAY,
        closes_at=dt.datetime(2030, 7, 1, 16, tzinfo=dt.UTC),
        title="Summer, questions; and more",
    )
    response = client_for(seeded_app).get(f"/consultations/{consultation.id}/closing.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True).replace("\r\n ", "")
    assert "DTSTART:20300701T160000Z" in body
    assert f"UID:consultation-{consultation.id}-closing@127.0.0.1" in body
    assert "SUMMARY:Consultation closes: Summer\\, questions\\; and more" in body


def test_the_panel_puts_chosen_findings_of_its_review_to_members(seeded_app: Flask, cast: Cast):
    review = cast.review
    chosen = Finding(review_id=review.id, number=1, title="Go-live came first", body="The **date** drove it.")
    left = Finding(review_id=review.id, number=2, title="Not this one", body="Left out.")
    db.session.add_all([chosen, left])
    db.session.commit()
    new = f"/consultations/new?entry={review.slug}"
    client = client_for(seeded_app, cast.panel)
    form = page_text(client.get(new))
    assert "Finding 1: Go-live came first" in form
    assert "Finding 2: Not this one" in form
    assert client_for(seeded_app, cast.member).get(new).status_code == 403

    response = post_form(client, new, {**setup_form(), "findings": str(chosen.id)})
    assert response.status_code == 303
    shown = page_text(client_for(seeded_app, cast.member).get(response.location))
    assert "Finding 1: Go-live came first" in shown
    assert "<strong>date</strong>" in shown
    assert "Not this one" not in shown
