"""The account's token page: API tokens and the personal feed address, made and revoked through the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from kb.access import service
from kb.access.models import AccessToken
from kb.extensions import db
from kb.states import TokenKind, TokenScope
from kb.users.models import User
from tests.accounts import client_for, csrf_token, make_user, page_text
from tests.web.dom import parse

TOKEN = re.compile(r"kb_[A-Za-z0-9_-]{40}")
NONCE = re.compile(r'name="form_nonce" value="([^"]+)"')


def _fields_of(page: str) -> dict[str, str]:
    """The CSRF token and the one-time form nonce the token page gives its make forms."""
    [nonce] = set(NONCE.findall(page))  # one nonce, in both make forms
    return {"csrf_token": csrf_token(page), "form_nonce": nonce}


def _post(client: FlaskClient, path: str, data: dict[str, str]):
    """GET the token page for a CSRF token and a fresh nonce, then POST `data` with them to `path`."""
    return client.post(path, data=_fields_of(client.get("/account/tokens").get_data(as_text=True)) | data)


def _member(app: Flask) -> tuple[FlaskClient, int]:
    user = make_user("member@example.org")
    return client_for(app, user), user.id


def _make(client: FlaskClient, **fields: str):
    data = {"name": "Reporting script", "scope": "read", "expiry": "90"} | fields
    return _post(client, "/account/tokens", data)


def _rows(client: FlaskClient) -> dict[str, str]:
    tree = parse(client.get("/account/tokens").get_data(as_text=True))
    return {row.attrs["data-token"]: row.text() for row in tree.find_all(where=lambda e: "data-token" in e.attrs)}


def test_a_new_api_token_is_shown_once_works_and_never_appears_again(seeded_app: Flask) -> None:
    client, user_id = _member(seeded_app)
    made = _make(client, scope="read-write", expiry="30")
    assert made.status_code == 200
    assert "no-store" in made.headers["Cache-Control"]
    [token] = TOKEN.findall(made.get_data(as_text=True))
    assert "shown only this once" in page_text(made)
    row = db.session.scalars(select(AccessToken)).one()
    assert (row.user_id, row.kind, row.scope, row.name) == (
        user_id,
        TokenKind.API,
        TokenScope.READ_WRITE,
        "Reporting script",
    )
    assert service.authenticate(token, TokenKind.API) is not None
    db.session.commit()
    later = client.get("/account/tokens").get_data(as_text=True)
    assert token not in later
    assert TOKEN.findall(later) == []
    [listed] = _rows(client).values()
    for part in ("Reporting script", token[:10], "Read and write", "Active", "Revoke"):
        assert part in listed
    assert token not in client.get("/account").get_data(as_text=True)


def test_revoking_asks_first_then_the_token_stops_working(seeded_app: Flask) -> None:
    client, _ = _member(seeded_app)
    [token] = TOKEN.findall(_make(client).get_data(as_text=True))
    row = db.session.scalars(select(AccessToken)).one()
    asked = client.get(f"/account/tokens?revoke={row.id}")
    assert "Revoke “Reporting script”?" in page_text(asked)
    assert service.authenticate(token, TokenKind.API) is not None  # asking revokes nothing
    db.session.commit()
    answer = client.post(
        f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(asked.get_data(as_text=True))}
    )
    assert answer.status_code == 302
    assert "has been revoked" in page_text(client.get(answer.headers["Location"]))
    db.session.expire_all()
    assert service.authenticate(token, TokenKind.API) is None
    [listed] = _rows(client).values()
    assert "Revoked" in listed
    assert "Revoke " not in listed


def test_someone_elses_token_is_neither_offered_nor_revoked(seeded_app: Flask) -> None:
    client, _ = _member(seeded_app)
    other = make_user("other@example.org")
    theirs, their_token = service.issue_token(other, kind=TokenKind.API, name="Theirs")
    db.session.commit()
    page = client.get(f"/account/tokens?revoke={theirs.id}")
    assert page.status_code == 200
    assert "Theirs" not in page_text(page)
    token = csrf_token(page.get_data(as_text=True))
    assert client.post(f"/account/tokens/{theirs.id}/revoke", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/account/tokens/{theirs.id}/revoke").status_code == 400  # no CSRF token
    db.session.expire_all()
    assert service.authenticate(their_token, TokenKind.API) is not None
    db.session.commit()
    for odd in ("abc", "-1", "9" * 40, "%00"):
        assert client.get(f"/account/tokens?revoke={odd}").status_code in (200, 400)


def test_bad_input_keeps_what_was_typed_with_the_error_pattern(seeded_app: Flask) -> None:
    client, _ = _member(seeded_app)
    empty = _make(client, name="", scope="read-write", expiry="365")
    assert empty.status_code == 400
    html = empty.get_data(as_text=True)
    assert "<title>Error:" in html
    assert 'href="#name"' in html
    assert re.search(r'value="read-write"[^>]*checked|checked[^>]*value="read-write"', html)
    assert re.search(r'value="365"[^>]*checked|checked[^>]*value="365"', html)
    long_name = "A name typed with care " * 5
    too_long = _make(client, name=long_name)
    assert too_long.status_code == 400
    assert long_name.strip() in page_text(too_long)
    odd = _make(client, name="Kept name", expiry="7")
    assert odd.status_code == 400
    assert 'value="Kept name"' in odd.get_data(as_text=True)
    assert db.session.scalars(select(AccessToken)).all() == []


def test_the_limit_of_live_tokens_is_explained_on_the_page(seeded_app: Flask) -> None:
    client, user_id = _member(seeded_app)
    member = db.session.get(User, user_id)
    for number in range(service.MAX_LIVE_TOKENS):
        service.issue_token(member, kind=TokenKind.API, name=f"Token {number}")
    db.session.commit()
    refused = _make(client, name="One too many")
    assert refused.status_code == 400
    assert "revoke one first" in page_text(refused)
    assert 'value="One too many"' in refused.get_data(as_text=True)


def test_the_feed_address_is_shown_once_and_a_new_one_replaces_it(seeded_app: Flask) -> None:
    client, _ = _member(seeded_app)
    assert "Make my feed address" in page_text(client.get("/account/tokens"))
    made = _post(client, "/account/feed-address", {})
    assert made.status_code == 200
    address = re.search(r'id="new-feed-value"[^>]*value="([^"]+)"', made.get_data(as_text=True)).group(1)
    site = seeded_app.config["SITE_URL"]
    assert address.startswith(f"{site}/feeds/all.atom?token=kb_")
    first = address.split("token=", 1)[1]
    assert service.authenticate(first, TokenKind.FEED) is not None
    db.session.commit()
    later = client.get("/account/tokens").get_data(as_text=True)
    assert first not in later
    assert "You have a feed address" in page_text(client.get("/account/tokens"))
    again = _post(client, "/account/feed-address", {})
    second = TOKEN.findall(again.get_data(as_text=True))[0]
    db.session.expire_all()
    assert service.authenticate(first, TokenKind.FEED) is None
    assert service.authenticate(second, TokenKind.FEED) is not None
    db.session.commit()
    feed = db.session.scalars(select(AccessToken).where(AccessToken.revoked_at.is_(None))).one()
    asked = client.get(f"/account/tokens?revoke={feed.id}")
    assert "Revoke your feed address?" in page_text(asked)
    client.post(f"/account/tokens/{feed.id}/revoke", data={"csrf_token": csrf_token(asked.get_data(as_text=True))})
    db.session.expire_all()
    assert service.authenticate(second, TokenKind.FEED) is None
    assert "Make my feed address" in page_text(client.get("/account/tokens"))


def test_the_token_page_needs_a_signed_in_person(seeded_app: Flask) -> None:
    anonymous = seeded_app.test_client()
    assert anonymous.get("/account/tokens").status_code == 302
    assert anonymous.post("/account/tokens").status_code in (302, 400)


def test_every_kb_class_on_the_token_page_is_styled(seeded_app: Flask) -> None:
    client, _ = _member(seeded_app)
    page = _make(client).get_data(as_text=True)
    stylesheet = next(link for link in re.findall(r'href="(/static/[^"]+\.css)"', page) if "/kb." in link)
    css = client.get(stylesheet).get_data(as_text=True)
    used = set(re.findall(r"\bkb-[a-z-]+", " ".join(re.findall(r'class="([^"]*)"', page))))
    assert "kb-token-value" in used
    assert [name for name in sorted(used) if f".{name}" not in css] == []
    rule = re.search(r"\.kb-token-value\s*\{([^}]*)\}", css).group(1)
    assert "monospace" in rule
    assert "width: 100%" in rule


def test_the_list_drops_tokens_a_month_after_they_stop_working_and_says_so(seeded_app: Flask) -> None:
    client, user_id = _member(seeded_app)
    member = db.session.get(User, user_id)
    long_ago = datetime.now(UTC) - timedelta(days=31)
    old, _ = service.issue_token(member, kind=TokenKind.API, name="Old script")
    recent, _ = service.issue_token(member, kind=TokenKind.API, name="Recent script")
    old.revoked_at = long_ago
    recent.revoked_at = long_ago + timedelta(days=2)
    db.session.commit()
    page = client.get("/account/tokens")
    assert "Revoked and expired tokens are listed for 30 days after they stop working." in page_text(page)
    assert list(_rows(client)) == [str(recent.id)]
    assert db.session.get(AccessToken, old.id) is not None


def test_sending_the_make_token_form_again_makes_nothing_and_says_so(seeded_app: Flask) -> None:
    client, _ = _member(seeded_app)
    sent = _fields_of(client.get("/account/tokens").get_data(as_text=True))
    data = sent | {"name": "Reporting script", "scope": "read", "expiry": "90"}
    first = client.post("/account/tokens", data=data)
    assert first.status_code == 200
    [token] = TOKEN.findall(first.get_data(as_text=True))
    again = client.post("/account/tokens", data=data)  # a refresh, or Back and send again
    assert again.status_code == 400
    assert "no-store" in again.headers["Cache-Control"]
    assert "That form was already sent: your token was made; if you did not copy it, revoke it and make another." in (
        page_text(again)
    )
    assert TOKEN.findall(again.get_data(as_text=True)) == []
    assert token not in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AccessToken.id))) == 1
    # The page the answer shows has a fresh nonce: sending it makes a second token.
    assert client.post("/account/tokens", data=data | _fields_of(again.get_data(as_text=True))).status_code == 200
    assert db.session.scalar(select(func.count(AccessToken.id))) == 2


def test_sending_the_feed_address_form_again_keeps_the_address_just_made(seeded_app: Flask) -> None:
    client, _ = _member(seeded_app)
    sent = _fields_of(client.get("/account/tokens").get_data(as_text=True))
    first = client.post("/account/feed-address", data=sent)
    [address] = TOKEN.findall(first.get_data(as_text=True))
    again = client.post("/account/feed-address", data=sent)
    assert again.status_code == 400
    assert "That form was already sent: your feed address was made" in page_text(again)
    assert TOKEN.findall(again.get_data(as_text=True)) == []
    db.session.expire_all()
    assert service.authenticate(address, TokenKind.FEED) is not None
    db.session.commit()
    assert db.session.scalar(select(func.count(AccessToken.id))) == 1


def test_a_form_without_a_known_nonce_changes_nothing_and_keeps_what_was_typed(seeded_app: Flask) -> None:
    client, _ = _member(seeded_app)
    fields = _fields_of(client.get("/account/tokens").get_data(as_text=True))
    for nonce in ("", "made-up", "<b>x</b>"):
        made = client.post(
            "/account/tokens", data=fields | {"form_nonce": nonce, "name": "Kept name", "scope": "read", "expiry": "30"}
        )
        assert made.status_code == 400
        assert "That form is out of date, so nothing was changed." in page_text(made)
        assert 'value="Kept name"' in made.get_data(as_text=True)
        assert "<b>x</b>" not in made.get_data(as_text=True)
        assert client.post("/account/feed-address", data=fields | {"form_nonce": nonce}).status_code == 400
    assert db.session.scalar(select(func.count(AccessToken.id))) == 0
