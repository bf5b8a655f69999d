"""Signing in and out, invitations and resets through real SMTP, sessions, throttling, second factors."""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
import trustme
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from kb.audit.models import AuditEvent
from kb.entries.models import Entry
from kb.extensions import db
from kb.users import demo, service, two_factor
from kb.users.models import User
from tests.accounts import PASSWORD, csrf_token, current_code, login_as, make_user, post_form, sign_in
from tests.conftest import _in_context, make_app
from tests.smtp import Mailbox, mail_settings, smtp_server

SITE = "https://kb.example.org"
CSRF_VALUE = re.compile(r'name="csrf_token"[^>]*value="[^"]*"')


@pytest.fixture
def mailbox_app(tmp_path: Path, seeded_database: Path) -> Iterator[tuple[Flask, Mailbox]]:
    """A seeded app whose mail goes to a real SMTP server on loopback."""
    with smtp_server() as (mailbox, port):
        application = make_app(tmp_path, seeded_database, SITE_URL=SITE, **mail_settings(port))
        for ready in _in_context(application):
            yield ready, mailbox


def _path_of(link: str) -> str:
    parts = urlsplit(link)
    return parts.path


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _comparable(page: str, email_prefix: str) -> str:
    """A page with the typed email and the CSRF token (which carries a timestamp) blanked out."""
    return CSRF_VALUE.sub("csrf", page.replace(email_prefix, "X@"))


def _signed_in_as(client: FlaskClient) -> str | None:
    response = client.get("/account")
    if response.status_code != 200:
        return None
    text = response.get_data(as_text=True)
    start = text.index('<dt class="nhsuk-summary-list__key">Email</dt>')
    return text[start:].split('nhsuk-summary-list__value">', 1)[1].split("<", 1)[0]


# Invitations and resets, through a real SMTP server


def test_invitation_arrives_by_smtp_and_its_link_works_once(mailbox_app: tuple[Flask, Mailbox]) -> None:
    application, mailbox = mailbox_app
    admin = make_user("admin@example.org", role="admin")
    service.invite_user("New.Person@Example.org", "New Person", role="member", organisation=None, actor=admin)
    db.session.commit()

    (message,) = mailbox.wait_for(1)
    assert message["To"] == "New.Person@example.org"  # stored as email-validator normalises it: domain in lower case
    assert mailbox.logins == ["kb-mailer"]
    (link,) = mailbox.links_in(message)
    assert link.startswith(f"{SITE}/account/invite/")

    client = application.test_client()
    assert "Choose your password" in client.get(_path_of(link)).get_data(as_text=True)
    weak = post_form(client, _path_of(link), {"password": "password1", "confirm": "password1"})
    assert weak.status_code == 400
    assert "most common passwords" in weak.get_data(as_text=True)
    done = post_form(client, _path_of(link), {"password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302

    reused = client.get(_path_of(link))
    assert reused.status_code == 410
    assert "already been used" in reused.get_data(as_text=True)
    assert sign_in(client, "new.person@example.org").status_code == 302
    assert _signed_in_as(client) == "New.Person@example.org"
    assert [event.target_label for event in _events("invite.accept")] == ["New.Person@example.org"]


def test_reset_link_uses_the_site_address_not_the_host_header(mailbox_app: tuple[Flask, Mailbox]) -> None:
    application, mailbox = mailbox_app
    make_user("member@example.org")
    client = application.test_client()
    page = client.get("/account/reset", headers={"Host": "evil.example"})
    response = client.post(
        "/account/reset",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "email": "MEMBER@example.org"},
        headers={"Host": "evil.example"},
    )
    assert response.status_code == 200
    (message,) = mailbox.wait_for(1)
    (link,) = mailbox.links_in(message)
    assert link.startswith(f"{SITE}/account/reset/")
    assert "evil.example" not in message.get_body(preferencelist=("plain",)).get_content()


def test_reset_for_an_unknown_email_sends_nothing_and_says_the_same(mailbox_app: tuple[Flask, Mailbox]) -> None:
    application, mailbox = mailbox_app
    make_user("member@example.org")
    client = application.test_client()
    known = post_form(client, "/account/reset", {"email": "member@example.org"}).get_data(as_text=True)
    unknown = post_form(client, "/account/reset", {"email": "nobody@example.org"}).get_data(as_text=True)
    mailbox.wait_for(1)
    time.sleep(0.2)
    assert len(mailbox.messages) == 1
    assert _comparable(known, "member@") == _comparable(unknown, "nobody@")


def test_reset_does_the_same_work_for_known_and_unknown_addresses_and_mails_after_the_answer(
    seeded_app: Flask, sent: list
) -> None:
    make_user("member@example.org")
    client = seeded_app.test_client()
    writes: list[str] = []

    def count(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            writes.append(statement.split()[2].strip('"'))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        known = post_form(client, "/account/reset", {"email": "member@example.org"}, buffered=False)
        assert sent == []  # the answer is ready before any mail is sent
        known.close()  # the server has sent it: now the mail goes
        assert [mail.to for mail in sent] == ["member@example.org"]
        known_writes, writes[:] = list(writes), []
        post_form(client, "/account/reset", {"email": "nobody@example.org"})
        unknown_writes = list(writes)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert "audit_events" in known_writes
    assert unknown_writes == ["audit_events"]  # the same audit row, for the unknown address
    assert len(sent) == 1
    events = _events("password.reset-request")
    assert [event.target_label for event in events] == [
        "member@example.org",
        service.unknown_address_label("nobody@example.org"),
    ]
    assert "nobody" not in events[1].target_label, "a stranger's typed address is not kept"


def test_reset_link_works_once_and_ends_other_sessions(mailbox_app: tuple[Flask, Mailbox]) -> None:
    application, mailbox = mailbox_app
    user = make_user("member@example.org")
    elsewhere = login_as(application.test_client(), user)
    assert _signed_in_as(elsewhere) == "member@example.org"

    client = application.test_client()
    post_form(client, "/account/reset", {"email": "member@example.org"})
    (link,) = mailbox.links_in(mailbox.wait_for(1)[0])
    new_password = "a brand new passphrase"
    assert post_form(client, _path_of(link), {"password": new_password, "confirm": new_password}).status_code == 302
    assert client.get(_path_of(link)).status_code == 410
    assert _signed_in_as(elsewhere) is None
    assert sign_in(client, "member@example.org", PASSWORD).status_code == 401
    assert sign_in(client, "member@example.org", new_password).status_code == 302


def test_reset_link_expires_within_the_hour(
    mailbox_app: tuple[Flask, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    application, mailbox = mailbox_app
    make_user("member@example.org")
    client = application.test_client()
    post_form(client, "/account/reset", {"email": "member@example.org"})
    (link,) = mailbox.links_in(mailbox.wait_for(1)[0])
    assert client.get(_path_of(link)).status_code == 200
    later = time.time() + 3601
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    expired = client.get(_path_of(link))
    assert expired.status_code == 410
    assert "expired" in expired.get_data(as_text=True)


def test_a_tampered_link_is_refused_clearly(client: FlaskClient) -> None:
    response = client.get("/account/reset/not-a-real-token")
    assert response.status_code == 410
    assert "not valid" in response.get_data(as_text=True)


# Signing in


def test_wrong_password_and_unknown_email_get_the_same_answer(
    seeded_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user("member@example.org")
    checks: list[str] = []
    import kb.users.passwords as passwords

    real_check = passwords.check_password_hash
    monkeypatch.setattr(passwords, "check_password_hash", lambda h, p: checks.append(h[:6]) or real_check(h, p))
    client = seeded_app.test_client()
    wrong = sign_in(client, "member@example.org", "not the password at all")
    unknown = sign_in(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "The email address or password is not right." in wrong.get_data(as_text=True)
    assert _comparable(wrong.get_data(as_text=True), "member@") == _comparable(
        unknown.get_data(as_text=True), "nobody@"
    )
    # Each attempt costs exactly one scrypt check, so timing does not tell them apart.
    assert checks == ["scrypt", "scrypt"]
    failures = _events("login.failure")
    assert [event.target_label for event in failures] == ["member@example.org", "nobody@example.org"]
    assert all(event.address == "127.0.0.1" for event in failures)


def test_sign_in_and_out(seeded_app: Flask) -> None:
    make_user("Member@Example.org")
    client = seeded_app.test_client()
    response = sign_in(client, "member@EXAMPLE.org")
    assert response.status_code == 302
    assert _signed_in_as(client) == "Member@Example.org"
    assert [event.actor_label for event in _events("login.success")] == ["Member <Member@Example.org>"]
    home = client.get("/").get_data(as_text=True)
    assert "Sign out" in home
    out = post_form(client, "/logout", {}, page="/")
    assert out.status_code == 302
    assert _signed_in_as(client) is None


def test_session_cookie_content_is_replaced_at_sign_in(seeded_app: Flask) -> None:
    make_user("member@example.org")
    client = seeded_app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(client, "member@example.org")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/lessons?tag=x", "/lessons?tag=x"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_only_leads_to_same_site_paths(seeded_app: Flask, target: str, expected: str) -> None:
    make_user("member@example.org")
    client = seeded_app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"csrf_token": token, "email": "member@example.org", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_a_deactivated_account_cannot_sign_in(seeded_app: Flask) -> None:
    make_user("gone@example.org", active=False)
    response = sign_in(seeded_app.test_client(), "gone@example.org")
    assert response.status_code == 401


# CSRF


def test_a_form_without_its_csrf_token_is_refused_and_keeps_what_was_typed(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": "someone@example.org", "password": "secret words here"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Your form was not sent" in text
    assert "someone@example.org" in text
    assert "secret words here" not in text


def test_sign_out_needs_the_csrf_token(seeded_app: Flask) -> None:
    user = make_user("member@example.org")
    client = login_as(seeded_app.test_client(), user)
    assert client.post("/logout").status_code == 400
    assert _signed_in_as(client) == "member@example.org"
    assert client.get("/logout").status_code == 405


# Sessions end at once, for copied cookies too


def _copied(application: Flask, source: FlaskClient, *names: str) -> FlaskClient:
    copy = application.test_client()
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        copy.set_cookie(name, cookie.value)
    return copy


def test_a_copied_session_cookie_dies_at_sign_out(seeded_app: Flask) -> None:
    make_user("member@example.org")
    client = seeded_app.test_client()
    sign_in(client, "member@example.org")
    thief = _copied(seeded_app, client, "session")
    assert _signed_in_as(thief) == "member@example.org"
    post_form(client, "/logout", {}, page="/")
    assert _signed_in_as(thief) is None


def test_a_copied_remember_me_cookie_dies_at_password_change(seeded_app: Flask) -> None:
    make_user("member@example.org")
    client = seeded_app.test_client()
    sign_in(client, "member@example.org", remember="y")
    thief = _copied(seeded_app, client, "remember_token")
    assert _signed_in_as(thief) == "member@example.org"
    new_password = "another good passphrase"
    changed = post_form(
        client, "/account/password", {"current": PASSWORD, "password": new_password, "confirm": new_password}
    )
    assert changed.status_code == 302
    assert _signed_in_as(client) == "member@example.org"
    assert _signed_in_as(_copied(seeded_app, thief, "remember_token")) is None


@pytest.mark.parametrize("change", ["deactivate", "role"])
def test_deactivation_and_role_change_apply_on_the_next_request(seeded_app: Flask, change: str) -> None:
    admin = make_user("admin@example.org", role="admin")
    user = make_user("member@example.org")
    client = seeded_app.test_client()
    sign_in(client, "member@example.org", remember="y")
    assert _signed_in_as(client) == "member@example.org"
    if change == "deactivate":
        service.set_active(user, False, actor=admin)
    else:
        service.set_role(user, "moderator", actor=admin)
    db.session.commit()
    assert _signed_in_as(client) is None


def test_change_password_needs_the_current_one(seeded_app: Flask) -> None:
    user = make_user("member@example.org")
    client = login_as(seeded_app.test_client(), user)
    response = post_form(
        client,
        "/account/password",
        {"current": "wrong guess", "password": "good new passphrase", "confirm": "good new passphrase"},
    )
    assert response.status_code == 400
    assert "current password is not right" in response.get_data(as_text=True)


def test_an_idle_session_ends(seeded_app: Flask) -> None:
    user = make_user("member@example.org")
    client = login_as(seeded_app.test_client(), user)
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 61 * 60
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert "without activity" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_session_ends_at_its_absolute_limit_even_when_busy(seeded_app: Flask) -> None:
    user = make_user("member@example.org")
    client = login_as(seeded_app.test_client(), user)
    with client.session_transaction() as session:
        session["signed_in_at"] = int(time.time()) - 13 * 3600
    assert client.get("/account").status_code == 302


# Throttling


def test_sign_in_is_throttled_per_account_and_address(tmp_path: Path, seeded_database: Path) -> None:
    application = make_app(tmp_path, seeded_database, LOGIN_FREE_FAILURES=3)
    with application.app_context():
        make_user("member@example.org")
        client = application.test_client()
        for _ in range(3):
            assert sign_in(client, "member@example.org", "wrong password here").status_code == 401
        blocked = sign_in(client, "member@example.org")
        assert blocked.status_code == 429
        assert "Too many failed sign-ins to this account" in blocked.get_data(as_text=True)
        assert blocked.headers.get("Retry-After")
        # Another account from the same address is not locked out by these failures.
        make_user("other@example.org")
        assert sign_in(client, "other@example.org").status_code == 302
        db.session.remove()


def test_sign_in_is_throttled_per_address(tmp_path: Path, seeded_database: Path) -> None:
    application = make_app(tmp_path, seeded_database, LOGIN_LIMIT_PER_ADDRESS="4 per minute")
    with application.app_context():
        client = application.test_client()
        codes = [sign_in(client, f"person{n}@example.org", "wrong password here").status_code for n in range(5)]
        assert codes == [401, 401, 401, 401, 429]
        db.session.remove()


# Second factor for staff


def test_staff_sign_in_needs_a_current_code_used_once(seeded_app: Flask) -> None:
    moderator = make_user("moderator@example.org", role="moderator", password="a long moderator passphrase")
    client = seeded_app.test_client()
    first = sign_in(client, "moderator@example.org", "a long moderator passphrase")
    assert first.headers["Location"] == "/login/verify"
    assert _signed_in_as(client) is None
    wrong = post_form(client, "/login/verify", {"code": "000000"})
    assert wrong.status_code == 401
    code = current_code(moderator)
    assert post_form(client, "/login/verify", {"code": code}).status_code == 302
    assert _signed_in_as(client) == "moderator@example.org"

    replay = seeded_app.test_client()
    sign_in(replay, "moderator@example.org", "a long moderator passphrase")
    assert post_form(replay, "/login/verify", {"code": code}).status_code == 401


def test_a_recovery_code_stands_in_for_the_phone_once(seeded_app: Flask) -> None:
    admin = make_user("admin@example.org", role="admin", password="a long admin passphrase")
    codes = two_factor.replace_recovery_codes(admin)
    db.session.commit()
    for expected in (302, 401):
        client = seeded_app.test_client()
        sign_in(client, "admin@example.org", "a long admin passphrase")
        assert post_form(client, "/login/verify", {"code": codes[0].upper()}).status_code == expected
    assert _events("totp.recovery-used")


def test_staff_without_a_second_factor_must_set_one_up_first(seeded_app: Flask) -> None:
    moderator = make_user("moderator@example.org", role="moderator", password="a long moderator passphrase")
    moderator.totp_secret = None
    db.session.commit()
    client = seeded_app.test_client()
    assert sign_in(client, "moderator@example.org", "a long moderator passphrase").status_code == 302
    for path in ("/", "/lessons", "/account"):
        assert client.get(path).headers.get("Location") == "/account/two-factor"
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page
    secret = page.split('class="kb-secret">', 1)[1].split("<", 1)[0]
    done = post_form(client, "/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    assert "recovery codes" in done.get_data(as_text=True)
    assert client.get("/lessons").status_code == 200
    db.session.refresh(moderator)
    assert moderator.totp_secret == secret
    assert two_factor.unused_recovery_codes(moderator) == 10


def test_staff_with_a_short_password_must_choose_a_longer_one(seeded_app: Flask) -> None:
    moderator = make_user("moderator@example.org", role="moderator", password="only12chars!")
    client = seeded_app.test_client()
    sign_in(client, "moderator@example.org", "only12chars!")
    post_form(client, "/login/verify", {"code": current_code(moderator)})
    assert client.get("/lessons").headers.get("Location") == "/account/password"
    short = post_form(
        client, "/account/password", {"current": "only12chars!", "password": "still short!", "confirm": "still short!"}
    )
    assert "at least 15 characters" in short.get_data(as_text=True)
    long_enough = "a moderator's long passphrase"
    post_form(client, "/account/password", {"current": "only12chars!", "password": long_enough, "confirm": long_enough})
    assert client.get("/lessons").status_code == 200


# Demo mode and the first admin


def test_demo_mode_offers_one_account_per_role(tmp_path: Path, seeded_database: Path) -> None:
    application = make_app(tmp_path, seeded_database, DEMO_MODE=True)
    with application.app_context():
        users = demo.ensure_demo_accounts()
        db.session.commit()
        assert sorted(user.role for user in users) == ["admin", "member", "member", "member", "moderator"]
        seat, second_seat = [seat for user in users for seat in user.panel_seats]
        assert seat.review_id == second_seat.review_id, "the two demo panel members sit on one panel"
        panel_papers = db.session.scalars(select(Entry).where(Entry.review_id == seat.review_id)).all()
        assert any(entry.visibility == "panel" for entry in panel_papers), "the demo panel has material to see"
        client = application.test_client()
        page = client.get("/login").get_data(as_text=True)
        assert "Demo mode" in page
        admin = next(user for user in users if user.role == "admin")
        response = client.post(f"/login/demo/{admin.id}", data={"csrf_token": csrf_token(page)})
        assert response.status_code == 302
        assert client.get("/admin/users").status_code != 302
        db.session.remove()


def test_demo_sign_in_does_not_exist_outside_demo_mode(seeded_app: Flask) -> None:
    users = demo.ensure_demo_accounts()
    db.session.commit()
    client = seeded_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "Demo mode" not in page
    assert client.post(f"/login/demo/{users[0].id}", data={"csrf_token": csrf_token(page)}).status_code == 404


def test_demo_accounts_have_no_password(seeded_app: Flask) -> None:
    demo.ensure_demo_accounts()
    db.session.commit()
    assert all(user.password_hash is None for user in db.session.scalars(select(User)))
    client = seeded_app.test_client()
    assert sign_in(client, "demo-admin@example.org", "").status_code == 400
    assert sign_in(client, "demo-admin@example.org", "any guess at all").status_code == 401


def test_keep_me_signed_in_outlasts_an_idle_session_but_not_sign_out(seeded_app: Flask) -> None:
    make_user("member@example.org")
    client = seeded_app.test_client()
    sign_in(client, "member@example.org", remember="y")
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 61 * 60
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].rstrip("?") == "/account"
    assert _signed_in_as(client) == "member@example.org"
    post_form(client, "/logout", {}, page="/")
    assert client.get_cookie("remember_token") is None
    assert _signed_in_as(client) is None


def test_mail_goes_over_starttls_to_a_server_with_a_private_certificate(
    tmp_path: Path, seeded_database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    with smtp_server(server_context) as (mailbox, port):
        settings = {**mail_settings(port), "SMTP_TLS": "starttls"}
        trusted = make_app(tmp_path / "trusted", seeded_database, SMTP_CA_FILE=str(ca_file), **settings)
        untrusted = make_app(tmp_path / "untrusted", seeded_database, **settings)
        for application in (trusted, untrusted):
            with application.app_context():
                make_user("member@example.org")
                response = post_form(application.test_client(), "/account/reset", {"email": "member@example.org"})
                assert response.status_code == 200
                db.session.remove()
        (message,) = mailbox.wait_for(1)
        assert message["Subject"].startswith("Reset your")
        assert "could not send mail" in caplog.text


def test_second_factor_guesses_are_throttled_per_account(tmp_path: Path, seeded_database: Path) -> None:
    application = make_app(tmp_path, seeded_database, LOGIN_LIMIT_PER_ACCOUNT="3 per minute")
    with application.app_context():
        moderator = make_user("moderator@example.org", role="moderator", password="a long moderator passphrase")
        client = application.test_client()
        sign_in(client, "moderator@example.org", "a long moderator passphrase")
        codes = [post_form(client, "/login/verify", {"code": "000000"}).status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        # Starting again from the password does not reset the count for this account.
        fresh = application.test_client()
        sign_in(fresh, "moderator@example.org", "a long moderator passphrase")
        blocked = post_form(fresh, "/login/verify", {"code": current_code(moderator)})
        assert blocked.status_code == 429
        db.session.remove()


def test_a_member_who_turned_on_two_step_verification_is_asked_for_a_code(seeded_app: Flask) -> None:
    member = make_user("member@example.org", totp_secret=pyotp.random_base32())
    client = seeded_app.test_client()
    assert sign_in(client, "member@example.org").headers["Location"] == "/login/verify"
    assert _signed_in_as(client) is None
    assert post_form(client, "/login/verify", {"code": current_code(member)}).status_code == 302
    assert _signed_in_as(client) == "member@example.org"


def test_second_factor_settings_need_a_fresh_sign_in(seeded_app: Flask) -> None:
    make_user("member@example.org")
    client = seeded_app.test_client()
    sign_in(client, "member@example.org", remember="y")
    assert client.get("/account/two-factor").status_code == 200
    restored = _copied(seeded_app, client, "remember_token")
    assert _signed_in_as(restored) == "member@example.org"
    response = restored.get("/account/two-factor")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "Please sign in again" in restored.get(response.headers["Location"]).get_data(as_text=True)
    sign_in(restored, "member@example.org")
    assert restored.get("/account/two-factor").status_code == 200
