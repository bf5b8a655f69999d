"""Consultations as services: who opens one, findings snapshots, answering in the window, and reminders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from kb.audit.models import AuditEvent
from kb.consultations import queries
from kb.consultations.models import Consultation, Question, Response
from kb.consultations.reminders import send_reminders
from kb.consultations.service import (
    AnswerProblemsError,
    ConsultationDraft,
    ConsultationError,
    QuestionDraft,
    WindowClosedError,
    open_consultation,
    save_response,
    update_consultation,
)
from kb.dates import london_time, utcnow
from kb.entries.models import Entry
from kb.extensions import db
from kb.mail import send_pending
from kb.notifications import service as notifications
from kb.panels.models import Finding
from kb.permissions import PermissionDeniedError, can_view_consultation, viewer_for, visible_consultations
from kb.users.models import User
from tests.accounts import Cast, make_cast, make_user, organisation
from tests.conftest import _in_context, make_app
from tests.factories import entry
from tests.smtp import Mailbox, free_port, mail_settings, smtp_server

PUBLIC_PAPER = "nhs-alliance-discussion-paper"
PANEL_PAPER = "lessons-review-panel-evidence-to-gather"
"""A panel-only paper of the programme lessons review, whose panel is `cast.other_panel`."""
SITE = "https://kb.example.org"
DAY = dt.timedelta(days=1)


def questions() -> list[Question]:
    return [
        Question(position=0, kind="text", prompt="What should change?", required=True),
        Question(position=1, kind="scale", prompt="The finding is fair."),
        Question(position=2, kind="choice", prompt="Which comes first?", options=["Training", "Staffing"]),
    ]


def make_consultation(
    on: Entry, *, opens_at: dt.datetime, closes_at: dt.datetime, title: str = "Readiness questions"
) -> Consultation:
    """A consultation written straight through the models and committed; one already open counts as announced."""
    consultation = Consultation(entry=on, title=title, introduction="Tell us.", opens_at=opens_at, closes_at=closes_at)
    if opens_at <= utcnow():
        consultation.opening_told_at = opens_at
    consultation.questions = questions()
    db.session.add(consultation)
    db.session.commit()
    return consultation


def open_now(on: Entry, **kwargs: object) -> Consultation:
    now = utcnow()
    return make_consultation(on, opens_at=now - DAY, closes_at=now + 5 * DAY, **kwargs)  # type: ignore[arg-type]


def draft(**changes: object) -> ConsultationDraft:
    now = utcnow()
    values: dict[str, object] = {
        "title": "Draft findings",
        "introduction": "What do you think?",
        "opens_at": now + DAY,
        "closes_at": now + 10 * DAY,
        "questions": (QuestionDraft("text", "Anything else?"), QuestionDraft("choice", "Pick", options=("A", "B"))),
    }
    values.update(changes)
    return ConsultationDraft(**values)  # type: ignore[arg-type]


def ids(consultation: Consultation) -> list[int]:
    return [question.id for question in consultation.questions]


# --- Opening -------------------------------------------------------------------------------------


def test_staff_and_the_papers_own_panel_open_consultations_others_may_not(cast: Cast):
    paper = entry(PANEL_PAPER)
    for refused in (cast.member, cast.panel):
        with pytest.raises(PermissionDeniedError):
            open_consultation(paper, draft(), actor=refused)
    by_panel = open_consultation(paper, draft(title="By the panel"), actor=cast.other_panel)
    by_moderator = open_consultation(entry(PUBLIC_PAPER), draft(), actor=cast.moderator)
    db.session.commit()
    assert by_panel.created_by_id == cast.other_panel.id
    assert [question.kind for question in by_panel.questions] == ["text", "choice"]
    assert by_panel.questions[1].options == ["A", "B"]
    assert by_moderator.entry.slug == PUBLIC_PAPER
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "consultation.open")).all()
    assert sorted(event.target_label for event in events) == ["By the panel", "Draft findings"]


def test_lessons_cannot_be_consulted_on_and_bad_drafts_are_refused(cast: Cast):
    lesson = db.session.scalar(select(Entry).where(Entry.kind == "lesson", Entry.status == "published"))
    assert lesson is not None
    with pytest.raises(ConsultationError, match="meeting paper or a review"):
        open_consultation(lesson, draft(), actor=cast.moderator)
    paper = entry(PUBLIC_PAPER)
    now = utcnow()
    for bad, message in [
        (draft(questions=()), "at least one question"),
        (draft(questions=(QuestionDraft("choice", "Pick", options=("Only",)),)), "2 to 12 different options"),
        (draft(closes_at=now + DAY, opens_at=now + 2 * DAY), "after the opening"),
        (draft(opens_at=now - 3 * DAY, closes_at=now - DAY), "already passed"),
        (draft(title=" "), "title"),
    ]:
        with pytest.raises(ConsultationError, match=message):
            open_consultation(paper, bad, actor=cast.moderator)


def test_a_reviews_findings_are_put_to_members_as_they_stood(cast: Cast):
    review = cast.review
    finding = Finding(review_id=review.id, number=1, title="Go-live was rushed", body="The date came first.")
    other = Finding(review_id=cast.other_review.id, number=1, title="Someone else's", body="Not this review.")
    db.session.add_all([finding, other])
    db.session.commit()
    assert [item.id for item in queries.findings_to_offer(viewer_for(cast.panel), review)] == [finding.id]
    assert queries.findings_to_offer(viewer_for(cast.member), review) == []

    with pytest.raises(ConsultationError, match="findings of this review"):
        open_consultation(review, draft(finding_ids=(other.id,)), actor=cast.panel)
    db.session.rollback()
    consultation = open_consultation(review, draft(finding_ids=(finding.id,)), actor=cast.panel)
    db.session.commit()
    finding.body = "Rewritten after the consultation opened."
    db.session.commit()
    (snapshot,) = consultation.consulted_findings
    assert (snapshot.number, snapshot.title, snapshot.body) == (1, "Go-live was rushed", "The date came first.")


def test_a_consultation_changes_until_it_opens_and_then_no_more(cast: Cast):
    paper = entry(PUBLIC_PAPER)
    consultation = open_consultation(paper, draft(), actor=cast.moderator)
    db.session.commit()
    update_consultation(
        consultation, draft(title="Renamed", questions=(QuestionDraft("scale", "Fair?"),)), actor=cast.moderator
    )
    db.session.commit()
    assert consultation.title == "Renamed"
    assert [question.kind for question in consultation.questions] == ["scale"]
    with pytest.raises(PermissionDeniedError):
        update_consultation(consultation, draft(), actor=cast.member)
    consultation.opens_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(WindowClosedError, match="has opened"):
        update_consultation(consultation, draft(title="Too late"), actor=cast.moderator)


# --- Visibility ----------------------------------------------------------------------------------


def test_visibility_follows_the_consulted_entry_in_sql_and_in_python(cast: Cast):
    panel_only = open_now(entry(PANEL_PAPER), title="Panel only")
    public = open_now(entry(PUBLIC_PAPER), title="Public")
    for person, expected in [
        (None, {"Public"}),
        (cast.member, {"Public"}),
        (cast.panel, {"Public"}),
        (cast.other_panel, {"Public", "Panel only"}),
        (cast.moderator, {"Public", "Panel only"}),
    ]:
        viewer = viewer_for(person)
        listed = {item.title for item in db.session.scalars(select(Consultation).where(visible_consultations(viewer)))}
        assert listed == expected, person
        assert {item.title for item in (panel_only, public) if can_view_consultation(viewer, item)} == expected
    with pytest.raises(PermissionDeniedError):
        save_response(panel_only, {}, actor=cast.member, submit=False)


# --- Answering -----------------------------------------------------------------------------------


def test_a_member_saves_a_draft_then_submits_one_response(cast: Cast):
    consultation = open_now(entry(PUBLIC_PAPER))
    text, scale, choice = ids(consultation)
    first = save_response(consultation, {scale: "agree"}, actor=cast.member, submit=False)
    db.session.commit()
    assert (first.status, first.submitted_at, first.organisation_name) == ("draft", None, "")

    with pytest.raises(AnswerProblemsError) as problems:
        save_response(consultation, {scale: "agree"}, actor=cast.member, submit=True)
    assert problems.value.problems == {text: "Question 1: this question needs an answer before you submit."}
    db.session.rollback()

    cast.member.organisation = organisation("Devon out-of-hours service", "out-of-hours-provider")
    db.session.commit()
    second = save_response(
        consultation,
        {text: " Train call handlers first. ", scale: "agree", choice: "Training"},
        actor=cast.member,
        submit=True,
    )
    db.session.commit()
    assert second.id == first.id
    assert (second.status, second.organisation_name, second.organisation_type, second.region) == (
        "submitted",
        "Devon out-of-hours service",
        "out-of-hours-provider",
        "South West",
    )
    assert second.submitted_at is not None
    assert {answer.question_id: (answer.text, answer.choice) for answer in second.answers} == {
        text: ("Train call handlers first.", None),
        scale: ("", "agree"),
        choice: ("", "Training"),
    }
    assert (
        db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "response.submit")) == "response.submit"
    )


def test_a_submitted_response_is_edited_and_stays_submitted(cast: Cast):
    consultation = open_now(entry(PUBLIC_PAPER))
    text, scale, _ = ids(consultation)
    save_response(consultation, {text: "First thoughts."}, actor=cast.member, submit=True)
    db.session.commit()
    edited = save_response(consultation, {text: "Second thoughts.", scale: ""}, actor=cast.member, submit=False)
    db.session.commit()
    assert edited.status == "submitted"
    assert [answer.text for answer in edited.answers] == ["Second thoughts."]
    assert (
        db.session.scalar(
            select(Response.id).where(Response.consultation_id == consultation.id).order_by(Response.id.desc())
        )
        == edited.id
    )


def test_answers_outside_the_options_or_too_long_are_named(cast: Cast):
    consultation = open_now(entry(PUBLIC_PAPER))
    text, scale, choice = ids(consultation)
    with pytest.raises(AnswerProblemsError) as problems:
        save_response(
            consultation, {text: "x" * 10_001, scale: "sort of", choice: "Neither"}, actor=cast.member, submit=False
        )
    assert set(problems.value.problems) == {text, scale, choice}
    assert "10,000 characters or fewer" in problems.value.problems[text]
    assert "choose one of the options" in problems.value.problems[scale]


def test_answers_are_taken_from_the_opening_instant_until_just_before_the_close(cast: Cast):
    opens_at = dt.datetime(2026, 10, 24, 11, tzinfo=dt.UTC)
    closes_at = dt.datetime(2026, 10, 25, 3, tzinfo=dt.UTC)
    consultation = make_consultation(entry(PUBLIC_PAPER), opens_at=opens_at, closes_at=closes_at)
    text = ids(consultation)[0]
    tick = dt.timedelta(microseconds=1)
    with pytest.raises(WindowClosedError, match="opens at"):
        save_response(consultation, {text: "early"}, actor=cast.member, submit=False, now=opens_at - tick)
    save_response(consultation, {text: "at the opening"}, actor=cast.member, submit=False, now=opens_at)
    save_response(consultation, {text: "last moment"}, actor=cast.member, submit=True, now=closes_at - tick)
    db.session.commit()
    with pytest.raises(WindowClosedError, match="closed at 25 October 2026, 03:00"):
        save_response(consultation, {text: "too late"}, actor=cast.member, submit=True, now=closes_at)
    db.session.rollback()
    response = queries.response_of(consultation, cast.member.id)
    assert response is not None
    assert [answer.text for answer in response.answers] == ["last moment"]


def test_consultations_are_grouped_by_state(cast: Cast):
    now = utcnow()
    paper = entry(PUBLIC_PAPER)
    make_consultation(paper, opens_at=now + DAY, closes_at=now + 2 * DAY, title="Later")
    make_consultation(paper, opens_at=now - DAY, closes_at=now + DAY, title="Now")
    make_consultation(paper, opens_at=now - 3 * DAY, closes_at=now - DAY, title="Before")
    groups = queries.consultations_by_state(viewer_for(None), now)
    assert {state: [item.title for item in items] for state, items in groups.items()} == {
        "open": ["Now"],
        "upcoming": ["Later"],
        "closed": ["Before"],
    }
    context = queries.entry_consultations(viewer_for(None), paper)
    assert [state for _, state in context["entry_consultations"]] == ["upcoming", "open", "closed"]
    assert context["can_open_consultation"] is False


# --- Reminders -----------------------------------------------------------------------------------


@pytest.fixture
def mailbox_app(tmp_path: Path, seeded_database: Path) -> Iterator[tuple[Flask, Mailbox]]:
    """A seeded app whose mail goes to a real SMTP server on loopback."""
    with smtp_server() as (mailbox, port):
        application = make_app(tmp_path, seeded_database, SITE_URL=SITE, **mail_settings(port))
        for ready in _in_context(application):
            yield ready, mailbox


def following(target: Entry, *people: User, as_type: str = "entry") -> None:
    for person in people:
        notifications.follow(person, as_type, target.id)
    db.session.commit()


def run_cli(application: Flask) -> str:
    result = application.test_cli_runner().invoke(args=["consult", "send-reminders"])
    assert result.exit_code == 0, result.output
    return result.output


def recipients_of(messages: Sequence[object]) -> list[str]:
    return sorted(message["To"] for message in messages)  # type: ignore[index]


def test_followers_who_have_not_submitted_are_reminded_once(mailbox_app: tuple[Flask, Mailbox]):
    application, mailbox = mailbox_app
    cast = make_cast()
    now = utcnow()
    paper = entry(PUBLIC_PAPER)
    closing = make_consultation(paper, opens_at=now - 5 * DAY, closes_at=now + DAY + dt.timedelta(hours=23))
    not_yet = make_consultation(paper, opens_at=now - DAY, closes_at=now + 3 * DAY, title="Not due yet")
    drafter, submitter, quiet = (make_user(f"{name}@example.org") for name in ("drafter", "submitter", "quiet"))
    following(paper, drafter, submitter, quiet, cast.member)
    notifications.update_settings(quiet, {"digest": False})
    text = ids(closing)[0]
    save_response(closing, {text: "Half done"}, actor=drafter, submit=False)
    save_response(closing, {text: "Done"}, actor=submitter, submit=True)
    db.session.commit()
    assert recipients_of(mailbox.wait_for(1)) == [submitter.email]  # the submitter's receipt
    mailbox.messages.clear()

    output = run_cli(application)
    messages = mailbox.wait_for(2)
    assert recipients_of(messages) == sorted([cast.member.email, drafter.email])
    assert "Sent 2 reminders for 1 consultation (1 with mail about what they follow turned off)." in output
    assert f"consultation {closing.id} “Readiness questions”: 2 of 3 followers reminded" in output
    body = messages[0].get_body(preferencelist=("plain",)).get_content()
    assert messages[0]["Subject"] == f"Closes {london_time(closing.closes_at)}: Readiness questions"
    assert f"{SITE}/consultations/{closing.id}" in body
    assert f"{SITE}/unsubscribe/" in body
    assert "closes on" in body
    assert "(London time)" in body

    assert "Sent 0 reminders for 0 consultations." in run_cli(application)
    assert len(mailbox.messages) == 2
    db.session.expire_all()
    assert db.session.get(Consultation, closing.id).reminder_sent_at is not None  # type: ignore[union-attr]
    assert db.session.get(Consultation, not_yet.id).reminder_sent_at is None  # type: ignore[union-attr]


def test_review_followers_who_may_see_a_panel_paper_are_reminded_and_no_one_else(mailbox_app: tuple[Flask, Mailbox]):
    _application, mailbox = mailbox_app
    cast = make_cast()
    now = utcnow()
    paper = entry(PANEL_PAPER)
    assert paper.review is not None
    make_consultation(paper, opens_at=now - DAY, closes_at=now + DAY, title="Panel paper")
    following(paper.review, cast.other_panel, cast.member, as_type="review")

    report = send_reminders()
    assert (report.consultations, report.mails) == (1, 1)
    assert recipients_of(mailbox.wait_for(1)) == [cast.other_panel.email]
    assert send_reminders().consultations == 0


def test_a_claim_made_by_another_run_stops_this_one_sending(mailbox_app: tuple[Flask, Mailbox]):
    _application, mailbox = mailbox_app
    now = utcnow()
    paper = entry(PUBLIC_PAPER)
    consultation = make_consultation(paper, opens_at=now - DAY, closes_at=now + DAY)
    following(paper, make_user("follower@example.org"))
    consultation.reminder_sent_at = now
    db.session.commit()
    assert send_reminders().mails == 0
    assert mailbox.messages == []


def test_refused_reminders_wait_in_the_outbox_and_go_once_the_server_is_back(mailbox_app: tuple[Flask, Mailbox]):
    application, mailbox = mailbox_app
    now = utcnow()
    paper = entry(PUBLIC_PAPER)
    make_consultation(paper, opens_at=now - DAY, closes_at=now + DAY)
    follower = make_user("follower@example.org")
    following(paper, follower)
    working_port = application.config["SMTP_PORT"]
    application.config["SMTP_PORT"] = free_port()  # Nothing listens there: the mail server is down.

    report = send_reminders()

    assert (report.consultations, report.mails, report.failed) == (1, 0, 1)
    assert "1 could not be sent yet" in report.summary()
    assert send_reminders().consultations == 0, "the claim stands: no second reminder is queued"
    application.config["SMTP_PORT"] = working_port
    assert send_pending(wait=False).sent == 1
    assert recipients_of(mailbox.wait_for(1)) == [follower.email]
    assert send_pending(wait=False).sent == 0
