"""The 429 handlers of comments and flags answer 404 for an entry, comment or parent that is hidden or
missing, and 429 otherwise; never a 500 (an `abort()` inside an error handler would be one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from kb.comments.models import Comment
from kb.entries.models import Entry
from kb.extensions import db
from tests.accounts import Cast, client_for, csrf_token, make_cast, page_text
from tests.conftest import make_app
from tests.factories import add_comment


@pytest.fixture
def limited_app(tmp_path: Path, seeded_database: Path) -> Iterator[Flask]:
    """A seeded app where a member may post one comment and raise one flag before being throttled."""
    application = make_app(
        tmp_path, seeded_database, COMMENT_LIMIT_PER_USER="1 per hour", FLAG_LIMIT_PER_USER="1 per hour"
    )
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def lessons() -> list[Entry]:
    found = list(
        db.session.scalars(
            select(Entry).where(Entry.kind == "lesson", Entry.status == "published", Entry.visibility == "public")
        )
    )
    assert len(found) >= 2
    return found


def post_comment(client, path: str, body: str, parent_id: str = ""):
    token = csrf_token(client.get(lessons()[0].path).text)
    return client.post(f"{path}/comments", data={"csrf_token": token, "body": body, "parent_id": parent_id})


def flag(client, path: str, note: str):
    token = csrf_token(client.get(lessons()[0].path + "/flag").text)
    return client.post(f"{path}/flag", data={"csrf_token": token, "reason": "other", "note": note})


@pytest.fixture
def throttled_member(limited_app: Flask) -> tuple[Cast, object]:
    """The cast, and a client of the member who has used up the comment and flag allowances."""
    cast = make_cast()
    first, _ = lessons()[:2]
    client = client_for(limited_app, cast.member)
    assert post_comment(client, first.path, "The one allowed comment.").status_code == 303
    assert flag(client, first.path, "The one allowed flag.").status_code == 303
    return cast, client


def test_a_throttled_comment_on_a_visible_entry_answers_429_with_the_text(throttled_member) -> None:
    _, client = throttled_member
    response = post_comment(client, lessons()[1].path, "Typed while throttled.")
    assert response.status_code == 429
    assert "Typed while throttled." in page_text(response)


@pytest.mark.parametrize("target", ["missing entry", "hidden entry", "missing parent", "malformed parent"])
def test_a_throttled_comment_on_a_missing_or_hidden_target_answers_404(throttled_member, target) -> None:
    _, client = throttled_member
    entry = lessons()[1]
    path, parent_id = entry.path, ""
    if target == "missing entry":
        path = "/lessons/no-such-lesson"
    elif target == "hidden entry":
        entry.visibility = "draft"
        entry.status = "draft"
        db.session.commit()
    elif target == "missing parent":
        parent_id = "999999"
    else:
        parent_id = "-1"
    before = db.session.scalar(select(func.count(Comment.id)))
    response = post_comment(client, path, "Typed while throttled.", parent_id)
    assert response.status_code == (429 if target == "malformed parent" else 404)
    if target == "malformed parent":
        assert "Typed while throttled." in page_text(response)
    assert db.session.scalar(select(func.count(Comment.id))) == before


@pytest.mark.parametrize("target", ["missing comment", "hidden comment", "missing entry", "flagged entry"])
def test_a_throttled_flag_answers_404_for_a_missing_or_hidden_target_and_429_otherwise(
    throttled_member, target
) -> None:
    cast, client = throttled_member
    entry = lessons()[1]
    if target == "missing comment":
        path = "/comments/999999"
    elif target == "hidden comment":
        path = f"/comments/{add_comment(entry, cast.author, 'Hidden later.', status='hidden').id}"
    elif target == "missing entry":
        path = "/lessons/no-such-lesson"
    else:
        path = entry.path
    response = flag(client, path, "A note typed while throttled.")
    assert response.status_code == (429 if target == "flagged entry" else 404)
    if target == "flagged entry":
        assert "A note typed while throttled." in page_text(response)
