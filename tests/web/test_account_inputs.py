"""Addresses and names wherever they enter: validated, look-alikes refused, one line; mail survives old bad names."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from kb.extensions import db
from kb.mail import Mail, queue_mail
from kb.mail.messages import header_line
from kb.users import identity, service
from kb.users.models import Organisation, User
from tests.accounts import Cast, login_as, make_user, page_text, post_form
from tests.conftest import _in_context, make_app
from tests.smtp import Mailbox, mail_settings, smtp_server

INVITE = {"display_name": "New Person", "organisation": "", "role": "member"}


def users_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(User.id))) or 0


def invite(client: FlaskClient, **fields: str):
    return post_form(client, "/admin/users", {**INVITE, **fields})


@pytest.fixture
def admin(client: FlaskClient, cast: Cast) -> FlaskClient:
    return login_as(client, cast.admin)


# --- Addresses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("new.person@example.org\r\nBcc: x@example.org", "not allowed: U+000D"),
        ("new\u200bperson@example.org", "invisible"),
        ("new\u202eperson@example.org", "not allowed"),
        ("new person@example.org", "Enter an email address like name@example.org."),
        ("new.person@localhost", "Enter an email address like name@example.org."),
        ("new.person@exa_mple.org", "Enter an email address like name@example.org."),
    ],
)
def test_an_invitation_refuses_a_bad_address_and_keeps_what_was_typed(
    admin: FlaskClient, sent: list, email: str, message: str
) -> None:
    before = users_count()
    response = invite(admin, email=email)
    assert response.status_code == 400
    page = page_text(response)
    assert message in page or "not allowed" in page
    assert 'value="New Person"' in page  # the name typed is kept
    assert users_count() == before
    assert sent == []


@pytest.mark.parametrize(
    "look_alike",
    [
        "m\u0435mber@example.org",  # Cyrillic е
        "member@\u0435xample.org",  # Cyrillic е in the domain (IDNA)
        "MEMBER@example.org",  # the same address, in capitals
        "m\u03b5mber@example.org",  # Greek ε
        "member@examp1e.org",  # digit one for l
        "\uff4d\uff45\uff4d\uff42\uff45\uff52@example.org",  # full-width letters (NFKC)
    ],
)
def test_an_invitation_refuses_a_look_alike_of_an_existing_address(
    admin: FlaskClient, sent: list, look_alike: str
) -> None:
    before = users_count()
    response = invite(admin, email=look_alike)
    assert response.status_code == 400
    page = page_text(response)
    assert "looks the same as the address of an existing account, member@example.org" in page or (
        "There is already an account" in page
    )
    assert users_count() == before


def test_an_internationalised_address_is_accepted_and_stored_normalised(admin: FlaskClient, sent: list) -> None:
    response = invite(admin, email="  Zoë@Bücher.Example  ")
    assert response.status_code == 302
    stored = db.session.scalar(select(User.email).where(User.display_name == "New Person"))
    assert stored == "Zoë@bücher.example"
    assert [mail.to for mail in sent] == ["Zoë@bücher.example"]


def test_the_cli_refuses_a_bad_or_look_alike_address(seeded_app: Flask) -> None:
    make_user("boss@example.org")
    runner = seeded_app.test_cli_runner()
    for email in ("b\u043ess@example.org", "boss@example.org\n", "new\u200b@example.org"):
        result = runner.invoke(args=["users", "create-admin", email])
        assert result.exit_code != 0, email
        assert "Error" in result.output
    result = runner.invoke(args=["users", "create-admin", "chief@example.org", "--name", "Chief\r\nBcc: x"])
    assert result.exit_code != 0
    assert "must be on one line" in result.output
    assert users_count() == 1


@pytest.mark.parametrize(
    ("email", "skeleton_of"),
    [
        ("раураl@example.org", "paypal@example.org"),  # Cyrillic р, а, у
        ("ΑLICE@example.org", "alice@example.org"),  # Greek capital alpha
        ("a\u200blice@example.org", "alice@example.org"),
        ("ａｌｉｃｅ@example.org", "alice@example.org"),
    ],
)
def test_look_alikes_share_a_skeleton(email: str, skeleton_of: str) -> None:
    assert identity.skeleton(email) == identity.skeleton(skeleton_of)


def test_different_addresses_have_different_skeletons() -> None:
    assert identity.look_alike("alicia@example.org", ["alice@example.org", "bob@example.org"]) is None


@pytest.mark.parametrize("bad", ["a\x00b@example.org", "ab@example.org\x7f", "a\u2066b@example.org"])
def test_controls_and_invisible_characters_are_named_in_the_message(bad: str) -> None:
    with pytest.raises(identity.IdentityError, match=r"U\+"):
        identity.check_email(bad)


# --- Names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Mallory\r\nBcc: victim@example.org", "The name must be on one line: remove the line break."),
        ("Mallory\nSmith", "The name must be on one line: remove the line break."),
        ("Mal\u200blory", "The name contains an invisible character (U+200B (ZERO WIDTH SPACE)); remove it."),
        ("Mal\u202elory", "The name contains an invisible character"),
    ],
)
def test_an_invitation_refuses_a_name_that_is_not_one_clean_line(
    admin: FlaskClient, sent: list, name: str, message: str
) -> None:
    before = users_count()
    response = invite(admin, email="new.person@example.org", display_name=name)
    assert response.status_code == 400
    page = page_text(response)
    assert message in page or "not allowed" in page
    assert 'value="new.person@example.org"' in page
    assert users_count() == before


@pytest.mark.parametrize("name", ["Acme\r\nHealth", "Acme\u200b Health", "Acme\tHealth\x0b"])
def test_an_organisation_name_must_be_one_clean_line(admin: FlaskClient, name: str) -> None:
    response = post_form(admin, "/admin/organisations", {"name": name, "org_type": "provider", "region": ""})
    assert response.status_code == 400
    page = page_text(response)
    # A control character is refused by the request doorway before the form sees it.
    assert "The organisation's name" in page or "cannot accept the character" in page
    assert db.session.scalar(select(Organisation).where(Organisation.name.like("Acme%"))) is None


def test_the_service_refuses_a_bad_organisation_name_too(cast: Cast) -> None:
    with pytest.raises(service.AccountError, match="one line") as refused:
        service.save_organisation(None, name="Acme\nHealth", type_="provider", region=None, actor=cast.admin)
    assert refused.value.field == "name"


# --- Mail with a name stored before names were checked ------------------------------------


def test_header_line_folds_line_breaks_controls_and_invisible_characters() -> None:
    assert (
        header_line("Mallory\r\nBcc: victim@example.org\x00 replied\u200b") == "Mallory Bcc: victim@example.org replied"
    )


def test_a_stored_name_with_a_line_break_no_longer_stops_mail(tmp_path, seeded_database) -> None:
    with smtp_server() as (mailbox, port):
        application = make_app(tmp_path, seeded_database, **mail_settings(port))
        for _ in _in_context(application):
            writer = make_user("writer@example.org", name="Mallory\r\nBcc: victim@example.org")
            queue_mail(Mail(to="reader@example.org", subject=f"{writer.display_name} replied to you", body="Hello\n"))
            db.session.commit()
            (message,) = Mailbox.wait_for(mailbox, 1)
            assert message["Subject"] == "Mallory Bcc: victim@example.org replied to you"
            assert message["Bcc"] is None
            assert message["To"] == "reader@example.org"
