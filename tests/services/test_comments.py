"""The comment service: posting, replying, limits, locked entries, editing, drafts, and who may comment."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select

from kb.audit.models import AuditEvent
from kb.comments import queries
from kb.comments.models import Comment, CommentDraft
from kb.comments.service import (
    CommentError,
    CommentLockedError,
    discard_draft,
    edit_comment,
    find_draft,
    post_comment,
    save_draft,
)
from kb.entries.models import Entry
from kb.extensions import db
from kb.permissions import PermissionDeniedError, can_read_comment, readable_comments, viewer_for
from tests.accounts import Cast


def _entry(**where: str) -> Entry:
    query = select(Entry).where(Entry.kind == "lesson", Entry.status == where.get("status", "published"))
    if "visibility" in where:
        query = query.where(Entry.visibility == where["visibility"])
    entry = db.session.scalars(query.order_by(Entry.slug)).first()
    assert entry is not None, where
    return entry


def test_a_comment_is_stored_rendered_and_audited(seeded_app: Flask, cast: Cast) -> None:
    entry = _entry(visibility="public")
    comment = post_comment(entry, "  A *useful* point.\n", actor=cast.member)
    db.session.commit()
    stored = db.session.get(Comment, comment.id)
    assert stored.body == "A *useful* point."
    assert "<em>useful</em>" in stored.html
    assert stored.depth == 0
    assert stored.parent_id is None
    assert stored.thread_path == f"{comment.id:010d}"
    assert stored.author_id == cast.member.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "comment.post"))
    assert event is not None
    assert event.target_id == comment.id


def test_replies_nest_with_depth_and_path(seeded_app: Flask, cast: Cast) -> None:
    entry = _entry(visibility="public")
    top = post_comment(entry, "Top", actor=cast.member)
    reply = post_comment(entry, "Reply", actor=cast.author, parent=top)
    deeper = post_comment(entry, "Deeper", actor=cast.member, parent=reply)
    db.session.commit()
    assert (reply.depth, deeper.depth) == (1, 2)
    assert deeper.thread_path == f"{top.id:010d}/{reply.id:010d}/{deeper.id:010d}"
    assert [c.id for c in queries.branch_comments(reply)] == [reply.id, deeper.id]
    assert [c.id for c in queries.thread_comments(entry)] == [top.id, reply.id, deeper.id]


def test_empty_and_too_long_comments_are_refused(seeded_app: Flask, cast: Cast) -> None:
    entry = _entry(visibility="public")
    seeded_app.config["COMMENT_MAX_CHARS"] = 20
    with pytest.raises(CommentError, match="Write your comment"):
        post_comment(entry, "  \n ", actor=cast.member)
    with pytest.raises(CommentError, match="20 characters or fewer; yours has 21"):
        post_comment(entry, "x" * 21, actor=cast.member)
    assert post_comment(entry, "x" * 20, actor=cast.member).id


def test_replies_stop_at_the_maximum_depth(seeded_app: Flask, cast: Cast) -> None:
    entry = _entry(visibility="public")
    seeded_app.config["COMMENT_MAX_DEPTH"] = 3
    parent = post_comment(entry, "level 0", actor=cast.member)
    for level in range(1, 4):
        parent = post_comment(entry, f"level {level}", actor=cast.member, parent=parent)
    assert parent.depth == 3
    with pytest.raises(CommentError, match="nested as deeply as kb allows \\(3 replies deep\\)"):
        post_comment(entry, "too deep", actor=cast.member, parent=parent)


def test_a_locked_entry_takes_no_comments_or_replies(seeded_app: Flask, cast: Cast) -> None:
    entry = _entry(visibility="public")
    top = post_comment(entry, "Before the lock", actor=cast.member)
    entry.locked = True
    db.session.flush()
    with pytest.raises(CommentLockedError, match="locked"):
        post_comment(entry, "After", actor=cast.member)
    with pytest.raises(CommentLockedError):
        post_comment(entry, "After", actor=cast.member, parent=top)
    with pytest.raises(CommentLockedError):
        edit_comment(top, "Changed", actor=cast.member)


def test_no_comment_on_an_entry_the_actor_cannot_see(seeded_app: Flask, cast: Cast) -> None:
    draft = _entry(status="draft")
    assert draft.author_id != cast.member.id
    with pytest.raises(PermissionDeniedError):
        post_comment(draft, "Sneaky", actor=cast.member)
    panel_entry = db.session.scalar(select(Entry).where(Entry.visibility == "panel", Entry.status == "published"))
    assert panel_entry is not None
    with pytest.raises(PermissionDeniedError):
        post_comment(panel_entry, "Not on the panel", actor=cast.member)
    assert db.session.scalar(select(Comment)) is None


def test_a_reply_must_be_to_a_visible_comment_on_the_same_entry(seeded_app: Flask, cast: Cast) -> None:
    entry, other = db.session.scalars(
        select(Entry).where(Entry.visibility == "public", Entry.status == "published").order_by(Entry.id).limit(2)
    ).all()
    elsewhere = post_comment(other, "On another entry", actor=cast.member)
    with pytest.raises(CommentError, match="another entry"):
        post_comment(entry, "Reply", actor=cast.member, parent=elsewhere)
    hidden = post_comment(entry, "To be hidden", actor=cast.member)
    hidden.status = "hidden"
    with pytest.raises(CommentError, match="hidden or removed"):
        post_comment(entry, "Reply", actor=cast.member, parent=hidden)


def test_editing_keeps_the_previous_text_as_a_version(seeded_app: Flask, cast: Cast) -> None:
    entry = _entry(visibility="public")
    comment = post_comment(entry, "First text", actor=cast.member)
    db.session.commit()
    edit_comment(comment, "Second text", actor=cast.member)
    edit_comment(comment, "Third **text**", actor=cast.member)
    db.session.commit()
    assert comment.body == "Third **text**"
    assert "<strong>text</strong>" in comment.html
    assert comment.edited_at is not None
    assert [(v.number, v.body) for v in comment.versions] == [(1, "First text"), (2, "Second text")]
    assert comment.versions[1].written_at == comment.versions[0].replaced_at
    edit_comment(comment, "Third **text**", actor=cast.member)
    assert len(comment.versions) == 2, "an unchanged text makes no version"


def test_only_the_author_edits(seeded_app: Flask, cast: Cast) -> None:
    comment = post_comment(_entry(visibility="public"), "Mine", actor=cast.member)
    for other in (cast.author, cast.moderator):
        with pytest.raises(PermissionDeniedError):
            edit_comment(comment, "Not yours", actor=other)


def test_counts_only_what_the_viewer_may_read_on_entries_they_may_see(seeded_app: Flask, cast: Cast) -> None:
    public = _entry(visibility="public")
    members = _entry(visibility="members")
    post_comment(public, "one", actor=cast.member)
    hidden = post_comment(public, "two", actor=cast.member)
    hidden.status = "hidden"
    removed = post_comment(public, "three", actor=cast.author)
    removed.status = "removed"
    post_comment(members, "members only", actor=cast.member)
    db.session.commit()
    ids = [public.id, members.id]
    assert queries.comment_counts(viewer_for(None), ids) == {public.id: 1}
    assert queries.comment_counts(viewer_for(cast.author), ids) == {public.id: 1, members.id: 1}
    assert queries.comment_counts(viewer_for(cast.member), ids) == {public.id: 2, members.id: 1}
    assert queries.comment_counts(viewer_for(cast.moderator), ids) == {public.id: 3, members.id: 1}


@pytest.mark.parametrize("status", ["visible", "hidden", "removed"])
def test_the_sql_rule_for_readable_comments_agrees_with_the_predicate(
    seeded_app: Flask, cast: Cast, status: str
) -> None:
    entry = _entry(visibility="public")
    comment = post_comment(entry, f"A {status} comment", actor=cast.member)
    comment.status = status
    db.session.commit()
    readers = {"anonymous": None, "member": cast.author, "comment author": cast.member, "moderator": cast.moderator}
    expected = {"anonymous": False, "member": False, "comment author": status == "hidden", "moderator": True}
    for kind, user in readers.items():
        viewer = viewer_for(user)
        in_sql = db.session.scalar(select(Comment.id).where(Comment.id == comment.id, readable_comments(viewer)))
        assert (in_sql is not None) == can_read_comment(viewer, comment), kind
        assert can_read_comment(viewer, comment) == (status == "visible" or expected[kind]), kind


def test_a_draft_keeps_only_a_visible_parent(seeded_app: Flask, cast: Cast) -> None:
    entry = _entry(visibility="public")
    visible = post_comment(entry, "Still here", actor=cast.member)
    hidden = post_comment(entry, "Hidden soon", actor=cast.member)
    removed = post_comment(entry, "Removed soon", actor=cast.member)
    hidden.status, removed.status = "hidden", "removed"
    assert save_draft(entry, "Reply", parent=visible).parent_id == visible.id
    assert save_draft(entry, "Reply", parent=hidden).parent_id is None
    assert save_draft(entry, "Reply", parent=removed).parent_id is None


def test_drafts_are_found_by_token_for_a_day_then_ignored(seeded_app: Flask, cast: Cast) -> None:
    entry = _entry(visibility="members")
    draft = save_draft(entry, "Typed before the session ended")
    db.session.commit()
    assert find_draft(draft.token, entry) is draft
    assert find_draft("not-a-token", entry) is None
    assert find_draft(draft.token, _entry(visibility="public")) is None
    draft.created_at = draft.created_at - dt.timedelta(hours=25)
    db.session.commit()
    assert find_draft(draft.token, entry) is None
    discard_draft(None)
    assert db.session.scalar(select(CommentDraft)) is None


def test_posting_tells_the_notifications_service_after_the_flush(
    seeded_app: Flask, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int]] = []

    def comment_posted(comment: Comment, *, actor) -> None:
        assert comment.id is not None
        assert comment.thread_path
        calls.append((comment.id, actor.id))

    monkeypatch.setattr("kb.notifications.service.comment_posted", comment_posted)
    entry = _entry(visibility="public")
    comment = post_comment(entry, "Tell people", actor=cast.member)
    assert calls == [(comment.id, cast.member.id)]
    with pytest.raises(CommentError):
        post_comment(entry, "", actor=cast.member)
    assert len(calls) == 1


def test_mentions_are_marked_and_an_edit_tells_only_the_newly_mentioned(seeded_app: Flask, cast: Cast) -> None:
    from kb.notifications.mentions import handle_for
    from kb.notifications.models import Notification

    entry = _entry(visibility="public")
    member_handle = handle_for(cast.member.display_name)
    author_handle = handle_for(cast.author.display_name)
    comment = post_comment(entry, f"Over to @{member_handle} and @nobody-by-that-name.", actor=cast.moderator)
    db.session.commit()
    assert f"@{member_handle}</span>" in comment.html
    assert comment.html.count('class="kb-mention"') == 1
    assert "@nobody-by-that-name" in comment.html
    assert 'kb-mention">@nobody' not in comment.html

    def mentions_of(user_id: int) -> int:
        query = select(Notification).where(Notification.user_id == user_id, Notification.kind == "mention")
        return len(db.session.scalars(query).all())

    assert (mentions_of(cast.member.id), mentions_of(cast.author.id)) == (1, 0)
    edit_comment(comment, f"Over to @{member_handle} and @{author_handle}.", actor=cast.moderator)
    db.session.commit()
    assert (mentions_of(cast.member.id), mentions_of(cast.author.id)) == (1, 1)
    assert f"@{author_handle}</span>" in comment.html
