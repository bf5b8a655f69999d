"""After the close: themes on answers, the outcome page, and telling respondents when it is published."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from kb.audit.models import AuditEvent
from kb.consultations import outcome
from kb.consultations.analysis import ThemeLabelError
from kb.consultations.models import OutcomeChange
from kb.extensions import db
from kb.notifications.models import Notification
from kb.notifications.service import set_mail
from kb.permissions import PermissionDeniedError
from tests.accounts import Cast, make_cast, make_user
from tests.conftest import _in_context, make_app
from tests.outcome_factory import answer, make_consultation, make_finding, text_answer
from tests.smtp import Mailbox, mail_settings, smtp_server

SITE = "https://kb.example.org"


@pytest.fixture
def mailbox_app(tmp_path: Path, seeded_database: Path) -> Iterator[tuple[Flask, Mailbox]]:
    """A seeded app whose mail goes to a real SMTP server on loopback."""
    with smtp_server() as (mailbox, port):
        application = make_app(tmp_path, seeded_database, SITE_URL=SITE, **mail_settings(port))
        for ready in _in_context(application):
            yield ready, mailbox


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- Themes --------------------------------------------------------------------------------------


def test_the_panel_tags_an_answer_once_whatever_the_case(cast: Cast) -> None:
    consultation = make_consultation(cast.review)
    target = text_answer(answer(consultation, cast.member, text="Too few call handlers."))
    outcome.tag_answer(target, "  Staffing   levels ", actor=cast.panel)
    outcome.tag_answer(target, "staffing LEVELS", actor=cast.panel)
    db.session.commit()
    assert [theme.label for theme in target.themes] == ["Staffing levels"]
    assert [event.new_value for event in events("consultation.theme-add")] == ["Staffing levels"]


def test_a_theme_already_used_keeps_its_spelling(cast: Cast) -> None:
    consultation = make_consultation(cast.review)
    first = text_answer(answer(consultation, cast.member, text="One."))
    second = text_answer(answer(consultation, cast.author, text="Two."))
    outcome.tag_answer(first, "Staffing", actor=cast.panel)
    outcome.tag_answer(second, "staffing", actor=cast.moderator)
    assert [theme.label for theme in second.themes] == ["Staffing"]


def test_removing_a_theme_is_audited(cast: Cast) -> None:
    consultation = make_consultation(cast.review)
    target = text_answer(answer(consultation, cast.member, text="Too few."))
    outcome.tag_answer(target, "Staffing", actor=cast.panel)
    assert outcome.untag_answer(target, "STAFFING", actor=cast.panel)
    assert not outcome.untag_answer(target, "Training", actor=cast.panel)
    db.session.commit()
    assert target.themes == []
    assert [event.old_value for event in events("consultation.theme-remove")] == ["Staffing"]


@pytest.mark.parametrize("who", ["member", "other_panel", "author"])
def test_only_the_panel_and_staff_tag(cast: Cast, who: str) -> None:
    consultation = make_consultation(cast.review)
    target = text_answer(answer(consultation, cast.author, text="Too few."))
    with pytest.raises(PermissionDeniedError):
        outcome.tag_answer(target, "Staffing", actor=getattr(cast, who))


def test_no_tagging_before_the_close(cast: Cast) -> None:
    consultation = make_consultation(cast.review, closed=False)
    target = text_answer(answer(consultation, cast.member, text="Too few."))
    with pytest.raises(outcome.OutcomeError, match="after the consultation closes"):
        outcome.tag_answer(target, "Staffing", actor=cast.panel)


def test_an_empty_theme_is_refused(cast: Cast) -> None:
    consultation = make_consultation(cast.review)
    target = text_answer(answer(consultation, cast.member, text="Too few."))
    with pytest.raises(ThemeLabelError):
        outcome.tag_answer(target, "   ", actor=cast.panel)


# --- Reading -------------------------------------------------------------------------------------


def test_analysis_reads_only_submitted_responses(cast: Cast) -> None:
    consultation = make_consultation(cast.review)
    answer(consultation, cast.member, scale="agree", choice="Not sure", text="Submitted words.")
    answer(consultation, cast.author, scale="disagree", text="Draft words.", status="draft")
    questions, responses = outcome.analysis_data(consultation)
    assert [q.kind for q in questions] == ["scale", "choice", "text"]
    assert [q.number for q in questions] == [1, 2, 3]
    assert len(responses) == 1
    assert responses[0].organisation_type_label == "Out-of-hours provider"
    assert [a.text for a in responses[0].answers.values() if a.text] == ["Submitted words."]


def test_submitted_answer_refuses_drafts_and_other_consultations(cast: Cast) -> None:
    consultation = make_consultation(cast.review)
    other = make_consultation(cast.review, title="Another")
    draft = text_answer(answer(consultation, cast.author, text="Draft.", status="draft"))
    elsewhere = text_answer(answer(other, cast.member, text="Elsewhere."))
    assert outcome.submitted_answer(consultation, draft.id) is None
    assert outcome.submitted_answer(consultation, elsewhere.id) is None
    assert outcome.submitted_answer(other, elsewhere.id) is elsewhere


# --- The outcome page ----------------------------------------------------------------------------


def test_saving_the_outcome_keeps_changes_in_order_with_their_links(cast: Cast) -> None:
    consultation = make_consultation(cast.review)
    first = answer(consultation, cast.member, text="Move the date.")
    second = answer(consultation, cast.author, text="Keep it.")
    finding = make_finding(cast.review)
    changes = [
        outcome.ChangeDraft("Move the date", "We moved finding 1's date.", (first.id,), (finding.id,)),
        outcome.ChangeDraft("", "  ", (second.id,)),
        outcome.ChangeDraft("Keep it", "We explained why not.", (second.id, first.id)),
    ]
    outcome.save_outcome(consultation, actor=cast.panel, we_asked="Asked.", you_said="Said.", changes=changes)
    db.session.commit()
    stored = consultation.changes
    assert [change.we_did for change in stored] == ["We moved finding 1's date.", "We explained why not."]
    assert [r.id for r in stored[0].responses] == [first.id]
    assert [f.id for f in stored[0].findings] == [finding.id]
    assert {r.id for r in stored[1].responses} == {first.id, second.id}
    first_id = stored[0].id

    outcome.save_outcome(
        consultation,
        actor=cast.panel,
        we_asked="Asked.",
        you_said="Said.",
        changes=[outcome.ChangeDraft("", "Only this now.")],
    )
    db.session.commit()
    assert [(change.id, change.we_did) for change in consultation.changes] == [(first_id, "Only this now.")]
    assert db.session.scalar(select(db.func.count()).select_from(OutcomeChange)) == 1
    assert len(events("consultation.outcome-save")) == 2


@pytest.mark.parametrize("bad", ["draft", "elsewhere", "other-review-finding"])
def test_a_change_cannot_name_what_it_may_not(cast: Cast, bad: str) -> None:
    consultation = make_consultation(cast.review)
    other = make_consultation(cast.other_review, title="Elsewhere")
    draft = answer(consultation, cast.author, text="Draft.", status="draft")
    elsewhere = answer(other, cast.member, text="Elsewhere.")
    foreign = make_finding(cast.other_review)
    change = {
        "draft": outcome.ChangeDraft("", "Did.", (draft.id,)),
        "elsewhere": outcome.ChangeDraft("", "Did.", (elsewhere.id,)),
        "other-review-finding": outcome.ChangeDraft("", "Did.", (), (foreign.id,)),
    }[bad]
    with pytest.raises(outcome.OutcomeError):
        outcome.save_outcome(consultation, actor=cast.moderator, we_asked="A", you_said="B", changes=[change])


def test_only_the_panel_and_staff_write_the_outcome(cast: Cast) -> None:
    consultation = make_consultation(cast.review)
    with pytest.raises(PermissionDeniedError):
        outcome.save_outcome(consultation, actor=cast.other_panel, we_asked="A", you_said="B", changes=[])
    with pytest.raises(PermissionDeniedError):
        outcome.publish_outcome(consultation, actor=cast.member)


def _written(consultation, actor) -> None:
    outcome.save_outcome(
        consultation, actor=actor, we_asked="We asked.", you_said="You said.", changes=[outcome.ChangeDraft("", "Did.")]
    )


def test_publishing_needs_the_close_and_something_written(cast: Cast) -> None:
    open_one = make_consultation(cast.review, closed=False)
    _written(open_one, cast.panel)
    with pytest.raises(outcome.OutcomeError, match="after the consultation closes"):
        outcome.publish_outcome(open_one, actor=cast.panel)
    empty = make_consultation(cast.review, title="Empty")
    with pytest.raises(outcome.OutcomeError, match="at least one change"):
        outcome.publish_outcome(empty, actor=cast.panel)
    assert open_one.outcome_published_at is None
    assert empty.outcome_published_at is None


def test_publishing_twice_is_refused(cast: Cast) -> None:
    consultation = make_consultation(cast.review)
    _written(consultation, cast.panel)
    outcome.publish_outcome(consultation, actor=cast.panel)
    with pytest.raises(outcome.OutcomeError, match="already published"):
        outcome.publish_outcome(consultation, actor=cast.panel)


def test_every_respondent_is_told_in_kb_and_by_mail(mailbox_app: tuple[Flask, Mailbox]) -> None:
    _, mailbox = mailbox_app
    cast = make_cast()
    quiet = make_user("quiet@example.org")
    leaver = make_user("leaver@example.org")
    drafter = make_user("drafter@example.org")
    consultation = make_consultation(cast.review)
    for person in (cast.member, cast.author, quiet, leaver, cast.panel):
        answer(consultation, person, text=f"From {person.email}.")
    answer(consultation, drafter, text="Never sent.", status="draft")
    set_mail(quiet, "replies", on=False)
    leaver.active = False
    db.session.commit()

    _written(consultation, cast.panel)
    told = outcome.publish_outcome(consultation, actor=cast.panel)
    db.session.commit()

    told_ids = {notification.user_id for notification in told}
    assert told_ids == {cast.member.id, cast.author.id, quiet.id}
    stored = db.session.scalars(select(Notification).where(Notification.kind == "outcome")).all()
    assert {n.user_id for n in stored} == told_ids
    assert all(n.link == f"/consultations/{consultation.id}/outcome" for n in stored)
    assert all(n.entry_id == cast.review.id for n in stored)
    assert consultation.outcome_published_at is not None
    assert len(events("consultation.outcome-publish")) == 1

    messages = mailbox.wait_for(2)
    assert sorted(message["To"] for message in messages) == ["author@example.org", "member@example.org"]
    for message in messages:
        assert consultation.title in message["Subject"]
        assert f"{SITE}/consultations/{consultation.id}/outcome" in mailbox.links_in(message)
        assert message["List-Unsubscribe"]
    assert {n.user_id for n in stored if n.mailed_at is not None} == {cast.member.id, cast.author.id}


def test_respondents_who_can_no_longer_read_the_entry_are_not_told(cast: Cast, sent) -> None:
    consultation = make_consultation(cast.review)
    answer(consultation, cast.member, text="Words.")
    answer(consultation, cast.other_panel, text="More words.")
    cast.review.visibility = "panel"
    db.session.commit()
    _written(consultation, cast.panel)
    told = outcome.publish_outcome(consultation, actor=cast.moderator)
    db.session.commit()
    assert told == []
    assert sent == []
