"""Every mail kb sends a person about their work is also on their notifications page, linking to the thing.

Account mail (invitations, password resets) is the exception: it is about the account, not work.
"""

from __future__ import annotations

from sqlalchemy import select

from kb.config import PROJECT_ROOT
from kb.consultations.reminders import send_reminders
from kb.contributions.service import create_lesson, save_document, submit_entry
from kb.dates import utcnow
from kb.entries.models import Entry
from kb.entries.service import current_revision
from kb.extensions import db
from kb.mail import Mail, site_link
from kb.moderation.lessons import publish_entry, reject_entry, return_entry
from kb.moderation.service import decide_comment, decide_entry, raise_flag
from kb.notifications import queries, service
from kb.notifications.models import Notification
from kb.permissions import viewer_for
from kb.users.models import User
from tests.accounts import Cast, make_user
from tests.factories import entry
from tests.services.test_consultations import DAY, PUBLIC_PAPER, make_consultation
from tests.services.test_notifications import add_comment, public_lesson
from tests.services.test_workflow import FIELDS


def listed(user: User) -> list[Notification]:
    """What the person's notifications page lists, newest first."""
    return list(db.session.scalars(queries.shown_notifications(viewer_for(user))))


def assert_told(mail: Mail, user: User) -> Notification:
    """The mail went to `user`, and their notifications page lists the same event with the mail's link."""
    assert mail.to == user.email
    matching = [item for item in listed(user) if item.link and site_link(item.link) in mail.body]
    assert matching, f"no notification for the mail {mail.subject!r}: {[item.message for item in listed(user)]}"
    assert matching[0].mailed_at is not None
    return matching[0]


def submitted(cast: Cast) -> Entry:
    lesson = create_lesson(FIELDS, actor=cast.author)
    submit_entry(lesson, actor=cast.author)
    db.session.commit()
    return lesson


def test_publication_is_mailed_and_listed_with_a_link_to_the_lesson(cast: Cast, sent: list[Mail]):
    lesson = submitted(cast)
    publish_entry(lesson, actor=cast.moderator, visibility="public")
    db.session.commit()
    [mail] = sent
    told = assert_told(mail, cast.author)
    assert told.link == lesson.path
    assert told.message == f"Your lesson is published: {lesson.title}"


def test_a_return_is_listed_with_the_link_to_change_it(cast: Cast, sent: list[Mail]):
    lesson = submitted(cast)
    return_entry(lesson, actor=cast.moderator, reason="Add a source.")
    db.session.commit()
    [mail] = sent
    assert assert_told(mail, cast.author).link == f"{lesson.path}/edit"


def test_a_rejection_is_listed(cast: Cast, sent: list[Mail]):
    lesson = submitted(cast)
    reject_entry(lesson, actor=cast.moderator, reason="Out of scope.")
    db.session.commit()
    [mail] = sent
    assert "not accepted" in assert_told(mail, cast.author).message


def test_a_status_changed_in_the_document_editor_is_listed(cast: Cast, sent: list[Mail]):
    lesson = submitted(cast)
    revision = current_revision(lesson)
    text = revision.document.replace("status: submitted", "status: published")
    save_document(lesson, text, actor=cast.admin, base_number=revision.number, message="Published by hand")
    db.session.commit()
    [mail] = sent
    assert "status" in assert_told(mail, cast.author).message


def test_the_notification_is_written_when_mail_is_switched_off(cast: Cast, sent: list[Mail]):
    service.set_mail(cast.author, "moderation", on=False)
    lesson = submitted(cast)
    publish_entry(lesson, actor=cast.moderator, visibility="public")
    db.session.commit()
    assert sent == []
    [told] = listed(cast.author)
    assert (told.link, told.mailed_at) == (lesson.path, None)


def test_decisions_on_flagged_comments_and_entries_are_listed_for_their_authors(cast: Cast, sent: list[Mail]):
    lesson = public_lesson()
    comment = add_comment(lesson, cast.member, "Off the point.")
    raise_flag(lesson, actor=cast.author, reason="off-topic", comment=comment)
    db.session.commit()
    for mail in sent:
        assert_told(mail, db.session.scalar(select(User).where(User.email == mail.to)))
    sent.clear()
    decide_comment(comment, "hide", actor=cast.moderator, reason="Off topic.")
    lesson.author_id = cast.author.id
    db.session.commit()
    [mail] = sent
    assert_told(mail, cast.member)
    sent.clear()
    raise_flag(lesson, actor=cast.member, reason="inaccurate", note="Wrong date.")
    db.session.commit()
    sent.clear()
    decide_entry(lesson, "dismiss", actor=cast.moderator)
    db.session.commit()
    [mail] = sent
    assert_told(mail, cast.author)


def test_a_consultation_reminder_is_listed_for_every_follower_mailed_or_not(cast: Cast, sent: list[Mail]):
    paper = entry(PUBLIC_PAPER)
    now = utcnow()
    consultation = make_consultation(paper, opens_at=now - 5 * DAY, closes_at=now + DAY)
    mailed, quiet = make_user("mailed@example.org"), make_user("quiet@example.org")
    for person in (mailed, quiet):
        service.follow(person, "entry", paper.id)
    service.update_settings(quiet, {"digest": False})
    db.session.commit()
    send_reminders()
    [mail] = sent
    told = assert_told(mail, mailed)
    assert told.link == f"/consultations/{consultation.id}"
    assert consultation.title in told.message
    [quiet_told] = listed(quiet)
    assert (quiet_told.link, quiet_told.mailed_at) == (told.link, None)


def test_the_docs_name_the_account_mails_that_are_not_listed():
    text = (PROJECT_ROOT / "docs" / "accounts.md").read_text(encoding="utf-8")
    assert "not listed on the notifications page" in text
