"""Comments in the browser: the thread, replies and continue pages, permalinks, order, editing and history,
placeholders, unsafe Markdown, what is kept when a post fails, rate limits, and the queries a thread costs."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from kb.comments.models import Comment
from kb.comments.queries import branch_comments
from kb.contributions.forms import EXPIRED_MESSAGE
from kb.entries.models import Entry
from kb.extensions import db
from kb.users.session_store import end_all_sessions
from tests.accounts import Cast, csrf_token, login_as, page_text
from tests.factories import add_comment
from tests.web.dom import parse


def lesson(visibility: str = "public") -> Entry:
    entry = db.session.scalars(
        select(Entry)
        .where(Entry.kind == "lesson", Entry.status == "published", Entry.visibility == visibility)
        .order_by(Entry.slug)
    ).first()
    assert entry is not None
    return entry


def signed_in(app: Flask, user) -> FlaskClient:
    return login_as(app.test_client(), user)


def post(client: FlaskClient, entry: Entry, body: str, **extra: str):
    token = csrf_token(client.get(entry.path).get_data(as_text=True))
    return client.post(f"{entry.path}/comments", data={"csrf_token": token, "body": body, **extra})


def chain(entry: Entry, author, length: int) -> list[Comment]:
    comments: list[Comment] = []
    for index in range(length):
        comments.append(
            add_comment(entry, author, f"Level {index}", parent=comments[-1] if comments else None, commit=False)
        )
    db.session.commit()
    return comments


# --- Posting and reading ---------------------------------------------------------------------


def test_a_member_posts_and_everyone_who_sees_the_entry_reads_it(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    client = signed_in(seeded_app, cast.member)
    response = post(client, entry, "The **rota** was the problem.")
    assert response.status_code == 303
    comment = db.session.scalar(select(Comment))
    assert response.headers["Location"] == f"{entry.path}#comment-{comment.id}"
    page = client.get(entry.path).get_data(as_text=True)
    assert f'id="comment-{comment.id}"' in page
    assert "<strong>rota</strong>" in page
    assert "Member" in page
    assert "Test out-of-hours provider" in page
    anonymous = seeded_app.test_client().get(entry.path).get_data(as_text=True)
    assert "<strong>rota</strong>" in anonymous
    assert "Sign in to comment" in anonymous


def test_times_are_shown_in_london(seeded_app: Flask, cast: Cast) -> None:
    import datetime as dt

    entry = lesson()
    add_comment(entry, cast.member, "Summer", created_at=dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC))
    page = seeded_app.test_client().get(entry.path).get_data(as_text=True)
    assert "2 July 2026, 00:30" in page


def test_comments_on_an_entry_the_viewer_cannot_see_answer_404(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson("members")
    comment = add_comment(entry, cast.member, "Members only talk")
    anonymous = seeded_app.test_client()
    for path in (f"/comments/{comment.id}", f"/comments/{comment.id}/thread", f"/comments/{comment.id}/versions"):
        assert anonymous.get(path).status_code == 404, path
    panel_entry = db.session.scalar(select(Entry).where(Entry.visibility == "panel", Entry.status == "published"))
    hidden = add_comment(panel_entry, cast.moderator, "Panel talk")
    member = signed_in(seeded_app, cast.member)
    assert member.get(f"/comments/{hidden.id}").status_code == 404
    assert member.get(f"/comments/{hidden.id}/thread").status_code == 404
    assert member.get(f"/comments/{hidden.id}/reply").status_code == 404
    token = csrf_token(member.get(lesson().path).get_data(as_text=True))
    forced = member.post(f"{panel_entry.path}/comments", data={"csrf_token": token, "body": "Let me in"})
    assert forced.status_code == 404
    assert db.session.scalar(select(Comment).where(Comment.body == "Let me in")) is None


def test_replies_nest_and_deep_threads_continue_on_their_own_page(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    comments = chain(entry, cast.member, 8)
    page = seeded_app.test_client().get(entry.path).get_data(as_text=True)
    for shown in comments[:5]:
        assert f'id="comment-{shown.id}"' in page
    for deeper in comments[5:]:
        assert f'id="comment-{deeper.id}"' not in page
    assert f'href="/comments/{comments[4].id}/thread"' in page
    assert "3 more replies" in page
    assert page.count('<ol class="kb-comments kb-comments--replies">') == 4
    branch = seeded_app.test_client().get(f"/comments/{comments[4].id}/thread")
    assert branch.status_code == 200
    text = branch.get_data(as_text=True)
    for shown in comments[4:]:
        assert f'id="comment-{shown.id}"' in text
    assert f'id="comment-{comments[3].id}"' not in text


def test_permalinks_lead_to_the_page_that_shows_the_comment(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    comments = chain(entry, cast.member, 14)
    client = seeded_app.test_client()
    assert client.get(f"/comments/{comments[2].id}").headers["Location"] == f"{entry.path}#comment-{comments[2].id}"
    assert client.get(f"/comments/{comments[4].id}").headers["Location"] == f"{entry.path}#comment-{comments[4].id}"
    for depth, root in ((5, 4), (8, 4), (9, 8), (13, 12)):
        location = client.get(f"/comments/{comments[depth].id}").headers["Location"]
        assert location == f"/comments/{comments[root].id}/thread#comment-{comments[depth].id}"
        page = client.get(location.split("#")[0]).get_data(as_text=True)
        assert f'id="comment-{comments[depth].id}"' in page
    assert client.get("/comments/999999").status_code == 404


def test_newest_first_is_a_bookmarkable_choice(seeded_app: Flask, cast: Cast) -> None:
    import datetime as dt

    entry = lesson()
    start = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    first = add_comment(entry, cast.member, "First", created_at=start)
    second = add_comment(entry, cast.author, "Second", created_at=start + dt.timedelta(hours=1))
    reply = add_comment(entry, cast.author, "Reply", parent=first, created_at=start + dt.timedelta(hours=2))
    client = seeded_app.test_client()

    def order(page: str) -> list[int]:
        return [int(found) for found in re.findall(r'<li class="kb-comment[^"]*" id="comment-(\d+)"', page)]

    assert order(client.get(entry.path).get_data(as_text=True)) == [first.id, reply.id, second.id]
    newest = client.get(f"{entry.path}?order=newest").get_data(as_text=True)
    assert order(newest) == [second.id, first.id, reply.id]
    assert f'href="{entry.path}#comments"' in newest
    assert order(client.get(f"{entry.path}?order=sideways").get_data(as_text=True)) == [first.id, reply.id, second.id]


def test_a_reply_page_works_without_javascript(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    top = add_comment(entry, cast.author, "What about nights?")
    client = signed_in(seeded_app, cast.member)
    page = client.get(f"/comments/{top.id}/reply")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "What about nights?" in html
    assert f'name="parent_id" type="hidden" value="{top.id}"' in html or f'value="{top.id}"' in html
    assert '<label class="nhsuk-label" for="body">Your comment</label>' in html
    token = csrf_token(html)
    response = client.post(
        f"{entry.path}/comments", data={"csrf_token": token, "body": "Nights too.", "parent_id": top.id}
    )
    assert response.status_code == 303
    reply = db.session.scalar(select(Comment).where(Comment.body == "Nights too."))
    assert reply.parent_id == top.id
    assert reply.depth == 1


# --- Editing and history --------------------------------------------------------------------


def test_the_author_edits_and_only_moderators_see_earlier_versions(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    client = signed_in(seeded_app, cast.member)
    post(client, entry, "Frist thought")
    comment = db.session.scalar(select(Comment))
    assert signed_in(seeded_app, cast.author).get(f"/comments/{comment.id}/edit").status_code == 403
    form = client.get(f"/comments/{comment.id}/edit").get_data(as_text=True)
    assert "Frist thought" in form
    saved = client.post(f"/comments/{comment.id}/edit", data={"csrf_token": csrf_token(form), "body": "First thought"})
    assert saved.status_code == 303
    page = client.get(entry.path).get_data(as_text=True)
    assert "First thought" in page
    assert "(edited" in page
    assert "Frist" not in page
    assert client.get(f"/comments/{comment.id}/versions").status_code == 404
    assert seeded_app.test_client().get(f"/comments/{comment.id}/versions").status_code == 404
    moderator = signed_in(seeded_app, cast.moderator)
    versions = moderator.get(f"/comments/{comment.id}/versions")
    assert versions.status_code == 200
    assert "Frist thought" in versions.get_data(as_text=True)
    assert f'href="/comments/{comment.id}/versions"' in moderator.get(entry.path).get_data(as_text=True)


def test_an_edit_sent_after_a_moderator_hid_the_comment_comes_back_with_its_text(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    client = signed_in(seeded_app, cast.member)
    post(client, entry, "Before the edit")
    comment = db.session.scalar(select(Comment))
    form = client.get(f"/comments/{comment.id}/edit").get_data(as_text=True)
    comment.status, comment.status_reason = "hidden", "Names a patient."
    db.session.commit()
    refused = client.post(
        f"/comments/{comment.id}/edit", data={"csrf_token": csrf_token(form), "body": "My careful rewrite"}
    )
    assert refused.status_code == 403
    text = page_text(refused)
    assert "My careful rewrite" in text
    assert "can no longer be changed" in text
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).body == "Before the edit"
    someone_else = signed_in(seeded_app, cast.author)
    refused_other = someone_else.post(f"/comments/{comment.id}/edit", data={"body": "x"}, follow_redirects=True)
    assert refused_other.status_code == 403


# --- Placeholders ---------------------------------------------------------------------------


def test_hidden_and_removed_comments_leave_placeholders_and_keep_their_replies(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    hidden = add_comment(entry, cast.author, "Rude words here")
    hidden.status, hidden.status_reason = "hidden", "Personal attack"
    removed = add_comment(entry, cast.author, "Spam link here")
    removed.status = "removed"
    db.session.commit()
    add_comment(entry, cast.member, "A calm reply", parent=hidden)
    add_comment(entry, cast.member, "Another calm reply", parent=removed)
    for client in (seeded_app.test_client(), signed_in(seeded_app, cast.member)):
        page = page_text(client.get(entry.path))
        assert "This comment was hidden by a moderator." in page
        assert "This comment was removed by a moderator." in page
        assert "Rude words" not in page
        assert "Spam link" not in page
        assert "A calm reply" in page
        assert "Another calm reply" in page
    own = page_text(signed_in(seeded_app, cast.author).get(entry.path))
    assert "Rude words here" in own
    assert "Personal attack" in own
    assert "Spam link" not in own
    staff = page_text(signed_in(seeded_app, cast.moderator).get(entry.path))
    assert "Rude words here" in staff
    assert "Spam link here" in staff


# --- Unsafe Markdown --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "forbidden"),
    [
        ("<script>alert('x')</script>", "<script>alert"),
        ('<img src="x" onerror="alert(1)">', '<img src="x" onerror'),
        ("[click me](javascript:alert(1))", "javascript:"),
        ("![pic](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">x</a>', '<a href="javascript'),
    ],
)
def test_unsafe_markdown_never_reaches_the_page(seeded_app: Flask, cast: Cast, body: str, forbidden: str) -> None:
    entry = lesson()
    client = signed_in(seeded_app, cast.member)
    assert post(client, entry, body).status_code == 303
    comment = db.session.scalar(select(Comment))
    assert forbidden not in comment.html
    page = client.get(entry.path).get_data(as_text=True)
    section = page.split('id="comments-heading"')[1]
    assert forbidden not in section


# --- Nothing typed is lost ------------------------------------------------------------------------


def test_an_empty_or_too_long_comment_comes_back_with_its_text(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    seeded_app.config["COMMENT_MAX_CHARS"] = 50
    client = signed_in(seeded_app, cast.member)
    empty = post(client, entry, "   ")
    assert empty.status_code == 400
    assert "Write your comment before you post it." in page_text(empty)
    long_text = "A careful point that goes on for rather too long to fit."
    too_long = post(client, entry, long_text)
    assert too_long.status_code == 400
    page = page_text(too_long)
    assert "50 characters or fewer; yours has 56" in page
    assert long_text in page
    assert db.session.scalar(select(Comment)) is None


def test_a_stale_form_token_keeps_the_text(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    client = signed_in(seeded_app, cast.member)
    response = client.post(f"{entry.path}/comments", data={"csrf_token": "stale", "body": "Still here after all"})
    assert response.status_code == 400
    page = page_text(response)
    assert EXPIRED_MESSAGE in page
    assert "Still here after all" in page
    again = client.post(f"{entry.path}/comments", data={"csrf_token": csrf_token(page), "body": "Still here after all"})
    assert again.status_code == 303


def test_a_locked_entry_shows_a_notice_and_refuses_a_forced_post(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    add_comment(entry, cast.member, "Said before the lock")
    client = signed_in(seeded_app, cast.member)
    before = client.get(entry.path).get_data(as_text=True)
    token = csrf_token(before)
    assert '/edit">Edit<' in before
    entry.locked = True
    db.session.commit()
    page = page_text(client.get(entry.path))
    assert "This discussion is locked" in page
    assert "Said before the lock" in page
    assert 'id="comment-form" class="kb-comment-form"' not in page
    assert "/reply" not in page.split('id="comments-heading"')[1]
    own = db.session.scalar(select(Comment).where(Comment.body == "Said before the lock"))
    assert f"/comments/{own.id}/edit" not in page
    forced = client.post(f"{entry.path}/comments", data={"csrf_token": token, "body": "Let me in anyway"})
    assert forced.status_code == 409
    assert "locked" in page_text(forced)
    assert "Let me in anyway" in page_text(forced)


def test_too_deep_a_reply_is_refused_with_its_text(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    seeded_app.config["COMMENT_MAX_DEPTH"] = 2
    comments = chain(entry, cast.author, 3)
    client = signed_in(seeded_app, cast.member)
    response = post(client, entry, "One level too far", parent_id=str(comments[-1].id))
    assert response.status_code == 400
    assert "nested as deeply as kb allows" in page_text(response)
    assert "One level too far" in page_text(response)


def test_posting_too_often_answers_429_and_keeps_the_text(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    seeded_app.config["COMMENT_LIMIT_PER_USER"] = "2 per minute"
    client = signed_in(seeded_app, cast.member)
    assert post(client, entry, "one").status_code == 303
    assert post(client, entry, "two").status_code == 303
    blocked = post(client, entry, "three, typed with care")
    assert blocked.status_code == 429
    page = page_text(blocked)
    assert "posted a lot of comments in a short time" in page
    assert "three, typed with care" in page
    end_all_sessions(cast.member)
    db.session.commit()
    again = signed_in(seeded_app, cast.member)
    assert post(again, entry, "a new session is still the same person").status_code == 429
    other = signed_in(seeded_app, cast.author)
    assert post(other, entry, "someone else may still post").status_code == 303


def test_the_address_limit_holds_across_accounts(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    seeded_app.config["COMMENT_LIMIT_PER_ADDRESS"] = "2 per minute"
    assert post(signed_in(seeded_app, cast.member), entry, "one").status_code == 303
    assert post(signed_in(seeded_app, cast.author), entry, "two").status_code == 303
    blocked = post(signed_in(seeded_app, cast.panel), entry, "three from the same address")
    assert blocked.status_code == 429
    assert "three from the same address" in page_text(blocked)


def test_posts_refused_for_their_form_token_use_up_no_limit(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    seeded_app.config["COMMENT_LIMIT_PER_USER"] = "2 per minute"
    seeded_app.config["COMMENT_LIMIT_PER_ADDRESS"] = "3 per minute"
    client = signed_in(seeded_app, cast.member)
    # As a page elsewhere would post in the member's name: a forged token, or none.
    attempts = [("forged-token", ""), ("", ""), ("forged-again", "abc"), ("", "-1")]
    for attempt, (token, parent_id) in enumerate(attempts):
        data = {"body": f"Posted for them {attempt}", **({"csrf_token": token} if token else {})}
        if parent_id:  # a malformed reply is refused for its token first, and counts no more
            data["parent_id"] = parent_id
        refused = client.post(f"{entry.path}/comments", data=data)
        assert refused.status_code == 400
        assert EXPIRED_MESSAGE in page_text(refused)
    assert post(client, entry, "Typed by the member").status_code == 303
    assert post(client, entry, "And a second thought").status_code == 303
    assert post(client, entry, "Over the limit").status_code == 429, "posts that were taken still count"
    assert [comment.body for comment in db.session.scalars(select(Comment).order_by(Comment.id))] == [
        "Typed by the member",
        "And a second thought",
    ]


# --- Speed: a fixed number of queries ---------------------------------------------------------


def _queries_for(app: Flask, client: FlaskClient, path: str) -> int:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def _grow_thread(entry: Entry, authors: list, size: int) -> None:
    """Add comments to `entry` until it has `size`: nine in ten are replies, nested up to nine deep."""
    made = list(db.session.scalars(select(Comment).where(Comment.entry_id == entry.id).order_by(Comment.id)))
    for index in range(len(made), size):
        parent = None if not made or index % 10 == 0 else made[index * 7 % len(made)] if index % 10 == 9 else made[-1]
        if parent is not None and parent.depth >= 8:
            parent = None
        made.append(add_comment(entry, authors[index % len(authors)], f"Comment {index}", parent=parent, commit=False))
    db.session.commit()


def test_a_thread_costs_the_same_queries_whatever_its_size(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    authors = [cast.member, cast.author, cast.panel, cast.other_panel, cast.moderator]
    client = signed_in(seeded_app, cast.member)
    _grow_thread(entry, authors, 20)
    client.get(entry.path)
    small = _queries_for(seeded_app, client, entry.path)
    small_branch_root = db.session.scalar(select(Comment).where(Comment.entry_id == entry.id, Comment.depth == 1))
    small_branch = _queries_for(seeded_app, client, f"/comments/{small_branch_root.id}/thread")
    _grow_thread(entry, authors, 400)
    assert db.session.scalar(select(func.count(Comment.id))) == 400
    assert db.session.scalar(select(func.max(Comment.depth))) >= 5
    client.get(entry.path)
    large = _queries_for(seeded_app, client, entry.path)
    assert small == large
    page = client.get(entry.path).get_data(as_text=True)
    assert page.count('class="kb-comment') >= 350
    large_branch_root = max(
        db.session.scalars(select(Comment).where(Comment.entry_id == entry.id, Comment.depth == 1)),
        key=lambda root: len(branch_comments(root)),
    )
    assert _queries_for(seeded_app, client, f"/comments/{large_branch_root.id}/thread") == small_branch


# --- Counts on the lists ------------------------------------------------------------------------


def test_lists_count_only_the_comments_the_reader_may_read(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    add_comment(entry, cast.member, "one")
    add_comment(entry, cast.member, "two")
    add_comment(entry, cast.author, "hidden one", status="hidden")
    tag = entry.tags[0].slug
    theme = entry.tags[0].theme
    pages = ["/lessons", f"/tags/{tag}"] + ([f"/themes/{theme.slug}"] if theme else [])
    for path in pages:
        html = seeded_app.test_client().get(path).get_data(as_text=True)
        assert f'href="{entry.path}#comments">2 comments<' in html, path
        staff = signed_in(seeded_app, cast.moderator).get(path).get_data(as_text=True)
        assert f'href="{entry.path}#comments">3 comments<' in staff, path
        own = signed_in(seeded_app, cast.author).get(path).get_data(as_text=True)
        assert f'href="{entry.path}#comments">3 comments<' in own, path


def test_list_counts_cost_one_query_whatever_the_number_of_entries(seeded_app: Flask, cast: Cast) -> None:
    client = signed_in(seeded_app, cast.member)
    client.get("/lessons")
    before = _queries_for(seeded_app, client, "/lessons")
    entries = db.session.scalars(
        select(Entry).where(Entry.kind == "lesson", Entry.status == "published", Entry.visibility == "public")
    ).all()
    for entry in entries:
        add_comment(entry, cast.author, f"On {entry.slug}", commit=False)
    db.session.commit()
    client.get("/lessons")
    assert _queries_for(seeded_app, client, "/lessons") == before
    assert client.get("/lessons").get_data(as_text=True).count("1 comment<") >= 10


def test_search_results_count_readable_comments(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    add_comment(entry, cast.member, "one")
    add_comment(entry, cast.author, "hidden one", status="hidden")
    word = entry.title.split()[0]
    html = seeded_app.test_client().get(f"/search?q={word}").get_data(as_text=True)
    assert entry.path in html
    assert f'href="{entry.path}#comments">1 comment<' in html
    staff = signed_in(seeded_app, cast.moderator).get(f"/search?q={word}").get_data(as_text=True)
    assert f'href="{entry.path}#comments">2 comments<' in staff


def test_every_reply_sits_inside_its_parent_on_the_page(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    authors = [cast.member, cast.author, cast.panel]
    _grow_thread(entry, authors, 120)
    comments = db.session.scalars(select(Comment).where(Comment.entry_id == entry.id)).all()
    for order in ("", "?order=newest"):
        page = parse(seeded_app.test_client().get(f"{entry.path}{order}").get_data(as_text=True))
        items = {node.attrs["id"]: node for node in page.find_all("li", cls="kb-comment")}
        shown = [comment for comment in comments if comment.depth < 5]
        assert len(items) == len(shown)
        for comment in shown:
            outer = items[comment.anchor].ancestor("li")
            while outer is not None and "kb-comment" not in outer.classes:
                outer = outer.ancestor("li")
            if comment.parent_id is None:
                assert outer is None, comment.id
            else:
                assert outer is not None, comment.id
                assert outer.attrs["id"] == f"comment-{comment.parent_id}"
        assert page.one("section", where=lambda node: node.attrs.get("id") == "comments").find("ol") is not None


def test_a_removed_entry_shows_staff_its_discussion_without_a_form(seeded_app: Flask, cast: Cast) -> None:
    entry = lesson()
    add_comment(entry, cast.member, "Said before the removal.")
    entry.status = "removed"
    db.session.commit()
    moderator = signed_in(seeded_app, cast.moderator)
    page = page_text(moderator.get(entry.path))
    assert "Said before the removal." in page
    assert "was removed by a moderator, so its discussion takes no new comments" in page
    assert 'name="body"' not in page
    refused = post(moderator, entry, "Posted anyway")
    assert refused.status_code == 409
    assert "Posted anyway" in page_text(refused)
