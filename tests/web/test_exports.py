"""Downloading a discussion: Markdown and CSV of an entry's comments, Markdown of one branch.

Signed-in readers of the entry get the file; the answer is 404 exactly when the entry is
hidden from them (as its page is), and a comment they may not read is a placeholder.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from kb.comments.export import BYTE_ORDER_MARK, CSV_COLUMNS, PLACEHOLDERS
from kb.comments.models import Comment
from kb.entries.models import Entry, Lesson
from kb.extensions import db
from kb.permissions import can_view_entry, viewer_for
from tests.accounts import Cast, login_as
from tests.factories import add_comment

SITE = "http://127.0.0.1:5000"
CASES = ("public", "members", "panel", "draft", "hidden")
"""Published entries of each visibility, and a public one hidden by a moderator."""
READERS = ("member", "panel", "author", "moderator")
SEES = {
    "member": {"public", "members"},
    "panel": {"public", "members", "panel"},
    "author": {"public", "members", "draft", "hidden"},
    "moderator": set(CASES),
}
"""Which entries each reader's export works for, from the rule (the author wrote the draft and the hidden one)."""


@dataclass
class Discussion:
    """One entry per case, and on the public one a small thread with a hidden and a removed comment."""

    entries: dict[str, Entry]
    top: Comment
    reply: Comment
    hidden: Comment
    removed: Comment
    under_removed: Comment
    other_thread: Comment


@pytest.fixture
def discussion(seeded_app, cast: Cast) -> Discussion:
    entries: dict[str, Entry] = {}
    for name in CASES:
        entry = Lesson(
            slug=f"export-{name}",
            title=f"Lessons from the {name} go-live",
            summary="What the panel discussed.",
            status="hidden" if name == "hidden" else "published",
            visibility="public" if name == "hidden" else name,
            review_id=cast.review.id if name == "panel" else None,
            author_id=cast.author.id if name in ("draft", "hidden") else None,
        )
        db.session.add(entry)
        entries[name] = entry
    db.session.commit()
    for name, entry in entries.items():
        add_comment(entry, cast.member, f"A comment on the {name} entry.")
    public = entries["public"]
    top = db.session.query(Comment).filter_by(entry_id=public.id).one()
    reply = add_comment(public, cast.panel, "A reply, with a list:\n\n- one\n- two", parent=top)
    hidden = add_comment(public, cast.other_panel, "Hidden words by the member.", parent=reply, status="hidden")
    removed = add_comment(public, cast.panel, "Removed words by the panel.", status="removed")
    under_removed = add_comment(public, cast.author, "Still here under a removed comment.", parent=removed)
    other = add_comment(public, cast.author, '=HYPERLINK("http://evil.example","click"), said "Jo"\nnext line')
    return Discussion(entries, top, reply, hidden, removed, under_removed, other)


def as_reader(client: FlaskClient, cast: Cast, reader: str) -> FlaskClient:
    return login_as(client, getattr(cast, reader))


def path(entry: Entry, suffix: str) -> str:
    return f"{entry.path}/{suffix}"


def csv_rows(response) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith(BYTE_ORDER_MARK)
    rows = list(csv.reader(io.StringIO(text[len(BYTE_ORDER_MARK) :], newline="")))
    assert rows[0] == list(CSV_COLUMNS)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


# Who may download


@pytest.mark.parametrize("suffix", ["comments.md", "comments.csv"])
def test_signed_out_visitors_are_sent_to_sign_in_whatever_the_entry(client, discussion, suffix):
    for name in ("public", "panel"):
        response = client.get(path(discussion.entries[name], suffix))
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    missing = client.get(f"/lessons/no-such-entry/{suffix}")
    assert missing.status_code == 302


@pytest.mark.parametrize("name", CASES)
def test_the_export_is_404_exactly_when_the_entry_is_hidden_from_the_reader(client, cast, discussion, name):
    entry = discussion.entries[name]
    first = db.session.query(Comment).filter_by(entry_id=entry.id).order_by(Comment.id).first()
    urls = [path(entry, "comments.md"), path(entry, "comments.csv"), f"/comments/{first.id}/thread.md"]
    for reader in READERS:
        assert can_view_entry(viewer_for(getattr(cast, reader)), entry) == (name in SEES[reader]), reader
        as_reader(client, cast, reader)
        for url in urls:
            response = client.get(url)
            assert response.status_code == (200 if name in SEES[reader] else 404), (reader, url)
            if response.status_code == 404:
                assert f"the {name} entry" not in response.get_data(as_text=True)


def test_a_missing_entry_or_comment_is_404(client, cast, discussion):
    as_reader(client, cast, "moderator")
    assert client.get("/lessons/no-such-entry/comments.md").status_code == 404
    assert client.get("/comments/999999/thread.md").status_code == 404
    assert client.get(f"/papers/{discussion.entries['public'].slug}/comments.csv").status_code == 404


# Markdown


def test_markdown_is_an_attachment_naming_the_entry_with_every_comment(client, cast, discussion):
    entry = discussion.entries["public"]
    response = as_reader(client, cast, "member").get(path(entry, "comments.md"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="export-public-comments.md"'
    text = response.get_data(as_text=True)
    lines = text.splitlines()
    assert lines[0] == f"# Comments on {entry.title}"
    assert f"Entry: [{entry.title}]({SITE}{entry.path})" in lines
    assert "6 comments" in text
    member, panel = cast.member, cast.panel
    organisation = member.organisation.name
    top_header = next(line for line in lines if line.startswith(f"> **{member.display_name}**"))
    assert f"({organisation})" in top_header
    assert f"[link]({SITE}/comments/{discussion.top.id})" in top_header
    assert any(line.startswith(f"> > **{panel.display_name}**") for line in lines)
    assert "> > - one" in lines
    assert "> > A reply, with a list:" in lines


def test_markdown_shows_placeholders_to_a_member_and_keeps_replies(client, cast, discussion):
    text = as_reader(client, cast, "member").get(path(discussion.entries["public"], "comments.md")).get_data(True)
    assert "Hidden words by the member." not in text  # another member wrote it
    assert "Removed words by the panel." not in text
    assert f"> > > *{PLACEHOLDERS['hidden']}*" in text
    assert f"> *{PLACEHOLDERS['removed']}*" in text
    assert "> > Still here under a removed comment." in text
    removed_header = next(line for line in text.splitlines() if line.startswith("> [link]("))
    assert removed_header.endswith(f"/comments/{discussion.removed.id})")  # a placeholder header: no time


def test_the_author_of_a_hidden_comment_reads_it_and_a_moderator_reads_everything(client, cast, discussion):
    entry = discussion.entries["public"]
    discussion.hidden.author_id = cast.author.id
    db.session.commit()
    by_author = as_reader(client, cast, "author").get(path(entry, "comments.md")).get_data(True)
    assert "Hidden words by the member." in by_author
    assert "Removed words by the panel." not in by_author
    by_moderator = as_reader(client, cast, "moderator").get(path(entry, "comments.md")).get_data(True)
    assert "Hidden words by the member." in by_moderator
    assert "Removed words by the panel." in by_moderator
    assert "*removed by a moderator*" in by_moderator


def test_a_branch_holds_the_comment_and_its_replies_only(client, cast, discussion):
    url = f"/comments/{discussion.reply.id}/thread.md"
    response = as_reader(client, cast, "member").get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    expected = f'attachment; filename="export-public-comment-{discussion.reply.id}-thread.md"'
    assert response.headers["Content-Disposition"] == expected
    text = response.get_data(as_text=True)
    assert text.startswith(f"# A thread of comments on {discussion.entries['public'].title}\n")
    assert "2 comments" in text
    assert f"> **{cast.panel.display_name}**" in text
    assert f"> > *{PLACEHOLDERS['hidden']}*" in text
    assert "A comment on the public entry." not in text
    assert "Still here" not in text


# CSV


def test_csv_has_one_row_per_comment_in_thread_order(client, cast, discussion):
    response = as_reader(client, cast, "member").get(path(discussion.entries["public"], "comments.csv"))
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="export-public-comments.csv"'
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    rows = csv_rows(response)
    d = discussion
    expected = [d.top, d.reply, d.hidden, d.removed, d.under_removed, d.other_thread]
    assert [row["id"] for row in rows] == [str(comment.id) for comment in expected]
    assert [row["parent id"] for row in rows] == ["", str(d.top.id), str(d.reply.id), "", str(d.removed.id), ""]
    assert [row["depth"] for row in rows] == ["0", "1", "2", "0", "1", "0"]
    first = rows[0]
    assert first["author"] == cast.member.display_name
    assert first["organisation"] == cast.member.organisation.name
    assert first["posted (UTC)"].endswith("Z")
    assert first["posted (London)"][-6:] in ("+00:00", "+01:00")
    assert first["permalink"] == f"{SITE}/comments/{d.top.id}"
    assert first["status"] == "visible"
    hidden = rows[2]
    assert (hidden["status"], hidden["author"], hidden["body"]) == ("hidden", "", PLACEHOLDERS["hidden"])
    assert (hidden["posted (UTC)"], hidden["posted (London)"], hidden["edited (UTC)"]) == ("", "", "")
    assert rows[1]["posted (UTC)"].endswith("Z")


def test_csv_is_safe_against_formulas_and_quotes_round_trip(client, cast, discussion):
    rows = csv_rows(as_reader(client, cast, "member").get(path(discussion.entries["public"], "comments.csv")))
    last = rows[-1]
    assert last["body"] == "'" + discussion.other_thread.body
    assert '"Jo"' in last["body"]
    assert "\nnext line" in last["body"]


def test_csv_loads_the_comments_in_one_query(client, cast, discussion):
    as_reader(client, cast, "moderator")
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(path(discussion.entries["public"], "comments.csv"))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200
    assert len(csv_rows(response)) == 6
    assert sum("FROM comments" in statement for statement in statements) == 1


# Links on the entry page


def test_signed_in_readers_see_the_download_links(client, cast, discussion):
    entry = discussion.entries["public"]
    page = as_reader(client, cast, "member").get(entry.path).get_data(as_text=True)
    assert f'href="{entry.path}/comments.md"' in page
    assert f'href="{entry.path}/comments.csv"' in page


def test_signed_out_visitors_see_no_download_links(client, discussion):
    entry = discussion.entries["public"]
    page = client.get(entry.path).get_data(as_text=True)
    assert "comments.md" not in page
    assert "comments.csv" not in page
