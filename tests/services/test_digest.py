"""The daily digest: claimed before it is sent, never twice, by each person's settings and sight."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from kb.extensions import db
from kb.mail import send_pending
from kb.notifications import choices, digest, queries, service, telling
from kb.notifications.models import Notification
from kb.notifications.topics import Choice
from kb.permissions import viewer_for
from kb.states import MailDelivery, NotificationKind
from kb.users.models import User
from tests.accounts import make_cast, make_user
from tests.conftest import _in_context, make_app
from tests.services.test_notifications import add_comment, public_lesson
from tests.smtp import Mailbox, free_port, mail_settings, smtp_server

SITE = "https://kb.example.org"


@pytest.fixture
def mailbox_app(tmp_path: Path, seeded_database: Path) -> Iterator[tuple[Flask, Mailbox]]:
    """A seeded app whose mail goes to a real SMTP server on loopback."""
    with smtp_server() as (mailbox, port):
        application = make_app(tmp_path, seeded_database, SITE_URL=SITE, **mail_settings(port))
        for ready in _in_context(application):
            yield ready, mailbox


def followers(count: int) -> list[User]:
    """`count` members following the seed's public lesson."""
    lesson = public_lesson()
    people = [make_user(f"follower{number}@example.org") for number in range(count)]
    for person in people:
        service.follow(person, "entry", lesson.id)
    db.session.commit()
    return people


def comment_on_lesson(author: User, body: str) -> None:
    comment = add_comment(public_lesson(), author, body)
    service.comment_posted(comment, actor=author)
    db.session.commit()


def run_cli(application: Flask) -> str:
    result = application.test_cli_runner().invoke(args=["notify", "send-digest"])
    assert result.exit_code == 0, result.output
    return result.output


def test_digest_is_sent_once_and_a_second_run_sends_nothing(mailbox_app: tuple[Flask, Mailbox]):
    application, mailbox = mailbox_app
    cast = make_cast()
    people = followers(3)
    comment_on_lesson(cast.member, "First new comment.")
    comment_on_lesson(cast.author, "Second new comment.")
    assert mailbox.messages == []  # follows are not mailed at once

    output = run_cli(application)
    messages = mailbox.wait_for(3)
    assert "Sent 3 digests with 6 items to 3 people." in output
    assert "follower0@example.org: 2 items" in output
    assert sorted(message["To"] for message in messages) == sorted(person.email for person in people)
    text = messages[0].get_body(preferencelist=("plain",)).get_content()
    assert "Member commented on" in text
    assert "Author commented on" in text
    assert f"{SITE}/comments/" in text
    assert f"{SITE}/unsubscribe/" in text
    assert messages[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    assert "Sent 0 digests with 0 items to 0 people." in run_cli(application)
    assert len(mailbox.messages) == 3

    comment_on_lesson(cast.member, "Third, after the digest.")
    assert "Sent 3 digests with 3 items to 3 people." in run_cli(application)
    assert len(mailbox.wait_for(6)) == 6


def test_people_with_the_digest_off_get_none_now_or_later(mailbox_app: tuple[Flask, Mailbox]):
    _application, mailbox = mailbox_app
    cast = make_cast()
    quiet, loud = followers(2)
    service.update_settings(quiet, {"digest": False})
    db.session.commit()
    comment_on_lesson(cast.member, "News.")

    report = digest.send_digests()
    assert (report.digests, report.items) == (1, 1)
    assert [message["To"] for message in mailbox.wait_for(1)] == [loud.email]
    waiting = db.session.scalar(select(Notification).where(Notification.user_id == quiet.id))
    assert waiting is not None
    assert waiting.digest_at is None  # not claimed by a run that mailed nothing
    assert quiet.id not in digest.people_waiting()

    service.update_settings(quiet, {"digest": True})
    db.session.commit()
    assert digest.send_digests().digests == 0  # turning it back on sends no backlog
    assert [item.kind for item in db.session.scalars(queries.shown_notifications(viewer_for(quiet)))] == ["follow"]
    comment_on_lesson(cast.member, "Later news.")
    assert digest.send_digests().digests == 2


def tell_published(person: User) -> None:
    """Tell `person` that the public lesson's findings were published (a topic of its own)."""
    telling.tell(
        [person], kind=NotificationKind.PUBLISHED, actor=None, message="Findings published", link=public_lesson().path
    )
    db.session.commit()


def test_topics_kept_for_the_digest_are_mailed_with_the_follows_digest_off(mailbox_app: tuple[Flask, Mailbox]):
    _application, mailbox = mailbox_app
    cast = make_cast()
    (person,) = followers(1)
    service.update_settings(person, {"digest": False})
    choices.update_choices(person, {"publication": Choice(in_app=False, delivery=MailDelivery.DIGEST)})
    db.session.commit()
    comment_on_lesson(cast.member, "A follow the switch keeps out.")
    tell_published(person)

    report = digest.send_digests()
    assert (report.digests, report.items) == (1, 1)
    (message,) = mailbox.wait_for(1)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Findings published" in text
    assert "commented on" not in text
    assert "Turn off the daily digest of what you follow:" in text
    assert "Topics you chose to put in your daily digest still come in it" in text
    items = db.session.scalars(select(Notification).where(Notification.user_id == person.id)).all()
    assert sorted((item.kind, item.digest_at is not None) for item in items) == [("follow", False), ("published", True)]


def test_the_digest_mail_unsubscribe_link_turns_off_only_the_follows_digest(mailbox_app: tuple[Flask, Mailbox]):
    application, mailbox = mailbox_app
    (person,) = followers(1)
    choices.update_choices(person, {"publication": Choice(in_app=True, delivery=MailDelivery.DIGEST)})
    db.session.commit()
    tell_published(person)
    digest.send_digests()
    (message,) = mailbox.wait_for(1)
    link = message["List-Unsubscribe"].strip("<>").removeprefix(SITE)
    assert application.test_client().post(link).status_code == 200

    assert queries.wants_mail(person.id, "digest") is False
    assert queries.choice_for(person.id, "publication").delivery == MailDelivery.DIGEST
    tell_published(person)
    assert digest.send_digests().digests == 1


def test_items_on_an_entry_hidden_since_are_not_sent(mailbox_app: tuple[Flask, Mailbox]):
    _application, mailbox = mailbox_app
    cast = make_cast()
    (person,) = followers(1)
    comment_on_lesson(cast.member, "Before hiding.")
    lesson = public_lesson()
    lesson.status = "hidden"
    db.session.commit()

    report = digest.send_digests()
    assert report.digests == 0
    assert mailbox.messages == []
    item = db.session.scalar(select(Notification).where(Notification.user_id == person.id))
    assert item is not None
    assert item.digest_at is None


def test_a_claim_takes_only_what_no_other_run_has_taken(seeded_app: Flask):
    cast = make_cast()
    (person,) = followers(1)
    comment_on_lesson(cast.member, "One.")
    comment_on_lesson(cast.author, "Two.")
    ids = digest.items_for(person)
    assert len(ids) == 2

    from kb.dates import utcnow

    first = digest.claim(ids[:1], utcnow())
    second = digest.claim(ids, utcnow())  # a run that collected both before the first claimed one
    db.session.commit()
    assert first == ids[:1]
    assert second == ids[1:]
    assert digest.claim(ids, utcnow()) == []


def test_two_runs_at_once_send_each_item_once(mailbox_app: tuple[Flask, Mailbox]):
    application, mailbox = mailbox_app
    cast = make_cast()
    emails = sorted(person.email for person in followers(8))
    comment_on_lesson(cast.member, "One.")
    comment_on_lesson(cast.author, "Two.")
    db.session.remove()
    reports: list[digest.DigestReport] = []
    start = threading.Barrier(2)

    def run() -> None:
        with application.app_context():
            start.wait()
            reports.append(digest.send_digests())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(reports) == 2
    reports.append(digest.send_digests())  # picks up anyone a busy database postponed
    assert sum(report.digests for report in reports) == 8
    assert sum(report.items for report in reports) == 16
    recipients = sorted(message["To"] for message in mailbox.wait_for(8))
    assert recipients == emails
    assert reports[2].digests == sum(report.postponed for report in reports[:2])
    assert digest.send_digests().digests == 0
    assert len(mailbox.messages) == 8


def test_a_refused_digest_is_reported_kept_in_the_outbox_and_sent_later_once(mailbox_app: tuple[Flask, Mailbox]):
    application, mailbox = mailbox_app
    cast = make_cast()
    (person,) = followers(1)
    comment_on_lesson(cast.member, "News.")
    working_port = application.config["SMTP_PORT"]
    application.config["SMTP_PORT"] = free_port()  # Nothing listens there: the mail server is down.

    result = application.test_cli_runner().invoke(args=["notify", "send-digest"])

    assert result.exit_code == 1
    assert "Sent 0 digests with 0 items to 0 people (1 could not be sent yet" in result.output
    assert "the digest waits in the mail outbox" in result.output
    assert digest.send_digests().failed == 0, "its items stay claimed: a second run queues no second digest"
    application.config["SMTP_PORT"] = working_port
    assert send_pending(wait=False).sent == 1
    (message,) = mailbox.wait_for(1)
    assert message["To"] == person.email
    assert "Your daily digest: 1 new comment" in message["Subject"]
    assert send_pending(wait=False).sent == 0
    assert len(mailbox.messages) == 1
