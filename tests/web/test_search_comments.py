"""The search page finds words said in comments, labels the snippet and links to the comment, and hides what it must.

Every test runs on each search backend (Whoosh, PostgreSQL full-text search).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from kb.comments.service import post_comment
from kb.entries.models import Entry, Lesson
from kb.extensions import db
from kb.panels.service import FindingText, create_finding
from tests.accounts import Cast, login_as
from tests.factories import add_comment
from tests.pg_search import SEARCH_BACKENDS, in_context, search_app
from tests.web.dom import Node, main_of

WORD = "marshwhistle"


def results(client, text: str) -> list[Node]:
    response = client.get("/search", query_string={"q": text})
    assert response.status_code == 200
    return main_of(response.data).find_all("li", cls="kb-result")


@pytest.fixture(params=SEARCH_BACKENDS)
def seeded_app(request: pytest.FixtureRequest, tmp_path: Path, seeded_database: Path) -> Iterator[Flask]:
    """The seeded site on each search backend; `client` and `cast` use it."""
    yield from in_context(search_app(request.param, tmp_path, seeded_database, seeded=True))


@pytest.fixture
def public_lesson(seeded_app) -> Entry:
    return db.session.scalars(
        select(Lesson).where(Lesson.status == "published", Lesson.visibility == "public").order_by(Lesson.slug)
    ).first()


def test_a_word_said_in_a_comment_finds_the_entry_and_links_to_the_comment(client, cast: Cast, public_lesson):
    comment = add_comment(public_lesson, cast.member, f"At our site the **{WORD}** rota failed twice.")
    [result] = results(client, WORD)
    link = result.one("h2").one("a")
    assert link.attrs["href"] == f"{public_lesson.path}#comment-{comment.id}"
    snippet = result.one("p", cls="kb-result__snippet")
    assert snippet.one("span", cls="kb-result__label").text() == f"Comment by {cast.member.display_name}:"
    assert snippet.one("mark").text() == WORD
    assert "**" not in snippet.text()


def test_the_comment_anchor_is_on_the_entry_page(client, cast: Cast, public_lesson):
    comment = add_comment(public_lesson, cast.member, f"The {WORD} came up again.")
    [result] = results(client, WORD)
    path, anchor = result.one("h2").one("a").attrs["href"].split("#")
    page = client.get(path).get_data(as_text=True)
    assert f'id="{anchor}"' in page
    assert anchor == f"comment-{comment.id}"


def test_a_comment_on_a_members_entry_is_found_only_when_signed_in(client, cast: Cast, public_lesson):
    public_lesson.visibility = "members"
    db.session.commit()
    add_comment(public_lesson, cast.member, f"Members talk about {WORD}.")
    assert results(client, WORD) == []
    login_as(client, cast.member)
    assert len(results(client, WORD)) == 1


def test_a_hidden_comment_is_not_found_even_by_a_moderator(client, cast: Cast, public_lesson):
    add_comment(public_lesson, cast.member, f"Something about {WORD}.", status="hidden")
    assert results(client, WORD) == []
    login_as(client, cast.moderator)
    assert results(client, WORD) == []


def test_a_match_in_the_entry_itself_links_to_the_entry(client, cast: Cast, public_lesson):
    add_comment(public_lesson, cast.member, "Nothing to see.")
    found = results(client, f'"{public_lesson.title}"')
    assert found
    assert found[0].one("h2").one("a").attrs["href"] == public_lesson.path


def test_a_finding_s_discussion_is_never_found_by_anyone(client, cast: Cast):
    """The panel's words on a finding stay out of search for everyone, the panel and staff included."""
    finding = create_finding(cast.review, FindingText("A finding", "Its text.", ""), actor=cast.panel)
    post_comment(cast.review, f"The panel says {WORD} here.", actor=cast.panel, finding=finding)
    db.session.commit()
    assert results(client, WORD) == []
    for user in (cast.member, cast.panel, cast.moderator):
        login_as(client, user)
        assert results(client, WORD) == [], user.email
