"""Ids too large or not quite numbers answer 404 or are ignored, never an error page; a draft
kept across a sign-in never names the author of a comment the reader may not read; the
"continue this thread" page counts only what its reader may read."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kb.comments.models import Comment, CommentDraft
from kb.entries.models import Entry
from kb.extensions import db
from tests.accounts import Cast, client_for, csrf_token, login_as, make_user, page_text
from tests.factories import add_comment

HUGE = "99999999999999999999"
TEXT = "A reply written while signed out, kept for after the sign-in."


def public_lesson() -> Entry:
    entry = db.session.scalars(
        select(Entry).where(Entry.kind == "lesson", Entry.status == "published", Entry.visibility == "public")
    ).first()
    assert entry is not None
    return entry


def signed_out_post(client: FlaskClient, entry: Entry, parent: Comment) -> str:
    """Post a reply while signed out; returns the address the sign-in sends the writer back to."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        f"{entry.path}/comments", data={"csrf_token": token, "body": TEXT, "parent_id": str(parent.id)}
    )
    assert response.status_code == 303
    (back,) = parse_qs(urlsplit(response.headers["Location"]).query)["next"]
    return back.split("#")[0]


def assert_a_plain_comment_form(page: str, hidden_author: str) -> None:
    assert hidden_author not in page
    assert "You are replying to" not in page
    assert f"\n{TEXT}</textarea>" in page
    assert re.search(r'name="parent_id" type="hidden" value=""', page)


def test_a_draft_replying_to_a_removed_comment_does_not_name_its_author(seeded_app: Flask, cast: Cast) -> None:
    entry = public_lesson()
    writer = make_user("quietly-removed@example.org", name="Zebedee Quillfeather")
    removed = add_comment(entry, writer, "Words a moderator removed.", status="removed")
    client = seeded_app.test_client()
    back = signed_out_post(client, entry, removed)
    draft = db.session.scalar(select(CommentDraft))
    assert draft is not None
    assert draft.parent_id is None
    page = page_text(login_as(client, cast.member).get(back))
    assert_a_plain_comment_form(page, writer.display_name)


def test_a_draft_whose_parent_is_hidden_after_it_was_kept_comes_back_as_a_new_comment(
    seeded_app: Flask, cast: Cast
) -> None:
    entry = public_lesson()
    writer = make_user("later-hidden@example.org", name="Ottoline Brackenbury")
    parent = add_comment(entry, writer, "Visible when the reply was written.")
    client = seeded_app.test_client()
    back = signed_out_post(client, entry, parent)
    assert db.session.scalar(select(CommentDraft)).parent_id == parent.id
    parent.status = "hidden"
    db.session.commit()
    page = page_text(login_as(client, cast.member).get(back))
    assert_a_plain_comment_form(page, writer.display_name)


ID_ROUTES = [
    "/comments/{huge}",
    "/comments/{huge}/thread",
    "/comments/{huge}/thread.md",
    "/comments/{huge}/reply",
    "/comments/{huge}/edit",
    "/comments/{huge}/versions",
    "/comments/{huge}/flag",
    "{lesson}/history/{huge}",
]


@pytest.mark.parametrize("reader", ["anonymous", "member"])
@pytest.mark.parametrize("route", ID_ROUTES)
def test_a_huge_id_answers_404(seeded_app: Flask, cast: Cast, route: str, reader: str) -> None:
    client = client_for(seeded_app, cast.member if reader == "member" else None)
    assert client.get(route.format(huge=HUGE, lesson=public_lesson().path)).status_code == 404


def test_the_largest_database_id_still_reaches_the_page(seeded_app: Flask, cast: Cast) -> None:
    client = client_for(seeded_app, cast.member)
    assert client.get(f"/comments/{2**31 - 1}").status_code == 404  # matched, then not found
    assert client.get(f"/comments/{2**31}").status_code == 404


MALFORMED_IDS = ["²", HUGE, "١٢", "-1", "abc", "1e3", str(2**63), "1;DROP", "0x10"]


@pytest.mark.parametrize("parent_id", MALFORMED_IDS)
def test_a_malformed_parent_id_is_refused_with_the_text_kept(seeded_app: Flask, cast: Cast, parent_id: str) -> None:
    entry = public_lesson()
    client = client_for(seeded_app, cast.member)
    token = csrf_token(client.get(entry.path).get_data(as_text=True))
    response = client.post(
        f"{entry.path}/comments", data={"csrf_token": token, "body": "Meant as a reply.", "parent_id": parent_id}
    )
    assert response.status_code == 400
    page = page_text(response)
    assert "Meant as a reply." in page
    assert "not a comment's number" in page
    assert re.search(r'name="parent_id" type="hidden" value=""', page)
    assert db.session.scalar(select(Comment).where(Comment.body == "Meant as a reply.")) is None


def test_a_signed_out_post_with_a_bad_parent_id_keeps_the_draft(seeded_app: Flask) -> None:
    entry = public_lesson()
    client = seeded_app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for parent_id in ("²", HUGE):
        data = {"csrf_token": token, "body": TEXT, "parent_id": parent_id}
        assert client.post(f"{entry.path}/comments", data=data).status_code == 303
    assert [draft.parent_id for draft in db.session.scalars(select(CommentDraft))] == [None, None]


def test_the_continue_page_counts_only_what_its_reader_may_read(seeded_app: Flask, cast: Cast) -> None:
    entry = public_lesson()
    root = add_comment(entry, cast.author, "The top of the branch.")
    add_comment(entry, cast.member, "A visible reply.", parent=root)
    add_comment(entry, cast.member, "A hidden reply.", parent=root, status="hidden")
    add_comment(entry, cast.author, "A removed reply.", parent=root, status="removed")
    expected = {None: 2, cast.member: 3, cast.author: 2, cast.moderator: 4}
    for reader, count in expected.items():
        page = page_text(client_for(seeded_app, reader).get(f"/comments/{root.id}/thread"))
        assert f"A thread of {count} comments" in page, (reader, count)
