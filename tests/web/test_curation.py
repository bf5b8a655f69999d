"""Curation in the browser: merging a duplicate and where its addresses lead, featuring, locking, maturity."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from kb.audit.models import AuditEvent
from kb.comments.models import Comment
from kb.extensions import db
from kb.notifications.models import Follow
from tests.accounts import Cast, client_for, csrf_token, page_text
from tests.factories import add_comment, reloaded_entry

DUPLICATE = "procurement-weighted-towards-cost"
TARGET = "north-west-contract-won-on-cheaper-bid"
MEMBERS_LESSON = "good-idea-badly-implemented"


def post_from(client: FlaskClient, page: str, path: str, data: dict[str, str] | None = None):
    """POST `data` to `path` with the CSRF token of `page`."""
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def merge(client: FlaskClient, duplicate: str, target: str):
    confirm = f"/moderation/entries/{duplicate}/merge?into={target}"
    return post_from(client, confirm, f"/moderation/entries/{duplicate}/merge", {"into": target})


# --- Merging -------------------------------------------------------------------------------------


def test_finding_and_confirming_the_entry_to_keep(seeded_app: Flask, cast: Cast) -> None:
    moderator = client_for(seeded_app, cast.moderator)
    start = moderator.get(f"/moderation/entries/{DUPLICATE}/merge")
    assert start.status_code == 200
    found = page_text(moderator.get(f"/moderation/entries/{DUPLICATE}/merge?q=cheaper+bid"))
    assert f"/moderation/entries/{DUPLICATE}/merge?into={TARGET}" in found
    assert f"merge?into={DUPLICATE}" not in found
    by_slug = page_text(moderator.get(f"/moderation/entries/{DUPLICATE}/merge?q={TARGET}"))
    assert f"into={TARGET}" in by_slug
    confirm = page_text(moderator.get(f"/moderation/entries/{DUPLICATE}/merge?into={TARGET}"))
    assert reloaded_entry(DUPLICATE).title in confirm
    assert reloaded_entry(TARGET).title in confirm
    assert "What merging does" in confirm
    assert reloaded_entry(DUPLICATE).status == "published"
    refused = page_text(moderator.get(f"/moderation/entries/{DUPLICATE}/merge?into={cast.review.slug}"))
    assert "cannot be merged" in refused
    missing = moderator.get(f"/moderation/entries/{DUPLICATE}/merge?into=no-such-entry")
    assert missing.status_code == 404


def test_merging_redirects_the_duplicate_and_moves_its_discussion(seeded_app: Flask, cast: Cast) -> None:
    duplicate, target = reloaded_entry(DUPLICATE), reloaded_entry(TARGET)
    comment = add_comment(duplicate, cast.member, "A comment that should follow the merge.")
    db.session.add(Follow(user_id=cast.member.id, target_type="entry", target_id=duplicate.id))
    db.session.commit()
    moderator = client_for(seeded_app, cast.moderator)
    response = merge(moderator, DUPLICATE, TARGET)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(target.path)
    assert audit("entry.merge")[-1].target_id == duplicate.id
    # Its page and history now lead, for good, to the target's.
    anonymous = client_for(seeded_app)
    page = anonymous.get(duplicate.path)
    assert page.status_code == 301
    assert page.headers["Location"].endswith(target.path)
    history = anonymous.get(f"{duplicate.path}/history")
    assert history.status_code == 301
    assert history.headers["Location"].endswith(f"{target.path}/history")
    # Its comments and followers are the target's now; a comment's address leads there.
    assert db.session.get(Comment, comment.id).entry_id == target.id
    assert "A comment that should follow the merge." in page_text(anonymous.get(target.path))
    assert anonymous.get(f"/comments/{comment.id}").headers["Location"].startswith(target.path)
    assert db.session.scalar(select(Follow.target_id).where(Follow.user_id == cast.member.id)) == target.id
    member = client_for(seeded_app, cast.member)
    for export in ("comments.md", "comments.csv"):
        moved_export = member.get(f"{duplicate.path}/{export}")
        assert moved_export.status_code == 301
        assert moved_export.headers["Location"].endswith(f"{target.path}/{export}")
    # Staff see the duplicate's revisions on the target's history page; others do not.
    staff_history = page_text(moderator.get(f"{target.path}/history"))
    assert f"Merged from {duplicate.title}" in staff_history
    assert f"{duplicate.path}/history/1" in staff_history
    assert moderator.get(f"{duplicate.path}/history/1").status_code == 200
    assert "Merged from" not in page_text(client_for(seeded_app, cast.member).get(f"{target.path}/history"))
    assert anonymous.get(f"{duplicate.path}/history/1").status_code == 404
    assert "Recently merged" in page_text(moderator.get("/moderation/curation"))


def test_a_duplicate_merged_into_an_entry_the_reader_cannot_see_answers_404(seeded_app: Flask, cast: Cast) -> None:
    moderator = client_for(seeded_app, cast.moderator)
    assert merge(moderator, DUPLICATE, MEMBERS_LESSON).status_code == 303
    duplicate_path = reloaded_entry(DUPLICATE).path
    assert client_for(seeded_app).get(duplicate_path).status_code == 404
    assert client_for(seeded_app).get(f"{duplicate_path}/history").status_code == 404
    member = client_for(seeded_app, cast.member).get(duplicate_path)
    assert member.status_code == 301
    assert member.headers["Location"].endswith(reloaded_entry(MEMBERS_LESSON).path)


# --- Featuring, locking, maturity and action status -----------------------------------------------


def test_featured_entries_show_on_the_home_page_for_those_who_may_see_them(seeded_app: Flask, cast: Cast) -> None:
    moderator = client_for(seeded_app, cast.moderator)
    public, members_only = reloaded_entry(DUPLICATE), reloaded_entry(MEMBERS_LESSON)
    assert "Featured" not in page_text(client_for(seeded_app).get("/"))
    for lesson in (public, members_only):
        response = post_from(moderator, lesson.path, f"/moderation/entries/{lesson.slug}/feature")
        assert response.status_code == 303
    home = page_text(client_for(seeded_app).get("/"))
    featured = home[home.index('id="featured-heading"') : home.index("Reviews under way")]
    assert public.title in featured
    assert members_only.title not in featured
    member_home = page_text(client_for(seeded_app, cast.member).get("/"))
    member_featured = member_home[member_home.index('id="featured-heading"') : member_home.index("Reviews under way")]
    assert member_featured.index(members_only.title) < member_featured.index(public.title)
    curation = page_text(moderator.get("/moderation/curation"))
    assert public.title in curation
    assert post_from(moderator, "/moderation/curation", f"/moderation/entries/{DUPLICATE}/unfeature").status_code == 303
    assert reloaded_entry(DUPLICATE).featured_at is None
    assert [event.action for event in audit("entry.unfeature")] == ["entry.unfeature"]


def test_a_locked_discussion_takes_no_new_comments(seeded_app: Flask, cast: Cast) -> None:
    moderator = client_for(seeded_app, cast.moderator)
    lesson = reloaded_entry(DUPLICATE)
    assert post_from(moderator, lesson.path, f"/moderation/entries/{DUPLICATE}/lock").status_code == 303
    assert reloaded_entry(DUPLICATE).locked
    assert "Locked: no new comments" in page_text(moderator.get(lesson.path))
    member = client_for(seeded_app, cast.member)
    refused = post_from(member, lesson.path, f"{lesson.path}/comments", {"body": "Can I still post?"})
    assert refused.status_code != 303
    assert "locked" in page_text(refused)
    assert db.session.scalar(select(Comment.id).where(Comment.entry_id == lesson.id)) is None
    assert post_from(moderator, lesson.path, f"/moderation/entries/{DUPLICATE}/unlock").status_code == 303
    assert post_from(member, lesson.path, f"{lesson.path}/comments", {"body": "Open again."}).status_code == 303
    assert [event.action for event in audit("entry.lock") + audit("entry.unlock")] == ["entry.lock", "entry.unlock"]


def test_maturity_and_action_status_are_set_from_the_lesson_page(seeded_app: Flask, cast: Cast) -> None:
    moderator = client_for(seeded_app, cast.moderator)
    lesson = reloaded_entry(DUPLICATE)
    old_maturity, old_action = lesson.maturity, lesson.action_status
    maturity = "insight" if old_maturity != "insight" else "lesson"
    action = "accepted" if old_action != "accepted" else "identified"
    response = post_from(moderator, lesson.path, f"/moderation/entries/{DUPLICATE}/maturity", {"maturity": maturity})
    assert response.status_code == 303
    response = post_from(
        moderator, lesson.path, f"/moderation/entries/{DUPLICATE}/action-status", {"action_status": action}
    )
    assert response.status_code == 303
    changed = reloaded_entry(DUPLICATE)
    assert (changed.maturity, changed.action_status) == (maturity, action)
    assert [(event.old_value, event.new_value) for event in audit("entry.maturity")] == [(old_maturity, maturity)]
    assert [(event.old_value, event.new_value) for event in audit("entry.action-status")] == [(old_action, action)]
    bad = post_from(moderator, lesson.path, f"/moderation/entries/{DUPLICATE}/maturity", {"maturity": "ripe"})
    assert bad.status_code == 303
    assert "Not a valid choice" in page_text(moderator.get(lesson.path))
    assert reloaded_entry(DUPLICATE).maturity == maturity
    learned = post_from(moderator, lesson.path, f"/moderation/entries/{DUPLICATE}/maturity", {"maturity": "learned"})
    assert learned.status_code == 303
    assert "learned only once action on it is verified" in page_text(moderator.get(lesson.path))
    assert reloaded_entry(DUPLICATE).maturity == maturity


@pytest.mark.parametrize("who", ["anonymous", "member", "author"])
def test_curation_is_for_staff_only(seeded_app: Flask, cast: Cast, who: str) -> None:
    user = None if who == "anonymous" else getattr(cast, who)
    client = client_for(seeded_app, user)
    lesson = reloaded_entry(DUPLICATE)
    page = page_text(client.get(lesson.path))
    assert "Curate this lesson" not in page
    assert client.get("/moderation/curation").status_code == 404
    assert client.get(f"/moderation/entries/{DUPLICATE}/merge").status_code == 404
    token = csrf_token(client.get("/login").get_data(as_text=True))
    for path, data in (
        (f"/moderation/entries/{DUPLICATE}/feature", {}),
        (f"/moderation/entries/{DUPLICATE}/lock", {}),
        (f"/moderation/entries/{DUPLICATE}/maturity", {"maturity": "learned"}),
        (f"/moderation/entries/{DUPLICATE}/merge", {"into": TARGET}),
    ):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404, path
    unchanged = reloaded_entry(DUPLICATE)
    assert (unchanged.featured_at, unchanged.locked, unchanged.status) == (None, False, "published")
    assert "Curate this lesson" in page_text(client_for(seeded_app, cast.moderator).get(lesson.path))


def test_curation_posts_need_the_form_token(seeded_app: Flask, cast: Cast) -> None:
    moderator = client_for(seeded_app, cast.moderator)
    for path, data in (
        (f"/moderation/entries/{DUPLICATE}/feature", {}),
        (f"/moderation/entries/{DUPLICATE}/lock", {}),
        (f"/moderation/entries/{DUPLICATE}/maturity", {"maturity": "learned"}),
        (f"/moderation/entries/{DUPLICATE}/merge", {"into": TARGET}),
    ):
        assert moderator.post(path, data=data).status_code == 400, path
    unchanged = reloaded_entry(DUPLICATE)
    assert (unchanged.featured_at, unchanged.locked, unchanged.status) == (None, False, "published")


def test_moderation_routes_do_not_collide_with_the_submission_decisions(seeded_app: Flask) -> None:
    adapter = seeded_app.url_map.bind("localhost")
    assert adapter.match("/moderation/flags")[0] == "moderation.flags"
    assert adapter.match("/moderation/curation")[0] == "curation.page"
    assert adapter.match("/moderation/entries/publish", method="POST")[0] == "moderation.entry_item"
    assert adapter.match(f"/moderation/{DUPLICATE}/publish", method="POST")[0] == "contributions.decide"
    assert adapter.match(f"/moderation/entries/{DUPLICATE}/lock", method="POST")[0] == "curation.curate"
