"""One unit of work per request: after an error, whoever answers it, nothing a service wrote before raising is kept.

Each test lets a real service write (and flush), then raise. A hook then commits the
request's session once more before the answer goes out, as anything later in a request
might, and the rows are counted over a connection of their own: a rollback forgotten
anywhere shows as a saved row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from kb.comments import routes as comment_routes
from kb.comments.models import Comment
from kb.comments.service import CommentError, post_comment
from kb.entries.models import Entry
from kb.errors import (
    ConflictError,
    InvalidInputError,
    KbError,
    NotAllowedError,
    NotFoundError,
    UnavailableError,
    unit_of_work,
)
from kb.extensions import db
from kb.notifications import service as notifications
from kb.notifications.models import Follow
from kb.permissions import PermissionDeniedError
from tests.accounts import Cast, client_for, csrf_token, page_text, post_form


@pytest.fixture(autouse=True)
def _commit_again_at_the_end(seeded_app: Flask) -> None:
    """Commit each request's session after its view has answered, whatever happened in it."""

    @seeded_app.after_request
    def commit_again(response: Response) -> Response:
        db.session.commit()
        return response


def kept(model: type[Any], *where: Any) -> int:
    """Rows of `model` matching `where` that are saved: counted over a connection of their own."""
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model).where(*where)) or 0


def public_lesson() -> Entry:
    entry = db.session.scalars(
        select(Entry)
        .where(Entry.kind == "lesson", Entry.status == "published", Entry.visibility == "public")
        .order_by(Entry.slug)
    ).first()
    assert entry is not None
    return entry


def written_then(error: Exception, real: Callable[..., Any]) -> Callable[..., Any]:
    """A stand-in for the service `real` that does its work (flushed), then raises `error`."""

    def service(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        db.session.flush()
        raise error

    return service


@pytest.mark.parametrize(
    ("error", "status"),
    [(CommentError("Refused after writing."), 400), (PermissionDeniedError("comment.post"), 403)],
)
def test_a_comment_written_then_refused_is_not_kept(
    seeded_app: Flask, cast: Cast, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    entry = public_lesson()
    monkeypatch.setattr(comment_routes, "post_comment", written_then(error, post_comment))
    client = client_for(seeded_app, cast.member)
    token = csrf_token(client.get(entry.path).get_data(as_text=True))
    response = client.post(f"{entry.path}/comments", data={"csrf_token": token, "body": "Written, then refused"})
    assert response.status_code == status
    if status == 400:
        # The form comes back with the text typed and the service's message.
        assert "Written, then refused" in page_text(response)
        assert "Refused after writing." in page_text(response)
    assert kept(Comment, Comment.body == "Written, then refused") == 0


@pytest.mark.parametrize(
    ("error", "status"),
    [(notifications.FollowError("gone"), 404), (PermissionDeniedError("follow"), 404)],
)
def test_a_follow_written_then_refused_is_not_kept(
    seeded_app: Flask, cast: Cast, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    entry = public_lesson()
    monkeypatch.setattr(notifications, "follow", written_then(error, notifications.follow))
    client = client_for(seeded_app, cast.member)
    response = post_form(client, f"/follow/entry/{entry.id}", {"next": entry.path}, page=entry.path)
    assert response.status_code == status
    assert "Page not found" in page_text(response)
    assert kept(Follow, Follow.user_id == cast.member.id, Follow.target_id == entry.id) == 0


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (NotFoundError, 404),
        (NotAllowedError, 404),
        (ConflictError, 409),
        (InvalidInputError, 400),
        (UnavailableError, 503),
    ],
)
def test_each_kind_no_view_handles_answers_its_status_and_keeps_nothing(
    seeded_app: Flask, cast: Cast, kind: type[KbError], status: int
) -> None:
    entry_id, member_id = public_lesson().id, cast.member.id

    @seeded_app.get("/test-only/write-then-fail")
    def write_then_fail() -> str:
        db.session.add(Follow(user_id=member_id, target_type="entry", target_id=entry_id))
        db.session.flush()
        raise kind("a reason the person should not see")

    response = seeded_app.test_client().get("/test-only/write-then-fail")
    assert response.status_code == status
    assert "a reason the person should not see" not in response.get_data(as_text=True)
    assert kept(Follow, Follow.user_id == member_id, Follow.target_id == entry_id) == 0


def test_a_unit_of_work_commits_what_it_did(seeded_app: Flask, cast: Cast) -> None:
    entry_id = public_lesson().id
    with unit_of_work():
        db.session.add(Follow(user_id=cast.member.id, target_type="entry", target_id=entry_id))
    with db.engine.connect() as connection:
        count = select(func.count()).select_from(Follow).where(Follow.target_id == entry_id)
        assert connection.scalar(count.where(Follow.user_id == cast.member.id)) == 1


def test_a_unit_of_work_keeps_nothing_of_a_failed_block(seeded_app: Flask, cast: Cast) -> None:
    entry_id = public_lesson().id

    def fail_after_writing() -> None:
        with unit_of_work():
            db.session.add(Follow(user_id=cast.member.id, target_type="entry", target_id=entry_id))
            db.session.flush()
            raise RuntimeError("not a domain error: rolled back all the same")

    with pytest.raises(RuntimeError):
        fail_after_writing()
    assert kept(Follow, Follow.user_id == cast.member.id, Follow.target_id == entry_id) == 0
