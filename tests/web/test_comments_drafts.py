"""A comment posted after the session ended is kept as a draft and comes back after signing in again,
through the real sign-in form."""

from __future__ import annotations

import datetime as dt
import re
import time
from html import unescape
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from kb.comments.models import Comment, CommentDraft
from kb.dates import utcnow
from kb.entries.models import Entry
from kb.extensions import db
from tests.accounts import PASSWORD, Cast, csrf_token, post_form, sign_in
from tests.conftest import make_app
from tests.factories import add_comment

TEXT = "A long and careful comment, written while the session quietly ran out."


def members_lesson() -> Entry:
    entry = db.session.scalars(
        select(Entry).where(Entry.kind == "lesson", Entry.status == "published", Entry.visibility == "members")
    ).first()
    assert entry is not None
    return entry


def end_session(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 61 * 60


def post_after_the_session_ended(client: FlaskClient, entry: Entry, **extra: str) -> str:
    """Sign in, open the entry, let the session run out, post; returns where kb sends the writer back to."""
    token = csrf_token(client.get(entry.path).get_data(as_text=True))
    end_session(client)
    response = client.post(f"{entry.path}/comments", data={"csrf_token": token, "body": TEXT, **extra})
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    (back,) = parse_qs(location.query)["next"]
    return back


def test_the_text_survives_an_expired_session_and_a_sign_in(seeded_app: Flask, cast: Cast) -> None:
    entry = members_lesson()
    client = seeded_app.test_client()
    assert sign_in(client, cast.member.email).status_code == 302
    back = post_after_the_session_ended(client, entry)
    draft = db.session.scalar(select(CommentDraft))
    assert draft is not None
    assert draft.body == TEXT
    assert back == f"{entry.path}?draft={draft.token}#comment-form"
    assert db.session.scalar(select(Comment)) is None

    login_page = client.get(f"/login?next={back}").get_data(as_text=True)
    assert "What you wrote has been kept" in unescape(login_page)
    signed_in = post_form(client, "/login", {"email": cast.member.email, "password": PASSWORD, "next": back})
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == back

    page = unescape(client.get(back.split("#")[0]).get_data(as_text=True))
    assert f"\n{TEXT}</textarea>" in page
    assert f'value="{draft.token}"' in page
    assert "Your text was kept while you signed in" in page

    form_token = csrf_token(page)
    posted = client.post(
        f"{entry.path}/comments", data={"csrf_token": form_token, "body": TEXT, "draft": draft.token, "parent_id": ""}
    )
    assert posted.status_code == 303
    comment = db.session.scalar(select(Comment))
    assert comment.body == TEXT
    assert comment.author_id == cast.member.id
    assert db.session.scalar(select(CommentDraft)) is None


def test_a_reply_comes_back_as_a_reply(seeded_app: Flask, cast: Cast) -> None:
    entry = members_lesson()
    parent = add_comment(entry, cast.author, "What happened at night?")
    client = seeded_app.test_client()
    sign_in(client, cast.member.email)
    back = post_after_the_session_ended(client, entry, parent_id=str(parent.id))
    sign_in(client, cast.member.email, next=back)
    page = unescape(client.get(back.split("#")[0]).get_data(as_text=True))
    assert "You are replying to" in page
    assert re.search(rf'name="parent_id" type="hidden" value="{parent.id}"', page)
    assert f"\n{TEXT}</textarea>" in page
    token = csrf_token(page)
    draft = db.session.scalar(select(CommentDraft))
    data = {"csrf_token": token, "body": TEXT, "draft": draft.token, "parent_id": str(parent.id)}
    assert client.post(f"{entry.path}/comments", data=data).status_code == 303
    reply = db.session.scalar(select(Comment).where(Comment.body == TEXT))
    assert reply.parent_id == parent.id


def test_a_draft_older_than_a_day_is_ignored(seeded_app: Flask, cast: Cast) -> None:
    entry = members_lesson()
    client = seeded_app.test_client()
    sign_in(client, cast.member.email)
    back = post_after_the_session_ended(client, entry)
    draft = db.session.scalar(select(CommentDraft))
    draft.created_at = draft.created_at - dt.timedelta(days=1, minutes=1)
    db.session.commit()
    sign_in(client, cast.member.email, next=back)
    page = unescape(client.get(back.split("#")[0]).get_data(as_text=True))
    assert TEXT not in page
    assert 'id="comment-form"' in page


def test_a_signed_out_post_reveals_nothing_about_the_entry(seeded_app: Flask) -> None:
    client = seeded_app.test_client()
    token_page = client.get("/login").get_data(as_text=True)
    existing = members_lesson()
    real = client.post(f"{existing.path}/comments", data={"csrf_token": csrf_token(token_page), "body": TEXT})
    missing = client.post("/lessons/no-such-lesson/comments", data={"csrf_token": "x", "body": TEXT})
    assert real.status_code == missing.status_code == 303
    shapes = set()
    for response in (real, missing):
        location = urlsplit(response.headers["Location"])
        (back,) = parse_qs(location.query)["next"]
        shapes.add((location.path, re.sub(r"/lessons/[\w-]+\?draft=[\w-]{32}#", "/lessons/SLUG?draft=TOKEN#", back)))
    assert shapes == {("/login", "/lessons/SLUG?draft=TOKEN#comment-form")}
    assert db.session.scalar(select(CommentDraft)).entry_id == existing.id
    assert db.session.scalar(select(Comment)) is None


# --- Drafts of signed-out posters are bounded: per address, per draft, and in time ------------


def signed_out_post(client: FlaskClient, entry: Entry, body: str) -> int:
    """A post from a browser with no session at all: kept as a draft; returns the status."""
    return client.post(f"{entry.path}/comments", data={"body": body}).status_code


def drafts_from(address: str) -> list[CommentDraft]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(CommentDraft).where(CommentDraft.client_address == address).order_by(CommentDraft.id))
    )


def test_one_address_keeps_at_most_its_cap_of_drafts_dropping_the_oldest(tmp_path, seeded_database) -> None:
    application = make_app(tmp_path, seeded_database, COMMENT_DRAFTS_PER_ADDRESS=3)
    with application.app_context():
        entry = members_lesson()
        flooder = application.test_client()
        flooder.environ_base["REMOTE_ADDR"] = "203.0.113.9"
        for number in range(10):
            assert signed_out_post(flooder, entry, f"draft number {number}") == 303
        kept = drafts_from("203.0.113.9")
        assert [draft.body for draft in kept] == ["draft number 7", "draft number 8", "draft number 9"]
        # Someone else's draft, from another address, is untouched by the flood.
        other = application.test_client()
        other.environ_base["REMOTE_ADDR"] = "198.51.100.4"
        assert signed_out_post(other, entry, "my own careful text") == 303
        for number in range(5):
            signed_out_post(flooder, entry, f"more {number}")
        assert [draft.body for draft in drafts_from("198.51.100.4")] == ["my own careful text"]
        assert len(drafts_from("203.0.113.9")) == 3
        db.session.remove()


def test_ipv6_addresses_of_one_network_share_a_cap(tmp_path, seeded_database) -> None:
    application = make_app(tmp_path, seeded_database, COMMENT_DRAFTS_PER_ADDRESS=2)
    with application.app_context():
        entry = members_lesson()
        for host in range(1, 6):
            client = application.test_client()
            client.environ_base["REMOTE_ADDR"] = f"2001:db8:5:6::{host}"
            signed_out_post(client, entry, f"from host {host}")
        assert [draft.body for draft in drafts_from("2001:db8:5:6::/64")] == ["from host 4", "from host 5"]
        db.session.remove()


def test_a_draft_is_no_larger_than_the_longest_comment(seeded_app: Flask) -> None:
    entry = members_lesson()
    client = seeded_app.test_client()
    assert signed_out_post(client, entry, "x" * 50_000) == 303
    (draft,) = drafts_from("127.0.0.1")
    assert len(draft.body) == seeded_app.config["COMMENT_MAX_CHARS"]


def test_expired_drafts_are_purged_on_write_and_by_the_cron_command(seeded_app: Flask) -> None:
    entry = members_lesson()
    client = seeded_app.test_client()
    for number in range(3):
        signed_out_post(client, entry, f"old {number}")
    db.session.execute(update(CommentDraft).values(created_at=utcnow() - dt.timedelta(days=2)))
    db.session.commit()
    signed_out_post(client, entry, "new")
    assert [draft.body for draft in drafts_from("127.0.0.1")] == ["new"]

    db.session.execute(update(CommentDraft).values(created_at=utcnow() - dt.timedelta(days=2)))
    db.session.commit()
    result = seeded_app.test_cli_runner().invoke(args=["comments", "purge-drafts"])
    assert result.exit_code == 0, result.output
    assert "purged 1 expired comment draft" in result.output
    assert drafts_from("127.0.0.1") == []
