"""Flags in the browser: the flag forms, the moderators' queue, decisions on comments and entries, and who sees what."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from kb.audit.models import AuditEvent
from kb.comments.models import Comment
from kb.contributions.forms import EXPIRED_MESSAGE
from kb.entries.models import Entry
from kb.extensions import db
from kb.moderation.models import Flag
from kb.notifications import service as notifications
from kb.notifications.models import Notification
from kb.users.session_store import end_all_sessions
from tests.accounts import Cast, client_for, make_cast, page_text
from tests.conftest import make_app
from tests.factories import add_comment, reloaded_entry

PUBLIC_LESSON = "procurement-weighted-towards-cost"
DRAFT_LESSON = "who-decides-a-service-is-ready-to-go-live"
TOKEN = re.compile(r'name="([\w-]*csrf_token)"[^>]*value="([^"]+)"')


def token_of(html: str, prefix: str = "") -> str:
    for name, value in TOKEN.findall(html):
        if name == f"{prefix}csrf_token":
            return value
    raise AssertionError(f"no {prefix}csrf_token in the page")


def post_page(client: FlaskClient, path: str, data: dict[str, str], *, page: str | None = None, prefix: str = ""):
    html = client.get(page or path).get_data(as_text=True)
    return client.post(path, data={f"{prefix}csrf_token": token_of(html, prefix), **data})


def decide(client: FlaskClient, path: str, prefix: str, decision: str, reason: str = "", page: str | None = None):
    data = {"decision": decision, f"{prefix}reason": reason}
    return post_page(client, path, data, page=page or path, prefix=prefix)


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Calls to `moderation_decided`, passed on to the real notifications service."""
    calls: list[dict[str, Any]] = []
    real = notifications.moderation_decided

    def record(recipient, **kwargs):
        comment = kwargs.get("comment")
        calls.append(
            {
                "recipient_id": recipient.id if recipient is not None else None,
                "entry_id": kwargs["entry"].id,
                "comment_id": comment.id if comment is not None else None,
                "message": kwargs["message"],
            }
        )
        return real(recipient, **kwargs)

    monkeypatch.setattr(notifications, "moderation_decided", record)
    return calls


@pytest.fixture
def lesson(seeded_app: Flask, cast: Cast) -> Entry:
    found = reloaded_entry(PUBLIC_LESSON)
    found.author_id = cast.author.id
    db.session.commit()
    return found


@pytest.fixture
def thread(lesson: Entry, cast: Cast) -> tuple[Comment, Comment]:
    top = add_comment(lesson, cast.author, "Scored on **price** alone, said the provider.")
    reply = add_comment(lesson, cast.member, "The minutes agree with that.", parent=top)
    return top, reply


# --- Flagging ------------------------------------------------------------------------------------


def test_a_member_flags_a_comment_once_and_a_second_try_is_told_so(seeded_app, cast, thread) -> None:
    top, _ = thread
    member = client_for(seeded_app, cast.member)
    page = member.get(f"/comments/{top.id}/flag")
    assert page.status_code == 200
    assert "Scored on" in page_text(page)
    response = post_page(member, f"/comments/{top.id}/flag", {"reason": "inaccurate", "note": "Not what was said."})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/comments/{top.id}")
    flag = db.session.scalar(select(Flag).where(Flag.comment_id == top.id))
    assert (flag.reporter_id, flag.reason, flag.note) == (cast.member.id, "inaccurate", "Not what was said.")
    assert audit("flag.raise")[-1].target_id == top.id
    again = post_page(member, f"/comments/{top.id}/flag", {"reason": "abusive"}, page=f"/comments/{top.id}/flag")
    assert again.status_code == 303
    followed = member.get(again.headers["Location"], follow_redirects=True)
    assert "You have already flagged this comment" in page_text(followed)
    assert "You have already flagged this comment" in page_text(member.get(f"/comments/{top.id}/flag"))
    assert db.session.scalar(select(Flag.id).where(Flag.reason == "abusive")) is None


def test_something_else_needs_a_note_and_what_was_typed_is_kept(seeded_app, cast, thread) -> None:
    top, _ = thread
    member = client_for(seeded_app, cast.member)
    response = post_page(member, f"/comments/{top.id}/flag", {"reason": "other", "note": "   "})
    assert response.status_code == 400
    assert "Say what is wrong: you chose something else." in page_text(response)
    assert re.search(r'value="other"[^>]*checked|checked[^>]*value="other"', page_text(response))
    long_note = "x" * 2_100
    too_long = post_page(member, f"/comments/{top.id}/flag", {"reason": "other", "note": long_note})
    assert too_long.status_code == 400
    assert long_note in page_text(too_long)
    stale = member.post(
        f"/comments/{top.id}/flag", data={"csrf_token": "stale", "reason": "other", "note": "Kept text"}
    )
    assert stale.status_code == 400
    assert EXPIRED_MESSAGE in page_text(stale)
    assert "Kept text" in page_text(stale)
    assert db.session.scalar(select(Flag.id)) is None


def test_flagging_an_entry(seeded_app, cast, lesson) -> None:
    member = client_for(seeded_app, cast.member)
    assert "Flag this lesson for the moderators" in page_text(member.get(lesson.path))
    response = post_page(member, f"{lesson.path}/flag", {"reason": "personal-data"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(lesson.path)
    assert db.session.scalar(select(Flag.target_key)) == f"entry:{lesson.id}"


def test_flags_on_what_the_member_cannot_see_answer_404(seeded_app, cast, lesson) -> None:
    hidden = add_comment(lesson, cast.author, "Hidden words", status="hidden")
    removed = add_comment(lesson, cast.author, "Removed words", status="removed")
    member = client_for(seeded_app, cast.member)
    for path in (f"/comments/{hidden.id}/flag", f"/comments/{removed.id}/flag", f"/lessons/{DRAFT_LESSON}/flag"):
        assert member.get(path).status_code == 404, path
        assert member.post(path, data={"reason": "abusive"}).status_code == 404, path
    assert member.get("/comments/999999/flag").status_code == 404
    assert member.get(f"/reviews/{PUBLIC_LESSON}/flag").status_code == 404
    anonymous = client_for(seeded_app)
    assert anonymous.get(f"/comments/{hidden.id}/flag").status_code == 302
    assert db.session.scalar(select(Flag.id)) is None


def test_the_comment_action_row_offers_flag_to_members_and_decisions_to_moderators(seeded_app, cast, thread) -> None:
    top, reply = thread
    page = page_text(client_for(seeded_app, cast.member).get(reloaded_entry(PUBLIC_LESSON).path))
    assert f'href="/comments/{top.id}/flag"' in page
    assert f'href="/comments/{reply.id}/flag"' not in page  # the member's own comment
    assert "kb-comment-moderation" not in page
    staff_page = page_text(client_for(seeded_app, cast.moderator).get(reloaded_entry(PUBLIC_LESSON).path))
    assert f'href="/moderation/comments/{top.id}"' in staff_page
    assert f'href="/comments/{top.id}/flag"' not in staff_page
    anonymous_page = page_text(client_for(seeded_app).get(reloaded_entry(PUBLIC_LESSON).path))
    assert "/flag" not in anonymous_page


# --- The queue -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "member", "author", "panel"])
def test_moderation_pages_answer_404_to_everyone_but_staff(seeded_app, cast, thread, who) -> None:
    top, _ = thread
    client = client_for(seeded_app, None if who == "anonymous" else getattr(cast, who))
    for path in ("/moderation/flags", f"/moderation/comments/{top.id}", f"/moderation/entries/{PUBLIC_LESSON}"):
        assert client.get(path).status_code == 404, path
    for path in (f"/moderation/comments/{top.id}", f"/moderation/entries/{PUBLIC_LESSON}"):
        assert client.post(path, data={"decision": "hide"}).status_code == 404, path
    assert reloaded_entry(PUBLIC_LESSON).status == "published"
    assert db.session.get(Comment, top.id).status == "visible"


def test_the_queue_shows_each_item_in_context(seeded_app, cast, thread, lesson) -> None:
    _top, reply = thread
    post_page(client_for(seeded_app, cast.panel), f"/comments/{reply.id}/flag", {"reason": "abusive"})
    post_page(
        client_for(seeded_app, cast.other_panel), f"/comments/{reply.id}/flag", {"reason": "other", "note": "Snide."}
    )
    post_page(client_for(seeded_app, cast.member), f"{lesson.path}/flag", {"reason": "inaccurate"})
    moderator = client_for(seeded_app, cast.moderator)
    page = page_text(moderator.get("/moderation/flags"))
    assert "2 items flagged" in page
    assert page.index(f'id="comment-{reply.id}"') < page.index(f'id="entry-{lesson.id}"')
    comment_card = page[page.index(f'id="comment-{reply.id}"') : page.index(f'id="entry-{lesson.id}"')]
    assert lesson.title in comment_card
    assert "Scored on" in comment_card  # the parent
    assert "The minutes agree with that." in comment_card
    assert "Flagged by 2 people" in comment_card
    assert "Abusive" in comment_card
    assert "Something else" in comment_card
    assert "Snide." in comment_card
    assert "Flags (2)" in page
    assert "Flags (" not in page_text(client_for(seeded_app, cast.member).get("/"))


# --- Decisions on comments -----------------------------------------------------------------------


def test_hiding_a_flagged_comment_from_the_queue(seeded_app, cast, thread, told, sent) -> None:
    top, _reply = thread
    post_page(client_for(seeded_app, cast.member), f"/comments/{top.id}/flag", {"reason": "abusive"})
    moderator = client_for(seeded_app, cast.moderator)
    prefix = f"comment-{top.id}-"
    response = decide(
        moderator, f"/moderation/comments/{top.id}", prefix, "hide", "Keep to the evidence.", page="/moderation/flags"
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/moderation/flags")
    db.session.expire_all()
    hidden = db.session.get(Comment, top.id)
    assert (hidden.status, hidden.status_reason, hidden.moderated_by_id) == (
        "hidden",
        "Keep to the evidence.",
        cast.moderator.id,
    )
    assert db.session.scalar(select(Flag.resolution).where(Flag.comment_id == top.id)) == "hidden"
    assert audit("comment.hide")[-1].target_id == top.id
    assert told[-1]["recipient_id"] == cast.author.id
    assert told[-1]["comment_id"] == top.id
    notice = db.session.scalar(select(Notification).where(Notification.user_id == cast.author.id))
    assert (notice.kind, notice.comment_id) == ("moderation", top.id)
    assert "Keep to the evidence." in notice.message
    to_author = [mail for mail in sent if mail.to == cast.author.email]
    assert len(to_author) == 1
    assert "Keep to the evidence." in to_author[0].body
    assert "Nothing is flagged." in page_text(moderator.get("/moderation/flags"))
    # Who reads it now: the author with the reason, moderators; not other members, whose reply stays.
    author_page = page_text(client_for(seeded_app, cast.author).get(reloaded_entry(PUBLIC_LESSON).path))
    assert "Scored on" in author_page
    assert "Keep to the evidence." in author_page
    assert "Scored on" in page_text(moderator.get(reloaded_entry(PUBLIC_LESSON).path))
    member_page = page_text(client_for(seeded_app, cast.member).get(reloaded_entry(PUBLIC_LESSON).path))
    assert "Scored on" not in member_page
    assert "The minutes agree with that." in member_page
    assert "Scored on" not in page_text(client_for(seeded_app).get(reloaded_entry(PUBLIC_LESSON).path))


def test_a_decision_needs_a_reason_and_keeps_what_was_typed(seeded_app, cast, thread) -> None:
    top, _ = thread
    moderator = client_for(seeded_app, cast.moderator)
    prefix = f"comment-{top.id}-"
    response = decide(moderator, f"/moderation/comments/{top.id}", prefix, "remove", "  ")
    assert response.status_code == 400
    assert "Give a reason to remove; the author will see it." in page_text(response)
    stale = moderator.post(
        f"/moderation/comments/{top.id}",
        data={f"{prefix}csrf_token": "stale", f"{prefix}reason": "My typed reason", "decision": "hide"},
    )
    assert stale.status_code == 400
    assert EXPIRED_MESSAGE in page_text(stale)
    assert "My typed reason" in page_text(stale)
    assert db.session.get(Comment, top.id).status == "visible"


def test_moderators_act_on_a_comment_from_its_action_row_without_a_flag(seeded_app, cast, thread, told) -> None:
    top, _ = thread
    moderator = client_for(seeded_app, cast.moderator)
    prefix = f"comment-{top.id}-"
    assert f'href="/moderation/comments/{top.id}"' in moderator.get(reloaded_entry(PUBLIC_LESSON).path).get_data(
        as_text=True
    )
    html = moderator.get(f"/moderation/comments/{top.id}").get_data(as_text=True)
    response = moderator.post(
        f"/moderation/comments/{top.id}",
        data={
            f"{prefix}csrf_token": token_of(html, prefix),
            f"{prefix}reason": "Names a patient.",
            f"{prefix}back": f"/comments/{top.id}",
            "decision": "remove",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/comments/{top.id}")
    db.session.expire_all()
    assert db.session.get(Comment, top.id).status == "removed"
    assert "Scored on" not in page_text(client_for(seeded_app, cast.author).get(reloaded_entry(PUBLIC_LESSON).path))
    restore = decide(moderator, f"/moderation/comments/{top.id}", prefix, "restore")
    assert restore.status_code == 303
    db.session.expire_all()
    assert db.session.get(Comment, top.id).status == "visible"
    assert [call["message"].split(" ")[2] for call in told] == ["removed", "restored"]
    assert [event.action for event in audit("comment.remove") + audit("comment.restore")] == [
        "comment.remove",
        "comment.restore",
    ]


def test_dismissing_flags_leaves_the_comment(seeded_app, cast, thread) -> None:
    top, _ = thread
    post_page(client_for(seeded_app, cast.member), f"/comments/{top.id}/flag", {"reason": "off-topic"})
    moderator = client_for(seeded_app, cast.moderator)
    response = decide(moderator, f"/moderation/comments/{top.id}", f"comment-{top.id}-", "dismiss")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Comment, top.id).status == "visible"
    assert db.session.scalar(select(Flag.resolution)) == "dismissed"
    assert audit("flag.dismiss")[-1].target_id == top.id


# --- Decisions on entries ------------------------------------------------------------------------


def test_hiding_a_flagged_entry_leaves_it_to_its_author_and_staff(seeded_app, cast, lesson, told) -> None:
    post_page(client_for(seeded_app, cast.member), f"{lesson.path}/flag", {"reason": "inaccurate"})
    moderator = client_for(seeded_app, cast.moderator)
    prefix = f"entry-{lesson.id}-"
    response = decide(
        moderator, f"/moderation/entries/{PUBLIC_LESSON}", prefix, "hide", "Figures disputed.", page="/moderation/flags"
    )
    assert response.status_code == 303
    hidden = reloaded_entry(PUBLIC_LESSON)
    assert (hidden.status, hidden.status_note) == ("hidden", "Figures disputed.")
    assert audit("entry.hide")[-1].target_id == lesson.id
    assert told[-1]["recipient_id"] == cast.author.id
    assert told[-1]["entry_id"] == lesson.id
    assert client_for(seeded_app).get(lesson.path).status_code == 404
    assert client_for(seeded_app, cast.member).get(lesson.path).status_code == 404
    author_view = client_for(seeded_app, cast.author).get(lesson.path)
    assert author_view.status_code == 200
    assert "Figures disputed." in page_text(author_view)
    assert "A moderator hid this" in page_text(author_view)
    assert moderator.get(lesson.path).status_code == 200


def test_removing_an_entry_leaves_it_to_staff_and_restore_publishes_it(seeded_app, cast, lesson) -> None:
    moderator = client_for(seeded_app, cast.moderator)
    prefix = f"entry-{lesson.id}-"
    assert decide(moderator, f"/moderation/entries/{PUBLIC_LESSON}", prefix, "remove", "Off-topic.").status_code == 303
    assert client_for(seeded_app, cast.author).get(lesson.path).status_code == 404
    assert client_for(seeded_app, cast.admin).get(lesson.path).status_code == 200
    assert decide(moderator, f"/moderation/entries/{PUBLIC_LESSON}", prefix, "restore").status_code == 303
    assert reloaded_entry(PUBLIC_LESSON).status == "published"
    assert client_for(seeded_app).get(lesson.path).status_code == 200
    assert [event.action for event in audit("entry.remove") + audit("entry.restore")] == [
        "entry.remove",
        "entry.restore",
    ]


def test_a_decision_that_does_not_fit_is_refused_clearly(seeded_app, cast, lesson) -> None:
    moderator = client_for(seeded_app, cast.moderator)
    response = decide(moderator, f"/moderation/entries/{PUBLIC_LESSON}", f"entry-{lesson.id}-", "restore", "Why not")
    assert response.status_code == 409
    assert "cannot be restored: it is published" in page_text(response)
    assert "Why not" in page_text(response)


def test_flags_are_limited_per_member_and_the_note_is_kept(tmp_path, seeded_database) -> None:
    app = make_app(tmp_path / "limited", seeded_database, FLAG_LIMIT_PER_USER="2 per hour")
    with app.app_context():
        cast = make_cast()
        lesson = reloaded_entry(PUBLIC_LESSON)
        comments = [add_comment(lesson, cast.author, f"Comment {number}") for number in range(3)]
        member = client_for(app, cast.member)
        for comment in comments[:2]:
            assert post_page(member, f"/comments/{comment.id}/flag", {"reason": "abusive"}).status_code == 303
        throttled = post_page(
            member, f"/comments/{comments[2].id}/flag", {"reason": "other", "note": "Third note kept"}
        )
        assert throttled.status_code == 429
        assert "You have flagged a lot" in page_text(throttled)
        assert "Third note kept" in page_text(throttled)
        assert db.session.scalar(select(func.count(Flag.id))) == 2
        # Signing in again (every old session ended) does not give a fresh allowance.
        end_all_sessions(cast.member)
        db.session.commit()
        again = client_for(app, cast.member)
        assert post_page(again, f"/comments/{comments[2].id}/flag", {"reason": "abusive"}).status_code == 429
        other = client_for(app, cast.panel)
        assert post_page(other, f"/comments/{comments[2].id}/flag", {"reason": "abusive"}).status_code == 303
        db.session.remove()
        db.engine.dispose()
