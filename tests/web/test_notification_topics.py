"""The topic choices on the settings page, and a topic's mail unsubscribed through its link, over real SMTP."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from kb.extensions import db
from kb.notifications import choices, queries, service
from kb.notifications.tokens import make_unsubscribe_token
from kb.notifications.topics import TOPICS, Choice
from kb.panels.service import FindingText, create_finding
from kb.states import MailDelivery
from tests.accounts import Cast, csrf_token, login_as, make_cast, make_user, post_form
from tests.web.test_notifications import mailbox_app  # noqa: F401 - the fixture


def chosen_radio(page: str, name: str) -> str | None:
    """The value of the checked radio button called `name` on the page."""
    found = re.search(
        rf'<input checked class="nhsuk-radios__input" id="{name}-\d" name="{name}" type="radio" value="(\w+)">', page
    )
    return found.group(1) if found else None


ALL_DEFAULT = {f"{topic.key}_app": "y" for topic in TOPICS} | {f"{topic.key}_mail": "now" for topic in TOPICS}


def test_each_topic_is_shown_with_its_choices_and_saved(client: FlaskClient, cast: Cast):
    login_as(client, cast.member)
    page = client.get("/account/notifications").get_data(as_text=True)
    for topic in TOPICS:
        assert f'<h3 class="nhsuk-fieldset__heading">{topic.label}</h3>' in page
        assert chosen_radio(page, f"{topic.key}_mail") == "now"
    assert "Put it in my daily digest" in page

    chosen = ALL_DEFAULT | {"panel_work_mail": "digest", "receipts_mail": "none"}
    del chosen["agreement_lost_app"]
    response = post_form(client, "/account/notifications", {"mentions": "y", **chosen})
    assert response.status_code == 303
    saved = queries.choices_for(cast.member.id)
    assert saved["panel_work"] == Choice(in_app=True, delivery=MailDelivery.DIGEST)
    assert saved["receipts"] == Choice(in_app=True, delivery=MailDelivery.NONE)
    assert saved["agreement_lost"] == Choice(in_app=False, delivery=MailDelivery.NOW)
    assert saved["publication"] == Choice()
    page = client.get("/account/notifications").get_data(as_text=True)
    assert chosen_radio(page, "panel_work_mail") == "digest"


def test_a_choice_not_offered_is_refused_in_the_one_error_pattern_keeping_the_rest(client: FlaskClient, cast: Cast):
    login_as(client, cast.member)
    chosen = ALL_DEFAULT | {"publication_mail": "sometimes", "receipts_mail": "none"}
    response = post_form(client, "/account/notifications", chosen)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<title>Error: Notification settings" in page
    assert '<a href="#publication_mail">Choose how to be mailed about publication and corrections.</a>' in page
    assert chosen_radio(page, "receipts_mail") == "none"  # what was chosen is kept
    assert queries.choices_for(cast.member.id)["receipts"] == Choice()  # nothing saved


def test_a_topic_mail_unsubscribes_that_topic_only_and_keeps_it_in_the_app(mailbox_app):  # noqa: F811
    application, mailbox = mailbox_app
    cast = make_cast()
    second = make_user("second-panel@example.org", panels=(cast.review,))
    create_finding(cast.review, FindingText("A finding", "Its text.", ""), actor=cast.panel)
    db.session.commit()

    (message,) = mailbox.wait_for(1)
    assert message["To"] == second.email
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "mail about your panel's findings: new ones, proposals and agreements" in text
    link = message["List-Unsubscribe"].strip("<>")
    path = urlsplit(link).path

    client = application.test_client()
    asked = client.get(path).get_data(as_text=True)
    assert re.search(r"<h1>Stop mail about panel work: new findings, proposals, agreements\?</h1>", asked)
    assert client.post(path).status_code == 200
    assert queries.choice_for(second.id, "panel_work") == Choice(in_app=True, delivery=MailDelivery.NONE)
    assert queries.choice_for(second.id, "agreement_lost") == Choice()
    assert queries.wants_mail(second.id, "replies") is True


def undo_address(page: str) -> str:
    """Where the unsubscribed page's "Turn it back on" button posts."""
    found = re.search(r'<form method="post" action="(/unsubscribe/[^"]+/undo)">', page)
    assert found is not None
    return found.group(1)


def test_undoing_a_topic_unsubscribe_puts_back_the_digest_it_was_in(client: FlaskClient, cast: Cast):
    choices.update_choices(cast.member, {"publication": Choice(in_app=False, delivery=MailDelivery.DIGEST)})
    db.session.commit()
    token = make_unsubscribe_token(client.application.config["SECRET_KEY"], cast.member.id, "publication")

    done = client.post(f"/unsubscribe/{token}").get_data(as_text=True)
    assert queries.choice_for(cast.member.id, "publication") == Choice(in_app=False, delivery=MailDelivery.NONE)
    assert client.post(undo_address(done), data={"csrf_token": csrf_token(done)}).status_code == 200
    assert queries.choice_for(cast.member.id, "publication") == Choice(in_app=False, delivery=MailDelivery.DIGEST)

    # A topic mailed at once goes back to at once.
    choices.update_choices(cast.member, {"publication": Choice(delivery=MailDelivery.NOW)})
    db.session.commit()
    done = client.post(f"/unsubscribe/{token}").get_data(as_text=True)
    client.post(undo_address(done), data={"csrf_token": csrf_token(done)})
    assert queries.choice_for(cast.member.id, "publication") == Choice(delivery=MailDelivery.NOW)


def test_a_person_who_never_chose_has_topics_quiet_where_their_older_switches_are_off(client: FlaskClient, cast: Cast):
    service.update_settings(cast.member, {"mentions": False})
    db.session.commit()
    quiet = Choice(in_app=True, delivery=MailDelivery.NONE)
    assert queries.choice_for(cast.member.id, "finding_talk") == quiet
    assert queries.choice_for(cast.member.id, "panel_work") == Choice()
    service.update_settings(cast.member, {"mentions": True, "replies": False})
    db.session.commit()
    found = queries.choices_for(cast.member.id)
    assert found == {topic.key: Choice() if topic.key == "finding_talk" else quiet for topic in TOPICS}
    assert queries.wants_mail(cast.member.id, "receipts") is False

    login_as(client, cast.member)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert chosen_radio(page, "receipts_mail") == "none"
    assert chosen_radio(page, "finding_talk_mail") == "now"
