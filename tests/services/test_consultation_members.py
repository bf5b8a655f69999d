"""The members' side of consultations: told when one opens, a receipt with their answers, the copy of a finding's
links, and "we did" linked to every response of a theme in one step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from kb.consultations import outcome
from kb.consultations.models import Consultation
from kb.consultations.opening import announce_openings
from kb.consultations.service import open_consultation, save_response
from kb.dates import utcnow
from kb.extensions import db
from kb.notifications import service as notifications
from kb.notifications.models import Notification
from kb.notifications.queries import entry_theme_ids
from kb.panels.service import FindingText, create_finding
from kb.states import NotificationKind
from kb.users.models import User
from tests.accounts import Cast, make_cast, make_user
from tests.conftest import _in_context, make_app
from tests.factories import entry
from tests.outcome_factory import answer, text_answer
from tests.outcome_factory import make_consultation as closed_consultation
from tests.services.test_consultations import PANEL_PAPER, PUBLIC_PAPER, draft
from tests.smtp import Mailbox, mail_settings, smtp_server

SITE = "https://kb.example.org"
DAY = dt.timedelta(days=1)
PUBLIC_LESSON = "bristol-gps-report-inappropriate-triage-responses"
MEMBERS_LESSON = "good-idea-badly-implemented"
MEMBERS_LESSON_TITLE = "Commissioners call NHS 111 a good idea badly implemented"
PANEL_PAPER_TITLE = "Lessons review panel working note on the evidence to gather"


def told(kind: str = NotificationKind.CONSULTATION) -> list[int]:
    """The ids of everyone holding a notification of `kind`, in order."""
    return sorted(db.session.scalars(select(Notification.user_id).where(Notification.kind == kind)))


def follow(target_type: str, target_id: int, *people: User) -> None:
    for person in people:
        notifications.follow(person, target_type, target_id)
    db.session.commit()


# --- Told when it opens --------------------------------------------------------------------------


def test_followers_of_the_entry_or_its_themes_are_told_at_once_and_no_one_else(cast: Cast):
    paper = entry(PUBLIC_PAPER)
    follower, theme_follower, bystander = (make_user(f"{n}@example.org") for n in ("f", "tf", "by"))
    follow("entry", paper.id, follower)
    themes = entry_theme_ids(paper.id)
    assert themes, "the seed paper belongs to a theme through its tags"
    follow("theme", themes[0], theme_follower)
    now = utcnow()
    consultation = open_consultation(
        paper, draft(opens_at=now - dt.timedelta(minutes=1), closes_at=now + 5 * DAY), actor=cast.moderator
    )
    db.session.commit()
    assert told() == sorted([follower.id, theme_follower.id])
    assert bystander.id not in told()
    notice = db.session.scalars(select(Notification).where(Notification.user_id == follower.id)).one()
    assert notice.link == f"/consultations/{consultation.id}"
    assert "is open for your answers" in notice.message
    assert announce_openings() == 0  # already told; nobody hears twice


def test_a_consultation_opening_later_is_announced_by_the_timed_job_once(cast: Cast):
    paper = entry(PUBLIC_PAPER)
    follower = make_user("follower@example.org")
    follow("entry", paper.id, follower)
    now = utcnow()
    consultation = open_consultation(paper, draft(opens_at=now + DAY, closes_at=now + 5 * DAY), actor=cast.moderator)
    db.session.commit()
    assert told() == []
    assert announce_openings(now + dt.timedelta(hours=12)) == 0
    assert announce_openings(now + DAY + dt.timedelta(minutes=5)) == 1
    assert told() == [follower.id]
    assert announce_openings(now + 2 * DAY) == 0
    assert told() == [follower.id]
    assert db.session.get(Consultation, consultation.id).opening_told_at is not None  # type: ignore[union-attr]


def test_tell_all_members_tells_every_active_member_who_may_read_it(cast: Cast):
    quiet = make_user("quiet@example.org")
    gone = make_user("gone@example.org")
    gone.active = False
    db.session.commit()
    now = utcnow()
    open_consultation(
        entry(PUBLIC_PAPER),
        draft(opens_at=now - dt.timedelta(minutes=1), closes_at=now + DAY, tell_all_members=True),
        actor=cast.moderator,
    )
    db.session.commit()
    hearing = told()
    assert quiet.id in hearing
    assert cast.member.id in hearing
    assert cast.panel.id in hearing
    assert gone.id not in hearing
    assert cast.moderator.id not in hearing  # the one who opened it is not told of their own act


def test_a_hidden_consultation_tells_nobody_who_cannot_read_it(cast: Cast):
    paper = entry(PANEL_PAPER)
    assert paper.review_id is not None
    # Members who follow the public review the panel paper belongs to cannot read the paper.
    follow("review", paper.review_id, cast.member, cast.panel, cast.other_panel)
    now = utcnow()
    open_consultation(
        paper,
        draft(opens_at=now - dt.timedelta(minutes=1), closes_at=now + DAY, tell_all_members=True),
        actor=cast.moderator,
    )
    db.session.commit()
    hearing = told()
    assert cast.other_panel.id in hearing
    assert cast.member.id not in hearing
    assert cast.panel.id not in hearing
    assert cast.author.id not in hearing


# --- The receipt ---------------------------------------------------------------------------------


@pytest.fixture
def mailbox_app(tmp_path: Path, seeded_database: Path) -> Iterator[tuple[Flask, Mailbox]]:
    """A seeded app whose mail goes to a real SMTP server on loopback."""
    with smtp_server() as (mailbox, port):
        application = make_app(tmp_path, seeded_database, SITE_URL=SITE, **mail_settings(port))
        for ready in _in_context(application):
            yield ready, mailbox


def test_a_submitted_response_gets_a_receipt_in_the_app_and_by_mail_with_every_answer(
    mailbox_app: tuple[Flask, Mailbox],
):
    _application, mailbox = mailbox_app
    cast = make_cast()
    now = utcnow()
    consultation = open_consultation(
        entry(PUBLIC_PAPER), draft(opens_at=now - dt.timedelta(minutes=1), closes_at=now + DAY), actor=cast.moderator
    )
    db.session.commit()
    text_id, choice_id = (question.id for question in consultation.questions)
    save_response(consultation, {text_id: "Half"}, actor=cast.member, submit=False)
    db.session.commit()
    assert told(NotificationKind.RECEIPT) == []  # a draft has no receipt

    answers = {text_id: "More call handlers at night.", choice_id: "B"}
    save_response(consultation, answers, actor=cast.member, submit=True)
    db.session.commit()
    receipt = db.session.scalars(select(Notification).where(Notification.kind == NotificationKind.RECEIPT)).one()
    assert receipt.user_id == cast.member.id
    assert receipt.actor_id is None
    assert receipt.link == f"/consultations/{consultation.id}/receipt"
    message = mailbox.wait_for(1)[0]
    assert message["To"] == cast.member.email
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "1. Anything else?" in body
    assert "Your answer: More call handlers at night." in body
    assert "2. Pick" in body
    assert "Your answer: B" in body
    assert f"{SITE}/consultations/{consultation.id}/receipt" in body


# --- The copy of a finding -----------------------------------------------------------------------


def test_the_copy_of_a_finding_links_what_its_readers_may_see_and_names_nothing_else(cast: Cast):
    review = cast.other_review
    body = f"See [[{PUBLIC_LESSON}]], [[{MEMBERS_LESSON}]] and [[{PANEL_PAPER}|the working note]]."
    finding = create_finding(review, FindingText("Triage", body, f"Read [[{PUBLIC_LESSON}]]."), actor=cast.other_panel)
    db.session.commit()
    now = utcnow()
    consultation = open_consultation(
        review, draft(opens_at=now + DAY, closes_at=now + 3 * DAY, finding_ids=(finding.id,)), actor=cast.other_panel
    )
    db.session.commit()
    copy = consultation.consulted_findings[0]
    assert "[[" not in copy.body_html
    assert "[[" not in copy.recommendations_html
    assert f'href="/lessons/{PUBLIC_LESSON}"' in copy.body_html
    assert f'href="/lessons/{PUBLIC_LESSON}"' in copy.recommendations_html
    # The public review's readers may not all read a members-only lesson or a panel paper.
    assert MEMBERS_LESSON_TITLE not in copy.body_html
    assert PANEL_PAPER_TITLE not in copy.body_html
    assert "kb-restricted-link" in copy.body_html
    assert "the working note" in copy.body_html
    assert "kb-missing-link" not in copy.body_html


# --- "We did" by theme ---------------------------------------------------------------------------


def test_a_change_linked_by_theme_links_every_response_tagged_with_it(cast: Cast):
    consultation = closed_consultation(cast.other_review)
    people = [make_user(f"r{n}@example.org") for n in range(4)]
    responses = [answer(consultation, person, text=f"Answer {n}") for n, person in enumerate(people)]
    outcome.tag_answer(text_answer(responses[0]), "Staffing", actor=cast.other_panel)
    outcome.tag_answer(text_answer(responses[2]), "staffing", actor=cast.other_panel)
    outcome.tag_answer(text_answer(responses[3]), "Training", actor=cast.other_panel)
    db.session.commit()
    assert outcome.themed_responses(consultation) == {
        "Staffing": [responses[0].id, responses[2].id],
        "Training": [responses[3].id],
    }

    change = outcome.ChangeDraft("More staff", "We asked for more staff.", (responses[1].id,), theme="Staffing")
    outcome.save_outcome(consultation, actor=cast.other_panel, we_asked="Q", you_said="A", changes=[change])
    db.session.commit()
    linked = sorted(response.id for response in outcome.changes_of(consultation)[0].responses)
    assert linked == sorted([responses[0].id, responses[1].id, responses[2].id])

    with pytest.raises(outcome.OutcomeError, match="No submitted answer is tagged"):
        outcome.save_outcome(
            consultation,
            actor=cast.other_panel,
            we_asked="Q",
            you_said="A",
            changes=[outcome.ChangeDraft("", "Done.", theme="Nobody's theme")],
        )
