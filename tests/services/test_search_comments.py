"""Comments in search: found through their entry, exactly as visible as it, and kept in step.

Comments are stored straight through the model (as the comment service stores them), so
the session hooks queue their entries and the drain after each commit indexes them for
real. Every viewer × entry visibility case is checked against the predicate
`can_view_entry` and against a table written out here from the rule. Every test runs on
each search backend (Whoosh, PostgreSQL full-text search).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select, update

from kb.comments.models import Comment
from kb.comments.service import edit_comment, post_comment
from kb.entries.models import Entry, Lesson, Review
from kb.extensions import db
from kb.moderation.service import decide_comment
from kb.permissions import ANONYMOUS, Viewer, can_view_entry, viewer_for
from kb.search.lifecycle import queue_for_indexing
from kb.search.service import SearchRequest, SearchResults, search
from kb.users.models import User
from tests.accounts import make_user
from tests.factories import add_comment
from tests.pg_search import SEARCH_BACKENDS, check_search, rebuild_search, search_app

VIEWERS = ("anonymous", "member", "panel", "moderator")
ENTRIES = ("public", "members", "panel", "draft", "hidden")
"""Published entries of each visibility, and a public entry a moderator has hidden."""
SEES: dict[str, set[str]] = {
    "anonymous": {"public"},
    "member": {"public", "members"},
    "panel": {"public", "members", "panel"},
    "moderator": set(ENTRIES),
}
"""Whose comments each viewer may find, written out from the rule rather than taken from `kb.permissions`."""
SHARED_WORD = "quillbrook"
"""In a comment on every entry."""


def word_for(name: str) -> str:
    """A word only the comment on entry `name` holds."""
    return f"zeph{name}qx"


@dataclass
class World:
    """The app, its people and viewers, and one entry of each visibility with a comment on it."""

    app: Flask
    users: dict[str, User]
    viewers: dict[str, Viewer]
    entries: dict[str, Entry]
    comments: dict[str, Comment]


@pytest.fixture(params=SEARCH_BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path, empty_database: Path) -> Iterator[World]:
    app = search_app(request.param, tmp_path, empty_database, seeded=False)
    with app.app_context():
        review = Review(slug="panel-review", title="Panel review", commissioning_body="Board", body="Terms.")
        db.session.add(review)
        db.session.commit()
        users = {
            "member": make_user("member@example.org", password=None),
            "panel": make_user("panel@example.org", password=None, panels=(review,)),
            "moderator": make_user("moderator@example.org", role="moderator", password=None),
            "writer": make_user("writer@example.org", name="Wendy Writer", password=None),
        }
        entries: dict[str, Entry] = {}
        for name in ENTRIES:
            entry = Lesson(
                slug=f"lesson-{name}",
                title=f"Lesson seen by {name}",
                summary="A lesson about rotas.",
                lesson_text="Plan the rota early.",
                status="hidden" if name == "hidden" else "published",
                visibility="public" if name == "hidden" else name,
                review_id=review.id if name == "panel" else None,
            )
            db.session.add(entry)
            entries[name] = entry
        db.session.commit()
        comments = {
            name: add_comment(entries[name], users["writer"], f"We saw {word_for(name)} and {SHARED_WORD} too.")
            for name in ENTRIES
        }
        viewers = {"anonymous": ANONYMOUS, **{name: viewer_for(users[name]) for name in VIEWERS[1:]}}
        yield World(app, users, viewers, entries, comments)
        db.session.remove()
        db.engine.dispose()


def find(world: World, viewer: str, text: str, **options: object) -> SearchResults:
    return search(world.viewers[viewer], SearchRequest(text=text, **options))  # type: ignore[arg-type]


def found_slugs(results: SearchResults) -> set[str]:
    return {hit.entry.slug for hit in results.hits}


def in_step() -> bool:
    report = check_search()
    assert report.in_step, report
    return report.in_step


def test_the_cases_follow_the_rule(world):
    for viewer, name in itertools.product(VIEWERS, ENTRIES):
        assert can_view_entry(world.viewers[viewer], world.entries[name]) == (name in SEES[viewer]), (viewer, name)


def test_a_word_only_in_a_comment_finds_its_entry_and_links_to_the_comment(world):
    results = find(world, "anonymous", word_for("public"))
    assert results.total == 1
    [hit] = results.hits
    comment = world.comments["public"]
    assert hit.entry.slug == "lesson-public"
    assert hit.link == f"/lessons/lesson-public#comment-{comment.id}"
    assert hit.snippet_label == "Comment by Wendy Writer"
    assert f"<mark>{word_for('public')}</mark>" in str(hit.snippet)


def test_a_hit_that_matched_in_the_entry_links_to_the_entry(world):
    [hit] = find(world, "anonymous", "rota").hits
    assert hit.link == "/lessons/lesson-public"
    assert hit.snippet_label == "Summary"


@pytest.mark.parametrize(("viewer", "name"), list(itertools.product(VIEWERS, ENTRIES)))
def test_a_comment_is_found_exactly_by_those_who_may_see_its_entry(world, viewer, name):
    results = find(world, viewer, word_for(name))
    if name in SEES[viewer]:
        assert found_slugs(results) == {f"lesson-{name}"}
        assert results.total == 1
    else:
        assert (results.total, results.hits) == (0, [])
        assert all(not counts for counts in results.facets.values())
        assert results.suggestion is None
        assert results.corrected_from is None


@pytest.mark.parametrize("viewer", VIEWERS)
def test_a_word_in_every_comment_counts_only_visible_entries(world, viewer):
    results = find(world, viewer, SHARED_WORD, per_page=50)
    expected = {f"lesson-{name}" for name in SEES[viewer]}
    assert found_slugs(results) == expected
    assert results.total == len(expected)
    kinds = {count.value: count.count for count in results.facets["kind"]}
    assert kinds == {"lesson": len(expected)}


@pytest.mark.parametrize("viewer", ["anonymous", "member", "panel"])
def test_a_misspelt_word_of_a_comment_on_a_hidden_entry_is_not_suggested(world, viewer):
    typo = word_for("hidden").replace("qx", "qz")
    results = find(world, viewer, typo)
    assert (results.total, results.suggestion, results.corrected_from) == (0, None, None)


def test_the_misspelt_word_is_suggested_to_a_moderator(world):
    """The case above can fail: the same typo is corrected for someone who may see the entry."""
    results = find(world, "moderator", word_for("hidden").replace("qx", "qz"))
    assert results.corrected_from is not None
    assert found_slugs(results) == {"lesson-hidden"}


@pytest.mark.parametrize("status", ["hidden", "removed"])
def test_a_hidden_or_removed_comment_is_found_by_nobody(world, status):
    comment = add_comment(
        world.entries["public"], world.users["member"], "The word glimmerfax was said.", status=status
    )
    for viewer in VIEWERS:
        assert find(world, viewer, "glimmerfax").total == 0, viewer
    comment.status = "visible"
    db.session.commit()
    assert find(world, "anonymous", "glimmerfax").total == 1
    assert in_step()


def test_hiding_a_comment_takes_its_words_out_of_search(world):
    comment = world.comments["public"]
    comment.status = "hidden"
    db.session.commit()
    for viewer in VIEWERS:
        assert find(world, viewer, word_for("public")).total == 0, viewer
    assert in_step()


def test_editing_a_comment_reindexes_its_entry(world):
    comment = world.comments["public"]
    comment.body = "Now it says brindlemoss instead."
    db.session.commit()
    assert find(world, "anonymous", word_for("public")).total == 0
    assert found_slugs(find(world, "anonymous", "brindlemoss")) == {"lesson-public"}
    assert in_step()


def test_a_reply_is_searchable_and_links_to_itself(world):
    reply = add_comment(
        world.entries["members"], world.users["member"], "Agreed: tallowick.", parent=world.comments["members"]
    )
    assert find(world, "anonymous", "tallowick").total == 0
    [hit] = find(world, "member", "tallowick").hits
    assert hit.link == f"/lessons/lesson-members#comment-{reply.id}"
    assert hit.snippet_label == f"Comment by {world.users['member'].display_name}"


def test_a_reply_deeper_than_the_entry_page_shows_links_to_its_permalink(world):
    parent = world.comments["members"]
    for level in range(5):
        parent = add_comment(world.entries["members"], world.users["member"], f"Level {level + 1}.", parent=parent)
    deep = add_comment(world.entries["members"], world.users["member"], "Deep down: quillhaven.", parent=parent)
    assert deep.depth == 6
    [hit] = find(world, "member", "quillhaven").hits
    assert hit.link == f"/comments/{deep.id}"


@pytest.mark.parametrize("by", ["id", "relationship"])
def test_moving_a_comment_to_another_entry_reindexes_both(world, by):
    comment = world.comments["members"]
    if by == "id":
        comment.entry_id = world.entries["public"].id
    else:
        comment.entry = world.entries["public"]
    db.session.commit()
    assert found_slugs(find(world, "member", word_for("members"))) == {"lesson-public"}
    assert found_slugs(find(world, "anonymous", word_for("members"))) == {"lesson-public"}
    assert in_step()


def test_a_comment_on_an_entry_that_becomes_hidden_disappears_with_it(world):
    entry = world.entries["public"]
    entry.status = "hidden"
    db.session.commit()
    assert find(world, "anonymous", word_for("public")).total == 0
    assert find(world, "moderator", word_for("public")).total == 1


def test_check_sees_a_comment_changed_behind_the_index_and_a_queued_entry_puts_it_right(world):
    """The fingerprint covers comment text: a bulk update (which no flush sees) leaves the entry stale."""
    entry = world.entries["public"]
    db.session.execute(update(Comment).where(Comment.entry_id == entry.id).values(body="Rewritten as ochreveil."))
    db.session.commit()
    assert check_search().stale == [entry.id]
    queue_for_indexing(db.session, {entry.id})
    db.session.commit()
    assert in_step()
    assert found_slugs(find(world, "anonymous", "ochreveil")) == {"lesson-public"}


def test_a_rebuild_includes_comments(world):
    assert rebuild_search() == len(ENTRIES) + 1
    assert in_step()
    assert found_slugs(find(world, "anonymous", word_for("public"))) == {"lesson-public"}
    assert find(world, "anonymous", "glimmerfax").total == 0


def comment_queries(world: World, text: str, viewer: str = "anonymous") -> tuple[SearchResults, int]:
    """A search and how many statements it sent to the comments table."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        results = find(world, viewer, text)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return results, sum("FROM comments" in statement for statement in statements)


def test_comments_are_not_read_when_every_hit_matched_in_its_entry(world):
    add_comment(world.entries["public"], world.users["member"], "Rotas again, and rotas.")
    results, queries = comment_queries(world, "rota", "moderator")
    assert results.total == len(ENTRIES)
    assert all(hit.link == hit.entry.path for hit in results.hits)
    assert queries == 0


def test_an_entry_text_match_is_preferred_to_a_comment_with_more_matches(world):
    add_comment(world.entries["public"], world.users["member"], "rota rota rota rota")
    [hit] = find(world, "anonymous", "rota").hits
    assert (hit.snippet_label, hit.link) == ("Summary", "/lessons/lesson-public")


def test_the_page_loads_comments_for_its_hits_in_one_query(world):
    for number in range(30):
        add_comment(world.entries["public"], world.users["member"], f"Comment {number} on staffing.", commit=False)
    db.session.commit()
    results, queries = comment_queries(world, "staffing")
    assert results.hits[0].snippet_label.startswith("Comment by")
    assert queries == 1


def test_comment_words_weigh_less_than_the_entrys_own(world):
    """An entry with the word in its lesson ranks above one that only has it in a comment."""
    entry = world.entries["members"]
    assert isinstance(entry, Lesson)
    entry.lesson_text = f"Plan the rota early; {SHARED_WORD} matters."
    db.session.commit()
    results = find(world, "member", SHARED_WORD)
    assert results.hits[0].entry.slug == "lesson-members"
    assert results.hits[0].link == "/lessons/lesson-members"
    assert db.session.scalar(select(Entry.id).where(Entry.slug == "lesson-members")) == entry.id


def test_the_comment_and_moderation_services_keep_search_in_step(world):
    """Post, reply, edit, hide, restore and remove through the real services: each commit is searchable at once."""
    entry, member, moderator = world.entries["public"], world.users["member"], world.users["moderator"]
    posted = post_comment(entry, "Posted about fernwhisk.", actor=member)
    db.session.commit()
    assert found_slugs(find(world, "anonymous", "fernwhisk")) == {"lesson-public"}
    reply = post_comment(entry, "A reply about gorsebell.", actor=member, parent=posted)
    db.session.commit()
    assert find(world, "anonymous", "gorsebell").hits[0].link == f"{entry.path}#comment-{reply.id}"
    edit_comment(posted, "Now about hollyrake.", actor=member)
    db.session.commit()
    assert find(world, "anonymous", "fernwhisk").total == 0
    assert find(world, "anonymous", "hollyrake").total == 1
    decide_comment(posted, "hide", actor=moderator, reason="Off topic.")
    db.session.commit()
    assert find(world, "moderator", "hollyrake").total == 0
    decide_comment(posted, "restore", actor=moderator)
    db.session.commit()
    assert find(world, "anonymous", "hollyrake").total == 1
    decide_comment(posted, "remove", actor=moderator, reason="Personal data.")
    db.session.commit()
    assert find(world, "moderator", "hollyrake").total == 0
    assert in_step()
