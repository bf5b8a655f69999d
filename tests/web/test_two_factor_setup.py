"""Setting up an authenticator app: the secret stays on the server, never in the (signed, readable) session cookie."""

from __future__ import annotations

import datetime as dt

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from kb.dates import utcnow
from kb.extensions import db
from kb.users import two_factor
from kb.users.models import PendingSecondFactor, User
from tests.accounts import make_user, post_form, sign_in

PASSPHRASE = "a long moderator passphrase"


def session_of(application: Flask, client: FlaskClient) -> dict:
    """The Flask session cookie's content, decoded as anyone holding the cookie can."""
    cookie = client.get_cookie(application.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    serializer = application.session_interface.get_signing_serializer(application)  # type: ignore[attr-defined]
    return serializer.loads(cookie.value)


def secret_on(page: TestResponse) -> str:
    return page.get_data(as_text=True).split('class="kb-secret">', 1)[1].split("<", 1)[0]


def set_cookies(response: TestResponse) -> str:
    return " ".join(response.headers.getlist("Set-Cookie"))


def new_moderator(application: Flask) -> tuple[User, FlaskClient]:
    moderator = make_user("moderator@example.org", role="moderator", password=PASSPHRASE)
    moderator.totp_secret = None
    db.session.commit()
    client = application.test_client()
    assert sign_in(client, "moderator@example.org", PASSPHRASE).status_code == 302
    return moderator, client


def test_the_pending_secret_never_travels_in_the_session_cookie(seeded_app: Flask) -> None:
    moderator, client = new_moderator(seeded_app)
    page = client.get("/account/two-factor")
    secret = secret_on(page)
    assert len(secret) >= 16
    assert secret not in set_cookies(page)
    content = session_of(seeded_app, client)
    assert secret not in repr(content)
    assert "totp_secret_pending" not in content
    (pending,) = db.session.scalars(select(PendingSecondFactor)).all()
    assert pending.secret == secret
    assert content["totp_setup"] == pending.id
    assert pending.user_id == moderator.id

    # The page shows the same secret again while it is being set up.
    again = client.get("/account/two-factor")
    assert secret_on(again) == secret
    assert secret not in set_cookies(again)

    wrong = post_form(client, "/account/two-factor", {"code": "000000"})
    assert wrong.status_code == 400
    assert secret not in set_cookies(wrong)

    done = post_form(client, "/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    assert "recovery codes" in done.get_data(as_text=True)
    assert secret not in set_cookies(done)
    assert "totp_setup" not in session_of(seeded_app, client)
    db.session.expire_all()
    assert db.session.get(User, moderator.id).totp_secret == secret
    assert db.session.scalars(select(PendingSecondFactor)).all() == []
    assert client.get("/lessons").status_code == 200


def test_an_expired_set_up_is_replaced_by_a_new_secret(seeded_app: Flask) -> None:
    _moderator, client = new_moderator(seeded_app)
    first = secret_on(client.get("/account/two-factor"))
    db.session.execute(update(PendingSecondFactor).values(expires_at=utcnow() - dt.timedelta(minutes=1)))
    db.session.commit()
    late = post_form(client, "/account/two-factor", {"code": pyotp.TOTP(first).now()})
    assert late.status_code == 400  # the expired secret is gone: a new one is shown
    second = secret_on(late)
    assert second != first
    assert [row.secret for row in db.session.scalars(select(PendingSecondFactor))] == [second]


def test_a_set_up_id_from_someone_elses_session_is_not_theirs(seeded_app: Flask) -> None:
    _moderator, client = new_moderator(seeded_app)
    secret_on(client.get("/account/two-factor"))
    stolen_id = session_of(seeded_app, client)["totp_setup"]
    other = make_user("other@example.org")
    pending = two_factor.pending_second_factor(other, stolen_id)
    assert pending.id != stolen_id
    assert pending.user_id == other.id
