"""Who is told of the panel's work on findings, why agreement was withdrawn, and each person's choices by topic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete, select

from kb.extensions import db
from kb.mail import Mail
from kb.notifications import choices, digest, queries, service
from kb.notifications.models import Notification
from kb.notifications.topics import Choice
from kb.panels.citations import add_citation, remove_citation
from kb.panels.models import Finding
from kb.panels.service import (
    FindingText,
    agree_finding,
    create_finding,
    edit_finding,
    propose_agreement,
    publish_findings,
    withdraw_finding,
)
from kb.permissions import viewer_for
from kb.states import MailDelivery
from kb.users.models import PanelMembership, User
from tests.accounts import Cast, make_cast, make_user
from tests.conftest import _in_context, make_app
from tests.services.test_notifications import public_lesson
from tests.smtp import Mailbox, mail_settings, smtp_server

TEXT = FindingText("Handovers lost the patient's history", "Crews were not told.", "Hand over in writing.")


@pytest.fixture
def second(cast: Cast) -> User:
    return make_user("second-panel@example.org", name="Sam Second", panels=(cast.review,))


@pytest.fixture
def third(cast: Cast) -> User:
    return make_user("third-panel@example.org", name="Tess Third", panels=(cast.review,))


@pytest.fixture
def gone(cast: Cast) -> User:
    """A panel member whose account is no longer active."""
    return make_user("gone-panel@example.org", panels=(cast.review,), active=False)


def told(kind: str) -> dict[int, Notification]:
    """Every notification of `kind`, by the person told."""
    return {item.user_id: item for item in db.session.scalars(select(Notification).where(Notification.kind == kind))}


def draft(cast: Cast) -> Finding:
    finding = create_finding(cast.review, TEXT, actor=cast.panel)
    db.session.commit()
    return finding


def agreed(cast: Cast, second: User) -> Finding:
    """A finding drafted and proposed by the panel member, agreed by `second`."""
    finding = draft(cast)
    propose_agreement(finding, actor=cast.panel)
    agree_finding(finding, actor=second)
    db.session.commit()
    return finding


def listed(user: User) -> list[str]:
    return [item.kind for item in db.session.scalars(queries.shown_notifications(viewer_for(user)))]


def test_a_new_draft_tells_the_rest_of_the_panel_and_mails_them(cast: Cast, second: User, gone: User, sent: list[Mail]):
    finding = draft(cast)

    new = told("finding_new")
    assert set(new) == {second.id}  # not the writer, another panel, staff, members or an inactive account
    assert new[second.id].finding_id == finding.id
    assert new[second.id].link == f"/reviews/{cast.review.slug}/findings/{finding.number}"
    assert f"Panel drafted finding {finding.number} of" in new[second.id].message
    assert new[second.id].mailed_at is not None
    assert [mail.to for mail in sent] == [second.email]
    assert "mail about your panel's findings" in sent[0].body
    assert "/unsubscribe/" in dict(sent[0].headers)["List-Unsubscribe"]
    assert listed(second) == ["finding_new"]
    assert listed(cast.other_panel) == listed(cast.moderator) == []


def test_a_proposal_tells_the_panel_that_it_waits_for_a_second_member(cast: Cast, second: User, third: User):
    finding = draft(cast)
    propose_agreement(finding, actor=second)
    db.session.commit()

    proposed = told("proposed")
    assert set(proposed) == {cast.panel.id, third.id}
    assert "needs a second panel member to agree it" in proposed[third.id].message


def test_an_agreement_tells_the_proposer_and_the_holder(cast: Cast, second: User, third: User):
    finding = draft(cast)  # the panel member holds the pen
    propose_agreement(finding, actor=second)
    agree_finding(finding, actor=third)
    db.session.commit()

    assert set(told("agreed")) == {cast.panel.id, second.id}
    assert "Tess Third agreed finding" in told("agreed")[second.id].message


def test_an_edit_withdraws_agreement_and_says_the_text_was_edited(cast: Cast, second: User, third: User):
    finding = agreed(cast, second)
    edit_finding(finding, FindingText(TEXT.title, "Crews were told late.", ""), actor=third, base_number=1)
    db.session.commit()

    lost = told("agreement_lost")
    assert set(lost) == {cast.panel.id, second.id}  # the proposer and the member who agreed, not the editor
    assert "Agreement on finding" in lost[second.id].message
    assert lost[second.id].message.endswith("was withdrawn: Tess Third edited its text")
    assert lost[second.id].finding_id == finding.id


def test_adding_or_removing_a_citation_withdraws_agreement_and_says_so(cast: Cast, second: User):
    finding = agreed(cast, second)
    citation = add_citation(finding, actor=cast.panel, kind="entry", entry=public_lesson())
    db.session.commit()
    assert finding.status == "draft"
    lost = told("agreement_lost")
    assert set(lost) == {second.id}
    assert lost[second.id].message.endswith("Panel added a citation")

    propose_agreement(finding, actor=cast.panel)
    agree_finding(finding, actor=second)
    remove_citation(citation, actor=cast.panel)
    db.session.commit()
    latest = db.session.scalars(
        select(Notification).where(Notification.kind == "agreement_lost").order_by(Notification.id.desc())
    ).first()
    assert latest is not None
    assert latest.message.endswith("Panel removed a citation")


def test_an_edit_of_a_proposed_finding_tells_the_proposer_the_proposal_was_cleared(cast: Cast, second: User):
    finding = draft(cast)
    propose_agreement(finding, actor=cast.panel)
    edit_finding(finding, FindingText("A sharper title", TEXT.body, TEXT.recommendations), actor=second, base_number=1)
    db.session.commit()

    lost = told("agreement_lost")
    assert set(lost) == {cast.panel.id}
    assert "The proposal to agree finding" in lost[cast.panel.id].message


def test_withdrawing_an_agreed_finding_tells_who_agreed_it(cast: Cast, second: User):
    finding = agreed(cast, second)
    withdraw_finding(finding, actor=cast.panel)
    db.session.commit()
    assert told("agreement_lost")[second.id].message.endswith("Panel withdrew the finding")


def test_a_change_to_a_draft_nobody_proposed_tells_nobody_of_lost_agreement(cast: Cast, second: User):
    finding = draft(cast)
    add_citation(finding, actor=second, kind="entry", entry=public_lesson())
    edit_finding(finding, FindingText("New", "", ""), actor=second, base_number=1)
    db.session.commit()
    assert told("agreement_lost") == {}


def test_publication_tells_the_panel_and_the_reviews_followers(cast: Cast, second: User, sent: list[Mail]):
    service.follow(cast.member, "review", cast.review.id)
    service.follow(cast.other_panel, "review", cast.review.id)
    finding = agreed(cast, second)
    sent.clear()
    publish_findings(cast.review, actor=cast.panel)
    db.session.commit()

    published = told("published")
    assert set(published) == {second.id, cast.member.id, cast.other_panel.id}
    assert published[cast.member.id].link == f"/reviews/{cast.review.slug}/report"
    assert published[cast.member.id].entry_id == cast.review.id
    assert sorted(mail.to for mail in sent) == sorted([second.email, cast.member.email, cast.other_panel.email])
    assert any(f"{finding.number}. {finding.title}" in mail.body for mail in sent)


def test_someone_removed_from_the_panel_no_longer_sees_notices_of_a_draft(cast: Cast, second: User, third: User):
    kept = draft(cast)
    propose_agreement(kept, actor=cast.panel)
    db.session.commit()
    assert listed(second) == ["proposed", "finding_new"]
    assert queries.unread_count(viewer_for(second)) == 2

    db.session.execute(delete(PanelMembership).where(PanelMembership.user_id == second.id))
    db.session.commit()
    db.session.expire_all()
    assert listed(second) == []
    assert queries.unread_count(viewer_for(second)) == 0


def test_notices_of_a_published_finding_stay_for_those_who_may_read_it(cast: Cast, second: User, third: User):
    finding = draft(cast)
    propose_agreement(finding, actor=cast.panel)
    agree_finding(finding, actor=second)
    publish_findings(cast.review, actor=cast.panel)
    db.session.commit()
    db.session.execute(delete(PanelMembership).where(PanelMembership.user_id == third.id))
    db.session.commit()
    db.session.expire_all()
    assert "finding_new" in listed(third)  # the finding is published and the review public


# --- Choices by topic ------------------------------------------------------------------------------


def choose(user: User, topic: str, *, in_app: bool, delivery: str) -> None:
    choices.update_choices(user, {topic: Choice(in_app=in_app, delivery=delivery)})
    db.session.commit()


def test_a_topic_kept_out_of_the_app_and_mail_tells_nothing(cast: Cast, second: User, sent: list[Mail]):
    choose(second, "panel_work", in_app=False, delivery=MailDelivery.NONE)
    draft(cast)
    assert told("finding_new") == {}
    assert listed(second) == []
    assert sent == []


def test_a_topic_mailed_but_not_shown_is_only_mailed(cast: Cast, second: User, sent: list[Mail]):
    choose(second, "panel_work", in_app=False, delivery=MailDelivery.NOW)
    draft(cast)
    assert listed(second) == []
    assert told("finding_new") == {}
    assert [mail.to for mail in sent] == [second.email]


def test_a_topic_shown_but_not_mailed_is_listed_and_other_topics_keep_their_default(
    cast: Cast, second: User, sent: list[Mail]
):
    choose(second, "panel_work", in_app=True, delivery=MailDelivery.NONE)
    finding = draft(cast)
    assert listed(second) == ["finding_new"]
    assert sent == []
    propose_agreement(finding, actor=second)
    agree_finding(finding, actor=cast.panel)
    edit_finding(finding, FindingText("Changed", "", ""), actor=cast.panel, base_number=1)
    db.session.commit()
    to_second = [mail.subject for mail in sent if mail.to == second.email]
    assert len(to_second) == 1  # agreement withdrawn: its own topic, mailed by default
    assert "was withdrawn" in to_second[0]


def test_the_unsubscribe_switch_of_a_topic_keeps_it_in_the_app(cast: Cast, second: User):
    service.set_mail(second, "panel_work", on=False)
    db.session.commit()
    assert queries.choice_for(second.id, "panel_work") == Choice(in_app=True, delivery=MailDelivery.NONE)
    assert queries.wants_mail(second.id, "panel_work") is False
    service.set_mail(second, "panel_work", on=True)
    assert queries.wants_mail(second.id, "panel_work") is True
    assert queries.choices_for(cast.member.id)["receipts"] == Choice()


# --- The digest ------------------------------------------------------------------------------------


@pytest.fixture
def mailbox_app(tmp_path: Path, seeded_database: Path) -> Iterator[tuple[Flask, Mailbox]]:
    """A seeded app whose mail goes to a real SMTP server on loopback."""
    with smtp_server() as (mailbox, port):
        application = make_app(tmp_path, seeded_database, SITE_URL="https://kb.example.org", **mail_settings(port))
        for ready in _in_context(application):
            yield ready, mailbox


def test_a_topic_kept_for_the_digest_is_in_the_digest_mail_once(mailbox_app: tuple[Flask, Mailbox]):
    _application, mailbox = mailbox_app
    cast = make_cast()
    listed_too = make_user("digest-app@example.org", panels=(cast.review,))
    digest_only = make_user("digest-only@example.org", panels=(cast.review,))
    choose(listed_too, "panel_work", in_app=True, delivery=MailDelivery.DIGEST)
    choose(digest_only, "panel_work", in_app=False, delivery=MailDelivery.DIGEST)
    finding = draft(cast)
    assert mailbox.messages == []  # nothing mailed at once
    assert listed(listed_too) == ["finding_new"]
    assert listed(digest_only) == []
    assert queries.unread_count(viewer_for(digest_only)) == 0

    report = digest.send_digests()
    assert (report.digests, report.items) == (2, 2)
    messages = mailbox.wait_for(2)
    assert sorted(message["To"] for message in messages) == sorted([listed_too.email, digest_only.email])
    text = messages[0].get_body(preferencelist=("plain",)).get_content()
    assert f"drafted finding {finding.number} of" in text
    assert f"https://kb.example.org/reviews/{cast.review.slug}/findings/{finding.number}" in text
    assert messages[0]["Subject"] == "Your daily digest: 1 new item"
    assert digest.send_digests().digests == 0
