"""Notification pages, follow buttons, settings and one-click unsubscribe, with mail through real SMTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from kb.contributions import notices
from kb.entries.models import Entry, Review
from kb.extensions import db
from kb.notifications import queries, service
from kb.notifications.models import Notification
from kb.notifications.topics import TOPICS
from kb.taxonomy.models import Theme
from kb.users.models import User
from tests.accounts import Cast, csrf_token, login_as, make_cast, make_user, post_form
from tests.conftest import _in_context, make_app
from tests.services.test_notifications import add_comment, panel_entry, public_lesson
from tests.smtp import Mailbox, mail_settings, smtp_server

SITE = "https://kb.example.org"
HEADER_COUNT = re.compile(
    r'href="/notifications">Notifications(?: \((\d+)<span class="nhsuk-u-visually-hidden"> unread</span>\))?</a>'
)


@pytest.fixture
def mailbox_app(tmp_path: Path, seeded_database: Path) -> Iterator[tuple[Flask, Mailbox]]:
    """A seeded app whose mail goes to a real SMTP server on loopback."""
    with smtp_server() as (mailbox, port):
        application = make_app(tmp_path, seeded_database, SITE_URL=SITE, **mail_settings(port))
        for ready in _in_context(application):
            yield ready, mailbox


@pytest.fixture
def jane(seeded_app: Flask) -> User:
    return make_user("jane@example.org", name="Jane Smith")


def mention(author: User, body: str, entry: Entry | None = None) -> None:
    comment = add_comment(entry or public_lesson(), author, body)
    service.comment_posted(comment, actor=author)
    db.session.commit()


def header_count(client: FlaskClient) -> int | None:
    """The unread count the header shows on the home page; None when there is no notifications link."""
    match = HEADER_COUNT.search(client.get("/").get_data(as_text=True))
    if match is None:
        return None
    return int(match.group(1) or 0)


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def path_of(link: str) -> str:
    return urlsplit(link).path


# --- Mail and unsubscribing -------------------------------------------------------------------------


def test_a_mention_mail_arrives_and_its_unsubscribe_link_works_without_signing_in(mailbox_app):
    application, mailbox = mailbox_app
    cast = make_cast()
    jane = make_user("jane@example.org", name="Jane Smith")
    mention(cast.member, "What do you think, @jane-smith?")

    (message,) = mailbox.wait_for(1)
    assert message["To"] == "jane@example.org"
    assert message["Subject"].startswith("Member mentioned you in a comment on")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header_link = message["List-Unsubscribe"].strip("<>")
    links = mailbox.links_in(message)
    assert any(re.fullmatch(rf"{SITE}/comments/\d+", link) for link in links)
    (unsubscribe,) = [link for link in links if "/unsubscribe/" in link]
    assert unsubscribe == header_link
    assert unsubscribe.startswith(f"{SITE}/unsubscribe/")

    client = application.test_client()
    page = client.get(path_of(unsubscribe))
    assert page.status_code == 200
    asked = page.get_data(as_text=True)
    assert "<h1>Stop mail about mentions?</h1>" in asked
    assert "mail when someone mentions you" in asked
    form = re.search(
        r'<form method="post" action="([^"]+)">\s*<button[^>]*type="submit">Stop mail about mentions</button>', asked
    )
    assert form is not None
    assert form.group(1) == path_of(unsubscribe)
    assert queries.wants_mail(jane.id, "mentions") is True  # opening the link (or a scanner) changes nothing

    done = client.post(form.group(1))  # the button: no CSRF token, the signed token is the authority
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "You are unsubscribed" in text
    assert "mail when someone mentions you" in text
    assert queries.wants_mail(jane.id, "mentions") is False
    assert queries.wants_mail(jane.id, "replies") is True

    mention(cast.member, "Again, @jane-smith?")
    assert len(mailbox.messages) == 1  # nothing more was sent
    assert [n.mailed_at for n in db.session.scalars(select(Notification).order_by(Notification.id))][-1] is None

    undo = client.post(f"{path_of(unsubscribe)}/undo", data={"csrf_token": csrf_token(text)})
    assert undo.status_code == 200
    assert "Mail turned back on" in undo.get_data(as_text=True)
    assert queries.wants_mail(jane.id, "mentions") is True


def test_one_click_unsubscribe_by_post_needs_no_csrf_token(mailbox_app):
    application, mailbox = mailbox_app
    cast = make_cast()
    jane = make_user("jane@example.org", name="Jane Smith")
    mention(cast.member, "@jane-smith")
    (message,) = mailbox.wait_for(1)
    target = path_of(message["List-Unsubscribe"].strip("<>"))

    client = application.test_client()
    for _scan in range(2):  # link scanners open the link, sometimes more than once
        assert client.get(target).status_code == 200
    assert queries.wants_mail(jane.id, "mentions") is True

    response = client.post(target, data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert queries.wants_mail(jane.id, "mentions") is False


def test_a_tampered_unsubscribe_link_is_refused_and_changes_nothing(mailbox_app):
    application, mailbox = mailbox_app
    cast = make_cast()
    jane = make_user("jane@example.org", name="Jane Smith")
    mention(cast.member, "@jane-smith")
    (message,) = mailbox.wait_for(1)
    target = path_of(message["List-Unsubscribe"].strip("<>"))
    client = application.test_client()

    for bad in (target[:-3] + ("AAA" if not target.endswith("AAA") else "BBB"), "/unsubscribe/nonsense"):
        response = client.get(bad)
        assert response.status_code == 404
        assert "This unsubscribe link does not work" in response.get_data(as_text=True)
        refused = client.post(bad, data={"List-Unsubscribe": "One-Click"})
        assert refused.status_code == 404
        assert "This unsubscribe link does not work" in refused.get_data(as_text=True)
    assert queries.wants_mail(jane.id, "mentions") is True


def test_a_moderation_decision_is_mailed_with_an_unsubscribe_link_for_moderation_mail(mailbox_app):
    application, mailbox = mailbox_app
    cast = make_cast()
    lesson = public_lesson()
    comment = add_comment(lesson, cast.member, "Something to hide.")
    comment.status = "hidden"
    service.moderation_decided(
        cast.member, entry=lesson, comment=comment, message="Your comment was hidden: off-topic.", actor=cast.moderator
    )
    db.session.commit()

    (message,) = mailbox.wait_for(1)
    assert message["To"] == cast.member.email
    assert "Your comment was hidden: off-topic." in text_of(message)
    (unsubscribe,) = [link for link in mailbox.links_in(message) if "/unsubscribe/" in link]
    client = application.test_client()
    page = client.get(path_of(unsubscribe)).get_data(as_text=True)
    assert "<h1>Stop mail about moderation?</h1>" in page
    assert "mail about moderation decisions" in page
    assert queries.wants_mail(cast.member.id, "moderation") is True
    assert "mail about moderation decisions" in client.post(path_of(unsubscribe)).get_data(as_text=True)
    assert queries.wants_mail(cast.member.id, "moderation") is False
    assert queries.wants_mail(cast.member.id, "mentions") is True


def test_contribution_decision_mail_carries_the_unsubscribe_link_and_respects_the_switch(mailbox_app):
    application, mailbox = mailbox_app
    cast = make_cast()
    lesson = public_lesson()
    lesson.author_id = cast.author.id
    db.session.commit()

    assert notices.tell_published(lesson, actor=cast.moderator) is True
    db.session.commit()
    (message,) = mailbox.wait_for(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    (unsubscribe,) = [link for link in mailbox.links_in(message) if "/unsubscribe/" in link]
    client = application.test_client()
    assert client.get(path_of(unsubscribe)).status_code == 200
    assert client.post(path_of(unsubscribe)).status_code == 200

    assert notices.tell_returned(lesson, actor=cast.moderator, reason="Needs sources.") is False
    db.session.commit()
    assert len(mailbox.messages) == 1


# --- The notifications page and the header count ------------------------------------------------


def test_notifications_need_signing_in(client: FlaskClient):
    response = client.get("/notifications")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert header_count(client) is None


def test_the_list_is_newest_first_and_the_header_counts_unread(client: FlaskClient, cast: Cast, jane: User, sent):
    lesson = public_lesson()
    mention(cast.member, "First @jane-smith", lesson)
    mention(cast.author, "Second @jane-smith", lesson)
    login_as(client, jane)

    assert header_count(client) == 2
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index("Author mentioned you") < page.index("Member mentioned you")
    assert page.count("kb-notification--unread") == 2

    newest = db.session.scalars(
        select(Notification).where(Notification.user_id == jane.id).order_by(Notification.id.desc())
    ).first()
    response = post_form(client, f"/notifications/{newest.id}/read", {}, page="/notifications")
    assert response.status_code == 303
    assert header_count(client) == 1
    assert client.get("/notifications").get_data(as_text=True).count("kb-notification--unread") == 1

    response = post_form(client, "/notifications/read-all", {}, page="/notifications", follow_redirects=True)
    assert "Marked 1 notification as read." in response.get_data(as_text=True)
    assert header_count(client) == 0


def test_marking_read_needs_a_csrf_token_and_ones_own_notification(client: FlaskClient, cast: Cast, jane: User, sent):
    mention(cast.member, "Hi @jane-smith")
    item = db.session.scalar(select(Notification).where(Notification.user_id == jane.id))
    login_as(client, jane)
    assert client.post(f"/notifications/{item.id}/read").status_code == 400
    login_as(client, cast.author)
    assert post_form(client, f"/notifications/{item.id}/read", {}, page="/notifications").status_code == 404
    db.session.refresh(item)
    assert item.read_at is None


def test_the_list_pages(client: FlaskClient, cast: Cast, jane: User, sent):
    lesson = public_lesson()
    for number in range(23):
        mention(cast.member, f"Number {number} for @jane-smith", lesson)
    login_as(client, jane)
    assert client.get("/notifications").get_data(as_text=True).count("kb-notification--unread") == 20
    second = client.get("/notifications?page=2").get_data(as_text=True)
    assert second.count("kb-notification--unread") == 3
    assert header_count(client) == 23


def test_hiding_the_entry_removes_its_notifications_from_the_page_and_the_count(
    client: FlaskClient, cast: Cast, jane: User, sent
):
    lesson = public_lesson()
    mention(cast.member, "About this, @jane-smith", lesson)
    login_as(client, jane)
    assert header_count(client) == 1
    shown_title = str(escape(lesson.title))  # as the page prints it: a title may hold quotation marks
    assert shown_title in client.get("/notifications").get_data(as_text=True)

    lesson.status = "hidden"
    db.session.commit()

    assert header_count(client) == 0
    page = client.get("/notifications").get_data(as_text=True)
    assert shown_title not in page
    assert "You have no notifications yet" in page


# --- Following ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["lesson", "review", "theme"])
def test_follow_and_unfollow_buttons(client: FlaskClient, cast: Cast, which: str):
    lesson = public_lesson()
    if which == "lesson":
        path, target = lesson.path, ("entry", lesson.id)
    elif which == "review":
        review = db.session.scalar(select(Review).where(Review.visibility == "public").order_by(Review.id))
        path, target = review.path, ("review", review.id)
    else:
        theme = db.session.get(Theme, next(tag.theme_id for tag in lesson.tags if tag.theme_id))
        path, target = f"/themes/{theme.slug}", ("theme", theme.id)
    assert "Follow<span" not in client.get(path).get_data(as_text=True)  # signed out: no button

    login_as(client, cast.member)
    page = client.get(path).get_data(as_text=True)
    assert f'action="/follow/{target[0]}/{target[1]}"' in page
    response = post_form(client, f"/follow/{target[0]}/{target[1]}", {"next": path}, page=path)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(path)
    assert queries.find_follow(cast.member.id, *target) is not None
    page = client.get(path).get_data(as_text=True)
    assert f'action="/unfollow/{target[0]}/{target[1]}"' in page

    settings = client.get("/account/notifications").get_data(as_text=True)
    assert f'action="/unfollow/{target[0]}/{target[1]}"' in settings
    response = post_form(client, f"/unfollow/{target[0]}/{target[1]}", {}, page="/account/notifications")
    assert response.status_code == 303
    assert queries.find_follow(cast.member.id, *target) is None


def test_following_what_one_cannot_see_answers_404(client: FlaskClient, cast: Cast):
    hidden = panel_entry()
    login_as(client, cast.member)
    response = post_form(client, f"/follow/entry/{hidden.id}", {}, page="/account/notifications")
    assert response.status_code == 404
    assert queries.find_follow(cast.member.id, "entry", hidden.id) is None
    assert client.post(f"/follow/entry/{public_lesson().id}").status_code == 400  # no CSRF token


# --- Settings --------------------------------------------------------------------------------------


def test_settings_are_shown_and_saved(client: FlaskClient, cast: Cast):
    login_as(client, cast.member)
    page = client.get("/account/notifications").get_data(as_text=True)
    topics = len(TOPICS)
    assert page.count('type="checkbox"') == 4 + topics
    assert page.count('type="radio"') == 3 * topics
    assert page.count("checked") == 4 + 2 * topics  # each topic: in the app, mailed at once

    unchanged = {f"{topic.key}_mail": "none" for topic in TOPICS}
    response = post_form(client, "/account/notifications", {"mentions": "y", "digest": "y", **unchanged})
    assert response.status_code == 303
    assert [queries.wants_mail(cast.member.id, c) for c in ("mentions", "replies", "moderation", "digest")] == [
        True,
        False,
        False,
        True,
    ]
    assert client.get("/account/notifications").get_data(as_text=True).count("checked") == 2 + topics


def test_settings_without_a_csrf_token_change_nothing(client: FlaskClient, cast: Cast):
    login_as(client, cast.member)
    response = client.post("/account/notifications", data={"mentions": "y"})
    assert response.status_code == 400
    assert queries.wants_mail(cast.member.id, "digest") is True


def test_the_account_page_links_to_the_settings(client: FlaskClient, cast: Cast):
    login_as(client, cast.member)
    assert 'href="/account/notifications"' in client.get("/account").get_data(as_text=True)
