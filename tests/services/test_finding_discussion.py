"""A finding's discussion without HTTP: who reads and writes it, who is told, mentions, and resolving threads."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from kb.comments.models import Comment
from kb.comments.queries import comment_counts, finding_thread_comments, thread_comments, visible_comment
from kb.comments.service import CommentError, edit_comment, post_comment
from kb.extensions import db
from kb.mail.models import OutboxMail
from kb.moderation.curation import merge_entry
from kb.notifications.models import Notification, NotificationChoice
from kb.notifications.queries import shown_notifications
from kb.panels.discussion import ThreadError, reopen_thread, resolve_thread
from kb.panels.models import Finding
from kb.panels.service import FindingText, create_finding
from kb.permissions import PermissionDeniedError, can_read_comment, readable_comments, viewer_for
from kb.search.comment_texts import comments_of_hits, indexed_comment_bodies
from kb.states import MailDelivery, NotificationKind
from kb.users.models import PanelMembership, User
from tests.accounts import Cast, make_user


@pytest.fixture
def second(cast: Cast) -> User:
    """Another member of `cast.review`'s panel ("Panel Two", @panel-two)."""
    return make_user("panel-two@example.org", panels=(cast.review,))


@pytest.fixture
def finding(cast: Cast) -> Finding:
    """A draft finding of `cast.review`, held by `cast.panel` who drafted it."""
    made = create_finding(cast.review, FindingText("Handover notes were lost", "Text.", "Keep them."), actor=cast.panel)
    # The panel is told of the new draft; these tests count only what the discussion tells.
    db.session.execute(db.delete(Notification))
    db.session.commit()
    return made


def _talk(finding: Finding, author: User, body: str, parent: Comment | None = None) -> Comment:
    comment = post_comment(finding.review, body, actor=author, parent=parent, finding=finding)
    db.session.commit()
    return comment


def _told(user: User) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def test_a_comment_on_a_finding_tells_the_panel_and_links_to_its_place(seeded_app: Flask, cast: Cast, second, finding):
    comment = _talk(finding, cast.panel, "Where did the notes go?")
    assert comment.finding_id == finding.id
    assert comment.entry_id == cast.review.id
    [notice] = _told(second)
    assert notice.kind == NotificationKind.FINDING_COMMENT
    assert notice.finding_id == finding.id
    assert notice.comment_id == comment.id
    assert notice.entry_id == cast.review.id
    assert notice.link == f"/reviews/{cast.review.slug}/findings/{finding.number}#comment-{comment.id}"
    assert _told(cast.panel) == []  # not the author
    for outsider in (cast.member, cast.other_panel, cast.moderator):
        assert _told(outsider) == []


def test_a_mention_tells_only_the_mention_and_only_those_who_may_work_on_the_finding(
    seeded_app: Flask, cast: Cast, second, finding
):
    comment = _talk(finding, cast.panel, "Can @panel-two check this? And @member and @other-panel, and @moderator?")
    assert [notice.kind for notice in _told(second)] == [NotificationKind.MENTION]
    assert [notice.kind for notice in _told(cast.moderator)] == [NotificationKind.MENTION]  # staff may work on it
    assert _told(cast.member) == []
    assert _told(cast.other_panel) == []
    assert 'class="kb-mention" title="Panel Two">@panel-two' in comment.html
    assert "@member" in comment.html
    assert 'title="Member"' not in comment.html
    assert 'title="Other Panel"' not in comment.html


def test_an_edit_tells_only_the_newly_mentioned(seeded_app: Flask, cast: Cast, second, finding):
    comment = _talk(finding, cast.panel, "First words.")
    db.session.execute(db.delete(Notification))
    edit_comment(comment, "First words, @panel-two and @member.", actor=cast.panel)
    db.session.commit()
    assert [notice.kind for notice in _told(second)] == [NotificationKind.MENTION]
    assert _told(cast.member) == []


def test_only_those_who_may_work_on_the_finding_may_write(seeded_app: Flask, cast: Cast, finding):
    for outsider in (cast.member, cast.other_panel):
        with pytest.raises(PermissionDeniedError):
            post_comment(cast.review, "Let me in", actor=outsider, finding=finding)
    assert _talk(finding, cast.moderator, "Staff may.").finding_id == finding.id


def test_replies_stay_inside_their_own_discussion(seeded_app: Flask, cast: Cast, finding):
    opener = _talk(finding, cast.panel, "A thread.")
    with pytest.raises(CommentError, match="another discussion"):
        post_comment(cast.review, "On the review", actor=cast.panel, parent=opener)
    public = post_comment(cast.review, "On the review itself", actor=cast.panel)
    with pytest.raises(CommentError, match="another discussion"):
        post_comment(cast.review, "Into the finding", actor=cast.panel, parent=public, finding=finding)


ROLES = ("anonymous", "member", "other_panel", "panel", "moderator", "admin")
READERS = {"panel", "moderator", "admin"}


def _viewer(cast: Cast, role: str):
    return viewer_for(None if role == "anonymous" else getattr(cast, role))


@pytest.mark.parametrize("status", ["visible", "hidden", "removed"])
def test_the_predicate_and_the_sql_condition_agree(seeded_app: Flask, cast: Cast, finding, status):
    comment = _talk(finding, cast.panel, "Panel only.")
    comment.status = status
    db.session.commit()
    for role in ROLES:
        viewer = _viewer(cast, role)
        in_sql = db.session.scalar(select(Comment.id).where(Comment.id == comment.id, readable_comments(viewer)))
        assert can_read_comment(viewer, comment) == (in_sql is not None), role
        if role not in READERS:
            assert not can_read_comment(viewer, comment), role


def test_the_review_itself_never_shows_or_counts_the_discussion(seeded_app: Flask, cast: Cast, finding):
    comment = _talk(finding, cast.panel, "Panel only.")
    assert [row.id for row in finding_thread_comments(finding)] == [comment.id]
    assert thread_comments(cast.review) == []
    for role in ROLES:
        assert comment_counts(_viewer(cast, role), [cast.review.id]) == {}, role
        found = visible_comment(_viewer(cast, role), comment.id)
        assert (found is not None) == (role in READERS), role


def test_a_finding_comment_is_never_indexed_or_a_search_hit(seeded_app: Flask, cast: Cast, finding):
    _talk(finding, cast.panel, "quillfeather in the panel's words")
    assert indexed_comment_bodies(db.session(), [cast.review.id]) == {}
    assert comments_of_hits(db.session(), [cast.review.id], ["qui"]) == {}


def test_a_notice_of_the_discussion_goes_with_the_seat(seeded_app: Flask, cast: Cast, second, finding):
    _talk(finding, cast.panel, "Still there?")
    assert len(db.session.scalars(shown_notifications(viewer_for(second))).all()) == 1
    db.session.execute(db.delete(PanelMembership).where(PanelMembership.user_id == second.id))
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalars(shown_notifications(viewer_for(db.session.get(User, second.id)))).all() == []


# --- Resolving threads ------------------------------------------------------------------------------


def test_the_opener_and_the_holder_may_resolve_and_reopen(seeded_app: Flask, cast: Cast, second, finding):
    assert finding.holder_id == cast.panel.id
    opener = _talk(finding, second, "A point to settle.")
    resolve_thread(opener, finding, actor=second)
    assert opener.resolved_at is not None
    assert opener.resolved_by_id == second.id
    reopen_thread(opener, finding, actor=cast.panel)
    assert opener.resolved_at is None
    assert opener.resolved_by_id is None
    resolve_thread(opener, finding, actor=cast.panel)
    assert opener.resolved_by_id == cast.panel.id


def test_no_one_else_may_resolve(seeded_app: Flask, cast: Cast, second, finding):
    opener = _talk(finding, cast.panel, "Mine.")
    finding.holder_id = cast.panel.id
    db.session.commit()
    for other in (second, cast.member, cast.other_panel, cast.moderator):
        with pytest.raises(PermissionDeniedError):
            resolve_thread(opener, finding, actor=other)
    assert opener.resolved_at is None


def test_only_a_thread_s_first_comment_of_this_finding_is_resolved(seeded_app: Flask, cast: Cast, finding):
    opener = _talk(finding, cast.panel, "Mine.")
    reply = _talk(finding, cast.panel, "And a reply.", parent=opener)
    with pytest.raises(ThreadError):
        resolve_thread(reply, finding, actor=cast.panel)
    other = create_finding(cast.review, FindingText("Another", "Text.", ""), actor=cast.panel)
    with pytest.raises(ThreadError):
        resolve_thread(opener, other, actor=cast.panel)


def test_merging_the_review_leaves_its_findings_discussions_with_it(seeded_app: Flask, cast: Cast, finding):
    talk = _talk(finding, cast.panel, "Panel only.")
    said = post_comment(cast.review, "On the review itself.", actor=cast.member)
    db.session.commit()
    merge_entry(cast.review, cast.other_review, actor=cast.moderator)
    db.session.commit()
    assert talk.entry_id == cast.review.id
    assert said.entry_id == cast.other_review.id
    assert thread_comments(cast.other_review)[0].id == said.id
    assert not can_read_comment(viewer_for(cast.other_panel), talk)


def test_a_mention_mailed_without_a_notice_in_the_app_is_mailed_once(seeded_app: Flask, cast: Cast, second, finding):
    db.session.add(NotificationChoice(user_id=second.id, topic="finding_talk", in_app=False, delivery=MailDelivery.NOW))
    db.session.commit()
    _talk(finding, cast.panel, "Can @panel-two check this?")
    assert _told(second) == []
    mails = db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == second.email)).all()
    about_the_comment = [mail.subject for mail in mails if "discussion" in mail.subject]
    assert len(about_the_comment) == 1
    assert "mentioned you" in about_the_comment[0]
