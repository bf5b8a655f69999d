"""Personal access tokens: made once, stored as a digest, checked by kind, expiry, revocation and owner."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import func, select

from kb.access.models import AccessToken
from kb.access.service import (
    MAX_LIVE_TOKENS,
    authenticate,
    digest_of,
    issue_token,
    listed_tokens,
    live_tokens,
    new_feed_token,
    revoke_token,
)
from kb.audit.models import AuditEvent
from kb.errors import InvalidInputError, NotAllowedError
from kb.extensions import db
from kb.states import Role, TokenKind, TokenScope
from tests.accounts import make_user


def test_a_token_is_shown_once_and_only_its_digest_is_stored(app: Flask) -> None:
    owner = make_user("owner@example.org")
    row, token = issue_token(owner, kind=TokenKind.API, name="Reporting script", scope=TokenScope.READ_WRITE)
    db.session.commit()
    stored = db.session.scalars(select(AccessToken)).one()
    assert token.startswith("kb_")
    assert len(token) >= 40
    assert stored.digest == digest_of(token)
    assert token not in (stored.digest, stored.prefix, stored.name)
    assert token.startswith(stored.prefix)
    assert authenticate(token, TokenKind.API) == row
    assert row.can_write


def test_a_token_opens_only_its_own_kind_and_nothing_opens_with_a_guess(app: Flask) -> None:
    owner = make_user("owner@example.org")
    _, feed = issue_token(owner, kind=TokenKind.FEED, name="My reader", scope=TokenScope.READ_WRITE)
    assert authenticate(feed, TokenKind.API) is None
    found = authenticate(feed, TokenKind.FEED)
    assert found is not None
    assert found.scope == TokenScope.READ
    assert authenticate(feed[:-1] + ("A" if feed[-1] != "A" else "B"), TokenKind.FEED) is None
    assert authenticate("", TokenKind.FEED) is None
    assert authenticate("kb_" + "x" * 200, TokenKind.FEED) is None


def test_revoked_expired_and_deactivated_tokens_stop_working(app: Flask) -> None:
    owner = make_user("owner@example.org")
    revoked_row, revoked = issue_token(owner, kind=TokenKind.API, name="one")
    expired_row, expired = issue_token(owner, kind=TokenKind.API, name="two", expires_in_days=1)
    _, kept = issue_token(owner, kind=TokenKind.API, name="three", expires_in_days=30)
    revoke_token(owner, revoked_row)
    expired_row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    db.session.commit()
    assert authenticate(revoked, TokenKind.API) is None
    assert authenticate(expired, TokenKind.API) is None
    assert authenticate(kept, TokenKind.API) is not None
    assert [row.name for row in live_tokens(owner)] == ["three"]
    owner.active = False
    db.session.commit()
    assert authenticate(kept, TokenKind.API) is None


def test_use_is_recorded_and_only_the_owner_or_an_admin_revokes(app: Flask) -> None:
    owner = make_user("owner@example.org")
    other = make_user("other@example.org")
    admin = make_user("admin@example.org", role=Role.ADMIN)
    row, token = issue_token(owner, kind=TokenKind.API, name="script")
    assert row.last_used_at is None
    authenticate(token, TokenKind.API)
    assert row.last_used_at is not None
    with pytest.raises(NotAllowedError):
        revoke_token(other, row)
    revoke_token(admin, row)
    assert row.revoked_at is not None


@pytest.mark.parametrize(("name", "days"), [("", None), ("   ", None), ("x" * 81, None), ("ok", 0), ("ok", 367)])
def test_a_bad_name_or_expiry_is_refused_with_a_reason(app: Flask, name: str, days: int | None) -> None:
    owner = make_user("owner@example.org")
    with pytest.raises(InvalidInputError):
        issue_token(owner, kind=TokenKind.API, name=name, expires_in_days=days)


def test_a_person_holds_a_bounded_number_of_live_tokens(app: Flask) -> None:
    owner = make_user("owner@example.org")
    for number in range(MAX_LIVE_TOKENS):
        issue_token(owner, kind=TokenKind.API, name=f"token {number}")
    with pytest.raises(InvalidInputError):
        issue_token(owner, kind=TokenKind.API, name="one too many")
    issue_token(owner, kind=TokenKind.FEED, name="feeds are counted apart")


def test_a_staff_account_without_its_second_factor_opens_nothing_with_a_token(app: Flask) -> None:
    person = make_user("promoted@example.org")
    _, api = issue_token(person, kind=TokenKind.API, name="script")
    _, feed = issue_token(person, kind=TokenKind.FEED, name="reader")
    person.role = Role.MODERATOR  # made staff: pages hold them at setting up a second factor
    db.session.commit()
    assert authenticate(api, TokenKind.API) is None
    assert authenticate(feed, TokenKind.FEED) is None
    person.totp_secret = "JBSWY3DPEHPK3PXP"
    db.session.commit()
    assert authenticate(api, TokenKind.API) is not None


def test_making_replacing_and_revoking_tokens_is_audited_without_the_tokens(app: Flask) -> None:
    owner = make_user("owner@example.org")
    admin = make_user("admin@example.org", role=Role.ADMIN)
    api_row, api = issue_token(owner, kind=TokenKind.API, name="Reporting script")
    first_row, first_feed = new_feed_token(owner)
    second_row, second_feed = new_feed_token(owner)
    revoke_token(admin, api_row)
    revoke_token(admin, api_row)  # already revoked: nothing more to record
    revoke_token(owner, second_row)
    db.session.commit()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    seen = [
        (e.action, e.actor_id, e.target_type, e.target_id, e.target_label, e.old_value, e.new_value) for e in events
    ]
    assert seen == [
        ("token.issue", owner.id, "access_token", api_row.id, "Reporting script", None, api_row.prefix),
        ("feed.renew", owner.id, "access_token", first_row.id, TokenKind.FEED.label, None, first_row.prefix),
        (
            "feed.renew",
            owner.id,
            "access_token",
            second_row.id,
            TokenKind.FEED.label,
            first_row.prefix,
            second_row.prefix,
        ),
        ("token.revoke", admin.id, "access_token", api_row.id, "Reporting script", api_row.prefix, None),
        ("feed.revoke", owner.id, "access_token", second_row.id, TokenKind.FEED.label, second_row.prefix, None),
    ]
    stored = " ".join(str(value) for row in seen for value in row)
    for token in (api, first_feed, second_feed):
        assert token not in stored
        assert digest_of(token) not in stored


def test_revoked_and_expired_tokens_are_listed_for_30_days_then_only_kept(app: Flask) -> None:
    owner = make_user("owner@example.org")
    now = dt.datetime.now(dt.UTC)
    days = dt.timedelta(days=1)
    rows = {name: issue_token(owner, kind=TokenKind.API, name=name)[0] for name in ("live", "a", "b", "c", "d", "e")}
    rows["a"].revoked_at = now - 29 * days
    rows["b"].revoked_at = now - 31 * days
    rows["c"].expires_at = now - 29 * days
    rows["d"].expires_at = now - 31 * days
    rows["e"].expires_at, rows["e"].revoked_at = now - 31 * days, now - 40 * days
    rows["live"].expires_at = now + 29 * days
    issue_token(owner, kind=TokenKind.FEED, name="feed")
    db.session.commit()
    assert [row.name for row in listed_tokens(owner, TokenKind.API)] == ["c", "a", "live"]
    assert len(listed_tokens(owner)) == 4
    assert db.session.scalar(select(func.count(AccessToken.id))) == 7
