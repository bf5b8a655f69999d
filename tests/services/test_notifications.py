"""Who is told of a new comment, a moderation decision or a flag, and what is mailed at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from kb.comments.models import Comment, path_step
from kb.entries.models import Entry, Lesson
from kb.extensions import db
from kb.mail import Mail
from kb.moderation.models import Flag, flag_target_key
from kb.notifications import queries, service
from kb.notifications.models import Notification
from kb.permissions import can_read_comment, viewer_for
from kb.taxonomy.models import Tag
from kb.users.models import User
from tests.accounts import Cast, make_user

MakeComment = Callable[..., Comment]


def add_comment(entry: Entry, author: User, body: str, parent: Comment | None = None) -> Comment:
    """A comment written straight through the model, as the comments service stores one."""
    comment = Comment(
        entry_id=entry.id,
        author_id=author.id,
        parent_id=parent.id if parent else None,
        body=body,
        html=f"<p>{body}</p>",
        depth=parent.depth + 1 if parent else 0,
    )
    db.session.add(comment)
    db.session.flush()
    comment.thread_path = (parent.thread_path + "/" if parent else "") + path_step(comment.id)
    db.session.flush()
    return comment


def post(entry: Entry, author: User, body: str, parent: Comment | None = None) -> list[Notification]:
    """Add a comment, tell people about it and commit, as a request would."""
    comment = add_comment(entry, author, body, parent)
    written = service.comment_posted(comment, actor=author)
    db.session.commit()
    return written


def public_lesson() -> Lesson:
    """The first published public lesson of the seed with a tag in a theme."""
    query = select(Lesson).where(Lesson.status == "published", Lesson.visibility == "public").order_by(Lesson.id)
    for lesson in db.session.scalars(query):
        if any(tag.theme_id for tag in lesson.tags):
            return lesson
    raise AssertionError("the seed needs a public lesson with a themed tag")


def lesson_of_review(cast: Cast) -> Lesson:
    """The public lesson, made part of the public first review's work."""
    lesson = public_lesson()
    lesson.review_id = cast.review.id
    db.session.commit()
    return lesson


def panel_entry() -> Entry:
    """A published entry only its review's panel (and staff) may see."""
    found = db.session.scalar(
        select(Entry).where(Entry.visibility == "panel", Entry.status == "published").order_by(Entry.id)
    )
    assert found is not None, "the seed needs a panel paper"
    assert found.review is not None, "the seed's panel paper needs a review"
    return found


def kinds(user: User) -> list[str]:
    return [item.kind for item in db.session.scalars(queries.shown_notifications(viewer_for(user)))]


@pytest.fixture
def jane(seeded_app) -> User:
    return make_user("jane@example.org", name="Jane Smith")


def test_a_mention_is_listed_and_mailed_at_once_with_an_unsubscribe_link(cast: Cast, jane: User, sent: list[Mail]):
    lesson = public_lesson()
    written = post(lesson, cast.member, "I think @jane-smith knows; ask jane@example.org too.")

    assert [(item.user_id, item.kind) for item in written] == [(jane.id, "mention")]
    assert written[0].mailed_at is not None
    assert written[0].link == f"/comments/{written[0].comment_id}"
    assert [mail.to for mail in sent] == ["jane@example.org"]
    assert "Member mentioned you" in sent[0].subject
    assert "> I think @jane-smith knows" in sent[0].body
    assert "/unsubscribe/" in sent[0].body
    headers = dict(sent[0].headers)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<http")
    assert "/unsubscribe/" in headers["List-Unsubscribe"]


def test_a_reply_tells_the_parent_author_and_followers_wait_for_the_digest(cast: Cast, sent: list[Mail]):
    lesson = public_lesson()
    service.follow(cast.panel, "entry", lesson.id)
    db.session.commit()
    first = add_comment(lesson, cast.author, "The first word.")
    db.session.commit()
    sent.clear()

    post(lesson, cast.member, "A reply.", parent=first)

    assert kinds(cast.author) == ["reply"]
    assert kinds(cast.panel) == ["follow"]
    follow = db.session.scalar(select(Notification).where(Notification.user_id == cast.panel.id))
    assert follow is not None
    assert follow.mailed_at is None
    assert follow.digest_at is None
    assert [mail.to for mail in sent] == [cast.author.email]
    assert "replied to your comment" in sent[0].subject


def test_one_notification_per_person_and_the_strongest_reason_wins(cast: Cast, jane: User, sent: list[Mail]):
    lesson = lesson_of_review(cast)
    theme_id = next(tag.theme_id for tag in lesson.tags if tag.theme_id)
    for target_type, target_id in (("entry", lesson.id), ("theme", theme_id), ("review", lesson.review_id)):
        service.follow(jane, target_type, target_id)
    parent = add_comment(lesson, jane, "Jane's comment.")
    db.session.commit()

    written = post(lesson, cast.member, "Replying to @jane-smith, and @jane-smith again.", parent=parent)

    assert [(item.user_id, item.kind) for item in written] == [(jane.id, "mention")]
    assert len(sent) == 1


def test_nobody_is_told_of_their_own_comment(cast: Cast, jane: User, sent: list[Mail]):
    lesson = public_lesson()
    service.follow(jane, "entry", lesson.id)
    parent = add_comment(lesson, jane, "Mine.")
    db.session.commit()

    assert post(lesson, jane, "Me again, @jane-smith.", parent=parent) == []
    assert sent == []


def test_an_ambiguous_handle_tells_neither_person(cast: Cast, jane: User, sent: list[Mail]):
    other_jane = make_user("jane2@example.org", name="Jane  Smith")
    assert post(public_lesson(), cast.member, "Hello @jane-smith") == []
    assert kinds(jane) == []
    assert kinds(other_jane) == []
    assert sent == []


def test_a_deactivated_person_is_not_a_handle(cast: Cast, jane: User, sent: list[Mail]):
    make_user("jane2@example.org", name="Jane Smith", active=False)
    written = post(public_lesson(), cast.member, "Hello @jane-smith")
    assert [item.user_id for item in written] == [jane.id]


def test_following_a_review_hears_of_comments_on_its_entries_and_on_itself(cast: Cast, jane: User):
    lesson = lesson_of_review(cast)
    review = db.session.get(Entry, lesson.review_id)
    service.follow(jane, "review", review.id)
    db.session.commit()

    post(lesson, cast.member, "On the lesson.")
    post(review, cast.member, "On the review itself.")

    assert kinds(jane) == ["follow", "follow"]


def test_following_a_theme_hears_of_comments_on_entries_tagged_with_it(cast: Cast, jane: User):
    lesson = public_lesson()
    theme_id = next(tag.theme_id for tag in lesson.tags if tag.theme_id)
    service.follow(jane, "theme", theme_id)
    db.session.commit()
    post(lesson, cast.member, "Themed.")
    untagged = db.session.scalar(
        select(Lesson).where(
            Lesson.status == "published", Lesson.visibility == "public", ~Lesson.tags.any(Tag.theme_id == theme_id)
        )
    )
    assert untagged is not None
    post(untagged, cast.member, "Not in the theme.")

    assert kinds(jane) == ["follow"]


def test_nobody_hears_of_a_comment_on_an_entry_they_may_not_see(cast: Cast, sent: list[Mail]):
    entry = panel_entry()
    seated = make_user("seated@example.org", name="On Panel", panels=(entry.review,))
    outsider = make_user("outsider@example.org", name="Out Sider")
    service.follow(seated, "entry", entry.id)
    db.session.commit()
    service.follow(outsider, "review", entry.review.id)  # the review is public; this panel paper is not
    db.session.commit()

    written = post(entry, cast.moderator, "Over to @out-sider and @on-panel.")

    assert [(item.user_id, item.kind) for item in written] == [(seated.id, "mention")]
    assert kinds(outsider) == []
    assert [mail.to for mail in sent] == [seated.email]


def test_following_something_one_may_not_see_is_refused(cast: Cast):
    with pytest.raises(service.FollowError):
        service.follow(cast.member, "entry", panel_entry().id)
    with pytest.raises(service.FollowError):
        service.follow(cast.member, "review", public_lesson().id)
    with pytest.raises(service.FollowError):
        service.follow(cast.member, "theme", 999_999)


def test_following_twice_and_unfollowing(cast: Cast):
    lesson = public_lesson()
    first = service.follow(cast.member, "entry", lesson.id)
    assert service.follow(cast.member, "entry", lesson.id) is first
    assert service.unfollow(cast.member, "entry", lesson.id) is True
    assert service.unfollow(cast.member, "entry", lesson.id) is False


def test_hiding_the_entry_hides_its_notifications_from_list_and_count(cast: Cast, jane: User):
    lesson = public_lesson()
    post(lesson, cast.member, "Ping @jane-smith")
    viewer = viewer_for(jane)
    assert queries.unread_count(viewer) == 1

    lesson.status = "hidden"
    db.session.commit()

    assert queries.unread_count(viewer) == 0
    assert kinds(jane) == []
    assert queries.unread_count(viewer_for(cast.moderator)) == 0  # nothing was addressed to staff

    lesson.status = "published"
    db.session.commit()
    assert queries.unread_count(viewer) == 1


def test_hiding_the_comment_hides_its_notifications_but_not_from_its_author(cast: Cast, jane: User):
    lesson = public_lesson()
    parent = add_comment(lesson, cast.member, "Member's own comment, to be replied to.")
    db.session.commit()
    post(lesson, jane, "A reply to member.", parent=parent)
    assert kinds(cast.member) == ["reply"]
    reply = db.session.scalar(select(Comment).where(Comment.parent_id == parent.id))

    reply.status = "hidden"
    db.session.commit()
    assert kinds(cast.member) == []
    assert not can_read_comment(viewer_for(cast.member), reply)


def test_the_sql_comment_rule_agrees_with_the_predicate(cast: Cast, jane: User):
    lesson = public_lesson()
    comments = [add_comment(lesson, jane, f"Comment {status}") for status in ("visible", "hidden", "removed")]
    for comment, status in zip(comments, ("visible", "hidden", "removed"), strict=True):
        comment.status = status
    db.session.commit()
    for user in (cast.member, jane, cast.moderator, cast.admin):
        viewer = viewer_for(user)
        in_sql = set(db.session.scalars(select(Comment.id).where(queries.readable_comments(viewer))))
        by_rule = {comment.id for comment in comments if can_read_comment(viewer, comment)}
        assert in_sql & {comment.id for comment in comments} == by_rule, user.email


def test_mail_settings_are_respected_and_the_notification_still_listed(cast: Cast, jane: User, sent: list[Mail]):
    service.update_settings(jane, {"mentions": False})
    db.session.commit()
    written = post(public_lesson(), cast.member, "Ping @jane-smith")
    assert written[0].mailed_at is None
    assert sent == []
    assert kinds(jane) == ["mention"]
    assert queries.wants_mail(jane.id, "replies") is True


def test_a_moderation_decision_is_listed_and_mailed_to_the_author(cast: Cast, jane: User, sent: list[Mail]):
    lesson = public_lesson()
    comment = add_comment(lesson, jane, "Something a moderator hides.")
    comment.status = "removed"
    notification = service.moderation_decided(
        jane, entry=lesson, comment=comment, message="Your comment was removed: off-topic.", actor=cast.moderator
    )
    db.session.commit()

    assert notification is not None
    assert notification.mailed_at is not None
    assert kinds(jane) == ["moderation"]  # shown though the comment itself is no longer readable
    assert [mail.to for mail in sent] == [jane.email]
    assert "Your comment was removed: off-topic." in sent[0].body
    assert "/unsubscribe/" in sent[0].body
    assert dict(sent[0].headers)["List-Unsubscribe"]


def test_moderation_mail_follows_its_switch_and_nobody_is_told_of_their_own_decision(cast: Cast, jane: User, sent):
    lesson = public_lesson()
    service.update_settings(jane, {"moderation": False})
    assert service.moderation_decided(jane, entry=lesson, message="Hidden.", actor=cast.moderator) is not None
    assert service.moderation_decided(cast.moderator, entry=lesson, message="Hidden.", actor=cast.moderator) is None
    assert service.moderation_decided(None, entry=lesson, message="Hidden.", actor=cast.moderator) is None
    db.session.commit()
    assert sent == []


def test_a_flag_tells_every_moderator_and_admin_but_the_one_who_raised_it(cast: Cast, jane: User, sent: list[Mail]):
    lesson = public_lesson()
    comment = add_comment(lesson, jane, "Flag me.")
    flag = Flag(
        target_key=flag_target_key(lesson.id, comment.id),
        entry_id=lesson.id,
        comment_id=comment.id,
        reporter_id=cast.moderator.id,
        reason="abusive",
        note="Rude.",
    )
    db.session.add(flag)
    db.session.flush()
    written = service.flag_raised(flag)
    db.session.commit()

    assert {item.user_id for item in written} == {cast.admin.id}
    assert [mail.to for mail in sent] == [cast.admin.email]
    assert "Their note: Rude." in sent[0].body
    assert "/unsubscribe/" in sent[0].body


def test_an_edit_tells_only_the_newly_mentioned(cast: Cast, jane: User, sent: list[Mail]):
    bob = make_user("bob@example.org", name="Bob Jones")
    comment = add_comment(public_lesson(), cast.member, "Hi @jane-smith")
    service.comment_posted(comment, actor=cast.member)
    db.session.commit()
    sent.clear()
    previous = comment.body
    comment.body = "Hi @jane-smith and @bob-jones"
    written = service.comment_edited(comment, actor=cast.member, previous_body=previous)
    db.session.commit()
    assert [item.user_id for item in written] == [bob.id]
    assert [mail.to for mail in sent] == [bob.email]


def test_mark_read_and_mark_all_read(cast: Cast, jane: User):
    lesson = public_lesson()
    first = post(lesson, cast.member, "One @jane-smith")[0]
    post(lesson, cast.member, "Two @jane-smith")
    viewer = viewer_for(jane)
    service.mark_read(first)
    db.session.commit()
    assert queries.unread_count(viewer) == 1
    assert service.mark_all_read(jane) == 1
    db.session.commit()
    assert queries.unread_count(viewer) == 0


def test_mention_names_give_the_display_names_to_mark(cast: Cast, jane: User):
    make_user("bob1@example.org", name="Bob Jones")
    make_user("bob2@example.org", name="bob jones")
    assert service.mention_names("@jane-smith, @bob-jones and @nobody; `@jane-smith`") == {"jane-smith": "Jane Smith"}


def test_only_the_first_ten_handles_of_a_comment_tell_anyone(cast: Cast, sent: list[Mail]):
    people = [make_user(f"p{number}@example.org", name=f"Person {number}") for number in range(12)]
    handles = " ".join(f"@person-{number}" for number in range(12))
    written = post(public_lesson(), cast.member, f"Everyone: {handles}")
    assert sorted(item.user_id for item in written) == sorted(person.id for person in people[:10])
    assert len(sent) == 10


def test_a_comment_on_a_hidden_entry_tells_and_mails_no_member(cast: Cast, jane: User, sent: list[Mail]):
    lesson = public_lesson()
    service.follow(jane, "entry", lesson.id)
    lesson.status = "hidden"
    db.session.commit()

    written = post(lesson, cast.moderator, "Only staff see this, @jane-smith and @admin.")

    assert [(item.user_id, item.kind) for item in written] == [(cast.admin.id, "mention")]
    assert kinds(jane) == []
    assert [mail.to for mail in sent] == [cast.admin.email]
