"""Sessions a person can see: the account page's list, signing out one or all the others, copied cookies."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update

from kb.audit.models import AuditEvent
from kb.dates import utcnow
from kb.extensions import db
from kb.users.models import User, UserSession
from kb.users.service import set_active
from tests.accounts import PASSWORD, csrf_token, make_user, page_text, post_form, sign_in
from tests.web.dom import parse

WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
EMAIL = "member@example.org"


def _browser(app: Flask, user_agent: str, address: str, *, remember: bool = False) -> FlaskClient:
    """A client with its own User-Agent and address, signed in through the real form."""
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": address})
    extra = {"remember": "y"} if remember else {}
    assert sign_in(client, EMAIL, **extra).status_code == 302
    return client


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def _rows(client: FlaskClient) -> list[tuple[str, str]]:
    """(session id, the row's text) for each session listed on the account page."""
    tree = parse(client.get("/account").get_data(as_text=True))
    return [(row.attrs["data-session"], row.text()) for row in tree.find_all(where=lambda e: "data-session" in e.attrs)]


def _session_ids() -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(UserSession.id)))


def _copy(app: Flask, source: FlaskClient, *names: str) -> FlaskClient:
    copy = app.test_client()
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        copy.set_cookie(name, cookie.value)
    return copy


def test_the_account_page_lists_each_browser_and_marks_this_one(seeded_app: Flask) -> None:
    make_user(EMAIL)
    desktop = _browser(seeded_app, WINDOWS_CHROME, "192.0.2.10")
    phone = _browser(seeded_app, IPHONE_SAFARI, "198.51.100.7")
    listed = _rows(desktop)
    assert len(listed) == 2
    texts = [text for _, text in listed]
    assert any(all(part in text for part in ("Chrome on Windows", "192.0.2.10", "This browser")) for text in texts)
    assert any("Safari on iPhone" in text and "198.51.100.7" in text and "This browser" not in text for text in texts)
    assert next(text for _, text in _rows(phone) if "This browser" in text).startswith("Safari on iPhone")
    # One "Sign out" button, for the other browser; and "Sign out everywhere else".
    html = desktop.get("/account").get_data(as_text=True)
    assert html.count("/account/sessions/") == 2
    assert "Sign out everywhere else" in html


def test_signing_out_another_session_ends_it_and_not_this_one(seeded_app: Flask) -> None:
    make_user(EMAIL)
    desktop = _browser(seeded_app, WINDOWS_CHROME, "192.0.2.10")
    phone = _browser(seeded_app, IPHONE_SAFARI, "198.51.100.7")
    thief = _copy(seeded_app, phone, "session")
    assert _signed_in(thief)
    [phone_id] = [sid for sid, text in _rows(desktop) if "iPhone" in text]
    answer = post_form(desktop, f"/account/sessions/{phone_id}/end", {}, page="/account")
    assert answer.status_code == 302
    assert "You have signed out of Safari on iPhone." in page_text(desktop.get(answer.headers["Location"]))
    assert _signed_in(desktop)
    assert not _signed_in(phone)
    assert not _signed_in(thief)  # a copy of the ended session's cookie dies with it
    assert len(_rows(desktop)) == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "session.end")) == 1


def test_a_session_of_someone_else_or_one_already_ended_is_not_found(seeded_app: Flask) -> None:
    make_user(EMAIL)
    make_user("other@example.org")
    mine = _browser(seeded_app, WINDOWS_CHROME, "192.0.2.10")
    theirs = seeded_app.test_client()
    sign_in(theirs, "other@example.org")
    other_user = db.session.scalar(select(User).where(User.email == "other@example.org"))
    [their_id] = db.session.scalars(select(UserSession.id).where(UserSession.user_id == other_user.id))
    token = csrf_token(mine.get("/account").get_data(as_text=True))
    assert mine.post(f"/account/sessions/{their_id}/end", data={"csrf_token": token}).status_code == 404
    assert mine.post("/account/sessions/999999/end", data={"csrf_token": token}).status_code == 404
    assert _signed_in(theirs)
    assert mine.post(f"/account/sessions/{their_id}/end").status_code == 400  # no CSRF token


def test_signing_out_ends_only_this_session(seeded_app: Flask) -> None:
    make_user(EMAIL)
    desktop = _browser(seeded_app, WINDOWS_CHROME, "192.0.2.10", remember=True)
    phone = _browser(seeded_app, IPHONE_SAFARI, "198.51.100.7")
    copied = _copy(seeded_app, desktop, "session", "remember_token")
    only_remembered = _copy(seeded_app, desktop, "remember_token")
    assert _signed_in(copied)
    assert _signed_in(only_remembered)
    assert post_form(desktop, "/logout", {}, page="/account").status_code == 302
    assert not _signed_in(desktop)
    assert not _signed_in(copied)
    assert not _signed_in(_copy(seeded_app, only_remembered, "remember_token"))
    assert _signed_in(phone)
    assert len(_session_ids()) == 1


def test_a_session_that_ran_out_ends_so_a_copied_cookie_dies_with_it(seeded_app: Flask) -> None:
    make_user(EMAIL)
    desktop = _browser(seeded_app, WINDOWS_CHROME, "192.0.2.10", remember=True)
    copied = _copy(seeded_app, desktop, "remember_token")
    token = csrf_token(desktop.get("/account").get_data(as_text=True))
    with desktop.session_transaction() as session:
        session["seen_at"] -= 2 * 3600  # idle past the limit
    # A post after the idle limit signs this browser out (its remember-me cookie goes with it) ...
    assert desktop.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not _signed_in(desktop)
    # ... and ends its session, so a copy of its remember-me cookie opens nothing either.
    assert _session_ids() == set()
    assert not _signed_in(copied)


def test_a_browser_whose_session_was_ended_elsewhere_drops_its_dead_cookies(seeded_app: Flask) -> None:
    make_user(EMAIL)
    desktop = _browser(seeded_app, WINDOWS_CHROME, "192.0.2.10")
    phone = _browser(seeded_app, IPHONE_SAFARI, "198.51.100.7", remember=True)
    [phone_id] = [sid for sid, text in _rows(desktop) if "iPhone" in text]
    post_form(desktop, f"/account/sessions/{phone_id}/end", {}, page="/account")
    assert phone.get("/").status_code == 200
    assert phone.get_cookie("remember_token") is None  # deleted by the first request after the end
    with phone.session_transaction() as session:
        assert "_user_id" not in session


def test_signing_out_everywhere_else_keeps_this_browser(seeded_app: Flask) -> None:
    make_user(EMAIL)
    desktop = _browser(seeded_app, WINDOWS_CHROME, "192.0.2.10")
    phone = _browser(seeded_app, IPHONE_SAFARI, "198.51.100.7", remember=True)
    laptop = _browser(seeded_app, WINDOWS_CHROME, "203.0.113.5")
    phone_copy = _copy(seeded_app, phone, "remember_token")
    answer = post_form(desktop, "/account/sessions/end-others", {}, page="/account")
    assert answer.status_code == 302
    assert "signed out everywhere else (2 sessions)" in page_text(desktop.get(answer.headers["Location"]))
    assert _signed_in(desktop)
    assert not _signed_in(phone)
    assert not _signed_in(laptop)
    assert not _signed_in(phone_copy)
    listed = _rows(desktop)
    assert len(listed) == 1
    assert "This browser" in listed[0][1]
    assert "Sign out everywhere else" not in desktop.get("/account").get_data(as_text=True)


def test_a_password_change_ends_the_other_sessions_and_keeps_this_browser_signed_in(seeded_app: Flask) -> None:
    make_user(EMAIL)
    desktop = _browser(seeded_app, WINDOWS_CHROME, "192.0.2.10", remember=True)
    phone = _browser(seeded_app, IPHONE_SAFARI, "198.51.100.7")
    new = "another good passphrase"
    answer = post_form(desktop, "/account/password", {"current": PASSWORD, "password": new, "confirm": new})
    assert answer.status_code == 302
    assert _signed_in(desktop)
    assert not _signed_in(phone)
    [row] = db.session.scalars(select(UserSession)).all()
    assert row.remember  # this browser's new session keeps "keep me signed in"
    assert desktop.get_cookie("remember_token") is not None


def test_last_seen_is_written_every_few_minutes_not_on_every_request(seeded_app: Flask) -> None:
    make_user(EMAIL)
    desktop = _browser(seeded_app, WINDOWS_CHROME, "192.0.2.10")
    writes: list[str] = []

    def note(_conn, _cursor, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE USER_SESSIONS"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        for _ in range(3):
            assert desktop.get("/").status_code == 200
        assert writes == []
        earlier = utcnow() - dt.timedelta(minutes=10)
        db.session.execute(update(UserSession).values(last_seen_at=earlier))
        db.session.commit()
        writes.clear()
        desktop.environ_base.update({"HTTP_USER_AGENT": IPHONE_SAFARI, "REMOTE_ADDR": "198.51.100.7"})
        assert desktop.get("/").status_code == 200
        assert desktop.get("/").status_code == 200
        assert len(writes) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    db.session.expire_all()
    row = db.session.scalars(select(UserSession)).one()
    assert (row.browser, row.ip_address) == ("Safari on iPhone", "198.51.100.7")


def test_a_signed_in_request_finds_its_session_and_user_in_one_query(seeded_app: Flask) -> None:
    make_user(EMAIL)
    desktop = _browser(seeded_app, WINDOWS_CHROME, "192.0.2.10")
    statements: list[str] = []

    def note(_conn, _cursor, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert desktop.get("/account/work").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    touching = [s for s in statements if "user_sessions" in s or "FROM users" in s]
    assert len(touching) == 1
    assert "panel_memberships" in touching[0]


def test_expired_sessions_are_refused_and_removed_at_the_next_sign_in(seeded_app: Flask) -> None:
    make_user(EMAIL)
    desktop = _browser(seeded_app, WINDOWS_CHROME, "192.0.2.10", remember=True)
    copied = _copy(seeded_app, desktop, "remember_token")
    db.session.execute(update(UserSession).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()
    assert not _signed_in(desktop)
    assert not _signed_in(copied)
    _browser(seeded_app, IPHONE_SAFARI, "198.51.100.7")
    assert len(_session_ids()) == 1


def test_deactivation_ends_every_session(seeded_app: Flask) -> None:
    make_user(EMAIL)
    admin = make_user("admin@example.org", role="admin")
    phone = _browser(seeded_app, IPHONE_SAFARI, "198.51.100.7", remember=True)
    set_active(db.session.get(User, db.session.scalar(select(User.id).where(User.email == EMAIL))), False, actor=admin)
    db.session.commit()
    assert not _signed_in(phone)
    assert _session_ids() == set()
