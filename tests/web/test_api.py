"""The JSON API as each kind of reader uses it: tokens, visibility, pagination, writes, CSRF, errors and limits.

The world is the seed content plus a members-only lesson, a draft by one member, the
review panel's paper (already in the seed), comments visible, hidden and removed,
findings draft and published, and consultations open and closed. Each reader has an API
token made through `kb.access.service`; requests carry it as `Authorization: Bearer`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from kb.access.service import issue_token, revoke_token
from kb.comments.models import Comment
from kb.consultations.models import Consultation, Response
from kb.contributions.service import LessonFields, create_lesson
from kb.entries.models import Entry
from kb.extensions import db
from kb.states import TokenKind, TokenScope
from tests.accounts import Cast, csrf_token, login_as, make_cast, post_form
from tests.conftest import import_files, make_app
from tests.factories import add_comment
from tests.outcome_factory import make_consultation, make_finding

PANEL_PAPER = "lessons-review-panel-draft-consultation-terms"
"""A panel-only paper of the second review (by title), whose panel `Cast.other_panel` sits on."""
SECTIONS = "\n\n## Driving event\n\nA.\n\n## Lesson\n\nB.\n\n## Recommendation\n\nC.\n\n## Evidence\n\nD.\n"
MEMBERS_LESSON = (
    "---\nkind: lesson\ntitle: Members only lesson\nsummary: For members.\nvisibility: members\n---" + SECTIONS
)
LESSON_BODY = {
    "title": "Ask the sites before go-live",
    "summary": "Sites knew they were not ready.",
    "driving_event": "The date was fixed centrally.",
    "lesson": "Ask the people who will run it.",
    "recommendation": "Hold a readiness check with every site.",
    "evidence": "Three sites said so in writing.",
    "tags": ["go-live-deadline", "readiness-checks"],
    "event_date": "2013-03",
}


@dataclass
class World:
    """The app, its people, their tokens, and the things the tests look for."""

    app: Flask
    cast: Cast
    tokens: dict[str, str]
    public_slug: str
    draft_slug: str
    open_consultation: int
    closed_consultation: int
    panel_consultation: int
    comments: dict[str, int]

    def get(self, role: str | None, path: str, **kwargs: object):
        """GET `/api/v1{path}` with `role`'s token (no token for None)."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return self.app.test_client().get(f"/api/v1{path}", headers=headers, **kwargs)

    def post(self, role: str | None, path: str, body: object, **kwargs: object):
        """POST JSON to `/api/v1{path}` with `role`'s token."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return self.app.test_client().post(f"/api/v1{path}", json=body, headers=headers, **kwargs)


def _token(user, scope: TokenScope = TokenScope.READ_WRITE, **kwargs: object) -> str:
    _, text = issue_token(user, kind=TokenKind.API, name="test", scope=scope, **kwargs)
    return text


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[World]:
    """One app for the module: the writes below add to it without changing what the reads look for."""
    tmp_path = tmp_path_factory.mktemp("api")
    app = make_app(tmp_path, seeded_database, API_LIMIT="5000 per minute")
    with app.app_context():
        cast = make_cast()
        import_files(tmp_path / "content", {"lessons/members-only-lesson.md": MEMBERS_LESSON})
        sections = {"driving_event": "A.", "lesson": "B.", "recommendation": "C.", "evidence": "D."}
        fields = LessonFields("Draft by the author", "Not ready.", sections, [])
        draft = create_lesson(fields, actor=cast.author)
        public = db.session.scalars(
            select(Entry).where(Entry.kind == "lesson", Entry.visibility == "public", Entry.status == "published")
        ).first()
        assert public is not None
        top = add_comment(public, cast.member, "A visible comment.")
        reply = add_comment(public, cast.author, "A reply.", parent=top)
        hidden = add_comment(public, cast.member, "Hidden words.", status="hidden")
        removed = add_comment(public, cast.author, "Removed words.", status="removed")
        make_finding(cast.other_review, number=1, status="published", title="Published finding")
        make_finding(cast.other_review, number=2, status="draft", title="Draft finding")
        open_one = make_consultation(cast.other_review, closed=False, title="Open consultation")
        closed = make_consultation(cast.other_review, closed=True, title="Closed consultation")
        paper = db.session.scalar(select(Entry).where(Entry.slug == PANEL_PAPER))
        on_panel_paper = make_consultation(paper, closed=False, title="Panel paper consultation")
        tokens = {
            "member": _token(cast.member),
            "reader": _token(cast.member, TokenScope.READ),
            "author": _token(cast.author),
            "panel": _token(cast.other_panel),
            "moderator": _token(cast.moderator),
        }
        db.session.commit()
        comments = {"top": top.id, "reply": reply.id, "hidden": hidden.id, "removed": removed.id}
        yield World(app, cast, tokens, public.slug, draft.slug, open_one.id, closed.id, on_panel_paper.id, comments)
        db.session.remove()
        db.engine.dispose()


def walk(world: World, role: str | None, path: str) -> list[dict]:
    """Every item of a list, following `next` links page by page."""
    items: list[dict] = []
    response = world.get(role, path)
    while True:
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        items += body["items"]
        if body["next"] is None:
            assert body["next_cursor"] is None
            return items
        assert body["next"].startswith(world.app.config["SITE_URL"] + "/api/v1/")
        response = world.app.test_client().get(
            body["next"], headers={"Authorization": f"Bearer {world.tokens[role]}"} if role else {}
        )


def test_each_reader_lists_exactly_what_they_may_see(world: World) -> None:
    slugs = {
        role: {item["slug"] for item in walk(world, role, "/entries?limit=7")}
        for role in (None, "member", "author", "panel", "moderator")
    }
    assert "members-only-lesson" not in slugs[None]
    assert "members-only-lesson" in slugs["member"]
    assert world.draft_slug in slugs["author"]
    assert world.draft_slug not in slugs["member"]
    assert world.draft_slug in slugs["moderator"]
    assert PANEL_PAPER in slugs["panel"]
    assert PANEL_PAPER not in slugs["member"]
    assert slugs[None] < slugs["member"] < slugs["moderator"]
    with world.app.app_context():
        assert len(slugs["moderator"]) == db.session.scalar(
            select(func.count(Entry.id)).where(Entry.status != "merged")
        )


def test_pagination_walks_every_item_once(world: World) -> None:
    items = walk(world, "moderator", "/entries?limit=3")
    slugs = [item["slug"] for item in items]
    assert len(slugs) == len(set(slugs)) > 3
    assert slugs == [item["slug"] for item in walk(world, "moderator", "/entries?limit=100")]
    lessons = walk(world, None, "/entries?kind=lesson&limit=2")
    assert lessons
    assert {item["kind"] for item in lessons} == {"lesson"}


@pytest.mark.parametrize(
    "query",
    [
        "cursor=abc",
        "limit=0",
        "limit=101",
        "limit=x",
        "limit=" + "9" * 5000,
        "kind=poem",
        "colour=red",
        "limit=2&limit=3",
    ],
)
def test_bad_parameters_answer_400_problems(world: World, query: str) -> None:
    response = world.get(None, f"/entries?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 400
    assert problem["title"]
    assert problem["detail"]
    assert problem["type"]
    assert problem["errors"]


def test_a_tampered_or_foreign_cursor_answers_400(world: World) -> None:
    body = world.get("moderator", "/entries?limit=2").get_json()
    cursor = body["next_cursor"]
    assert world.get("moderator", f"/entries?limit=2&cursor={cursor}").status_code == 200
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert world.get("moderator", f"/entries?cursor={tampered}").status_code == 400
    foreign = f"/entries/{world.public_slug}/comments?cursor={cursor}"
    assert world.get("moderator", foreign).status_code == 400


def test_hidden_answers_exactly_as_missing(world: World) -> None:
    for path in (f"/entries/{world.draft_slug}", "/entries/members-only-lesson", f"/entries/{PANEL_PAPER}"):
        hidden, missing = world.get(None, path), world.get(None, "/entries/no-such-entry")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.get_json() == missing.get_json()
    assert world.get("member", "/entries/members-only-lesson").status_code == 200
    assert world.get("member", f"/entries/{world.draft_slug}").status_code == 404
    assert world.get("author", f"/entries/{world.draft_slug}").status_code == 200
    assert world.get("member", f"/consultations/{world.panel_consultation}").get_json()["status"] == 404
    assert world.get("panel", f"/consultations/{world.panel_consultation}").status_code == 200
    assert world.get("member", f"/entries/{PANEL_PAPER}/comments").status_code == 404


def test_an_entry_has_its_sections_tags_documents_and_revisions(world: World) -> None:
    body = world.get(None, f"/entries/{world.public_slug}").get_json()
    assert [section["key"] for section in body["sections"]][:4] == [
        "driving_event",
        "lesson",
        "recommendation",
        "evidence",
    ]
    assert body["revisions"]
    assert body["revisions"][0]["number"] >= 1
    assert body["revisions"][0]["author"]
    assert body["url"] == f"{world.app.config['SITE_URL']}/lessons/{world.public_slug}"
    assert isinstance(body["documents"], list)
    assert isinstance(body["tags"], list)


def test_comments_show_placeholders_as_pages_do(world: World) -> None:
    path = f"/entries/{world.public_slug}/comments"
    anonymous = {item["id"]: item for item in walk(world, None, path)}
    hidden, removed = anonymous[world.comments["hidden"]], anonymous[world.comments["removed"]]
    assert hidden["readable"] is False
    assert hidden["html"] is None
    assert "hidden" in hidden["placeholder"]
    assert removed["html"] is None
    assert removed["author"] == "Removed comment"
    assert "Hidden words" not in str(anonymous)
    assert "Removed words" not in str(anonymous)
    own = {item["id"]: item for item in walk(world, "member", path)}
    assert own[world.comments["hidden"]]["readable"] is True  # its author reads it
    assert own[world.comments["removed"]]["html"] is None
    staff = {item["id"]: item for item in walk(world, "moderator", path)}
    assert "Removed words" in staff[world.comments["removed"]]["html"]
    assert anonymous[world.comments["reply"]]["parent_id"] == world.comments["top"]
    threaded = walk(world, None, path + "?layout=threaded&limit=1")
    top = next(item for item in threaded if item["id"] == world.comments["top"])
    assert [reply["id"] for reply in top["replies"]] == [world.comments["reply"]]
    assert world.comments["reply"] not in {item["id"] for item in threaded}


def test_reviews_show_only_published_findings(world: World) -> None:
    slug = world.cast.other_review.slug
    for role in (None, "panel", "moderator"):
        titles = [finding["title"] for finding in world.get(role, f"/reviews/{slug}").get_json()["findings"]]
        assert titles == ["Published finding"]
    assert world.get(None, f"/reviews/{world.public_slug}").status_code == 404


def test_consultations_list_by_state_with_questions(world: World) -> None:
    open_ids = {item["id"] for item in walk(world, None, "/consultations?state=open")}
    closed_ids = {item["id"] for item in walk(world, None, "/consultations?state=closed")}
    assert world.open_consultation in open_ids
    assert world.closed_consultation in closed_ids
    assert world.panel_consultation not in open_ids
    assert world.panel_consultation in {item["id"] for item in walk(world, "panel", "/consultations")}
    detail = world.get("member", f"/consultations/{world.open_consultation}").get_json()
    assert [question["kind"] for question in detail["questions"]] == ["scale", "choice", "text"]
    assert detail["my_response"] is None


def test_consultations_by_state_load_only_one_page(world: World) -> None:
    loaded: list[int] = []

    def count(target: Consultation, _context: object) -> None:
        loaded.append(target.id)

    event.listen(Consultation, "load", count)
    try:
        body = world.get("moderator", "/consultations?state=closed&limit=1").get_json()
    finally:
        event.remove(Consultation, "load", count)
    assert [item["id"] for item in body["items"]] == [world.closed_consultation]
    assert len(loaded) <= 2, "the state is filtered in SQL, a page at a time"
    states = {item["state"] for item in walk(world, "moderator", "/consultations?state=open&limit=1")}
    assert states == {"open"}


def test_a_member_posts_a_comment_and_a_reply(world: World) -> None:
    path = f"/entries/{world.public_slug}/comments"
    response = world.post("member", path, {"body": "We saw **this** too."})
    assert response.status_code == 201, response.get_data(as_text=True)
    posted = response.get_json()
    assert "<strong>this</strong>" in posted["html"]
    assert posted["author"]
    assert "Set-Cookie" not in response.headers
    reply = world.post("author", path, {"body": "So did we.", "parent_id": posted["id"]})
    assert reply.status_code == 201
    assert reply.get_json()["parent_id"] == posted["id"]
    assert world.post("member", path, {"body": "x", "parent_id": world.comments["hidden"]}).status_code in (400, 404)
    assert world.post("member", path, {"body": ""}).status_code == 400
    assert world.post("member", path, {"body": "x", "colour": "red"}).get_json()["errors"] == {
        "colour": "Not a field of this operation."
    }


def test_a_read_token_cannot_write_and_nobody_writes_anonymously(world: World) -> None:
    path = f"/entries/{world.public_slug}/comments"
    with world.app.app_context():
        before = db.session.scalar(select(func.count(Comment.id)))
    refused = world.post("reader", path, {"body": "Hello"})
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    anonymous = world.post(None, path, {"body": "Hello"})
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert world.post("reader", "/lessons", LESSON_BODY).status_code == 403
    with world.app.app_context():
        assert db.session.scalar(select(func.count(Comment.id))) == before


def test_writes_need_json(world: World) -> None:
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {world.tokens['member']}"}
    response = client.post(f"/api/v1/entries/{world.public_slug}/comments", data={"body": "x"}, headers=headers)
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    broken = client.post(
        f"/api/v1/entries/{world.public_slug}/comments", data="{", content_type="application/json", headers=headers
    )
    assert broken.status_code == 400


def test_revoked_expired_and_unknown_tokens_answer_401(world: World) -> None:
    with world.app.app_context():
        row, revoked = issue_token(world.cast.member, kind=TokenKind.API, name="old")
        revoke_token(world.cast.member, row)
        expired_row, expired = issue_token(world.cast.member, kind=TokenKind.API, name="short", expires_in_days=1)
        expired_row.expires_at = expired_row.created_at - dt.timedelta(seconds=1)
        _, feed = issue_token(world.cast.member, kind=TokenKind.FEED, name="feed")
        db.session.commit()
    for token in (revoked, expired, feed, "kb_unknown", ""):
        response = world.app.test_client().get("/api/v1/entries", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="kb"'
        assert response.get_json()["status"] == 401


def test_token_requests_neither_read_nor_set_cookies(world: World) -> None:
    browser = login_as(world.app.test_client(), world.cast.moderator)
    headers = {"Authorization": f"Bearer {world.tokens['member']}"}
    response = browser.get(f"/api/v1/entries/{world.draft_slug}", headers=headers)
    assert response.status_code == 404  # the member's token, not the moderator's cookie
    assert "Set-Cookie" not in response.headers
    assert browser.get(f"/api/v1/entries/{world.draft_slug}").status_code == 200  # the cookie alone works


def test_cookie_signed_writes_keep_csrf(world: World) -> None:
    browser = login_as(world.app.test_client(), world.cast.member)
    path = f"/api/v1/entries/{world.public_slug}/comments"
    refused = browser.post(path, json={"body": "From the browser."})
    assert refused.status_code == 400
    assert "CSRF" in refused.get_json()["detail"]
    token = csrf_token(browser.get(f"/lessons/{world.public_slug}").get_data(as_text=True))
    accepted = browser.post(path, json={"body": "From the browser."}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201, accepted.get_data(as_text=True)


def test_a_lesson_is_submitted_as_the_form_submits_it(world: World) -> None:
    response = world.post("member", "/lessons", LESSON_BODY)
    assert response.status_code == 201, response.get_data(as_text=True)
    lesson = response.get_json()
    assert lesson["status"] == "submitted"
    assert lesson["visibility"]
    assert {tag["slug"] for tag in lesson["tags"]} == {"go-live-deadline", "readiness-checks"}
    assert response.headers["Location"].endswith(f"/api/v1/entries/{lesson['slug']}")
    assert world.get(None, f"/entries/{lesson['slug']}").status_code == 404
    assert world.get("member", f"/entries/{lesson['slug']}").status_code == 200
    bad = world.post("member", "/lessons", {**LESSON_BODY, "driving_event": "## Not a section\n", "event_date": "x"})
    assert bad.status_code == 400
    assert set(bad.get_json()["errors"]) == {"driving_event", "event_date"}


def test_responding_to_consultations(world: World) -> None:
    with world.app.app_context():
        questions = db.session.get(Consultation, world.open_consultation).questions
        ids = [question.id for question in questions]
    answers = [{"question_id": ids[0], "answer": "agree"}, {"question_id": ids[2], "answer": "Nothing."}]
    response = world.post("member", f"/consultations/{world.open_consultation}/response", {"answers": answers})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "submitted"
    mine = world.get("member", f"/consultations/{world.open_consultation}").get_json()["my_response"]
    assert {answer["answer"] for answer in mine["answers"]} == {"agree", "Nothing."}
    wrong = [{"question_id": ids[0], "answer": "maybe"}]
    assert (
        world.post("member", f"/consultations/{world.open_consultation}/response", {"answers": wrong}).status_code
        == 400
    )
    closed = world.post("member", f"/consultations/{world.closed_consultation}/response", {"answers": []})
    assert closed.status_code == 409
    hidden = world.post("member", f"/consultations/{world.panel_consultation}/response", {"answers": []})
    assert hidden.status_code == 404
    with world.app.app_context():
        assert (
            db.session.scalar(
                select(func.count(Response.id)).where(Response.consultation_id != world.open_consultation)
            )
            == 0
        )


def test_search_uses_the_search_service_within_what_the_reader_sees(world: World) -> None:
    body = world.get(None, "/search?q=lesson&kind=lesson&limit=5").get_json()
    assert body["total"] >= 1
    assert body["items"]
    assert {hit["entry"]["kind"] for hit in body["items"]} == {"lesson"}
    assert body["facets"]["kind"]
    assert all(value["count"] >= 0 for value in body["facets"]["kind"])
    anonymous = {hit["entry"]["slug"] for hit in walk(world, None, "/search?q=members&limit=50")}
    assert "members-only-lesson" not in anonymous
    assert "members-only-lesson" in {
        hit["entry"]["slug"] for hit in walk(world, "member", "/search?q=members&limit=50")
    }


def test_a_search_cursor_keeps_its_place_across_limits_and_belongs_to_its_search(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    every = [hit["entry"]["slug"] for hit in walk(world, "moderator", "/search?sort=oldest&limit=100")]
    assert len(every) > 7
    seen: list[str] = []
    body = world.get("moderator", "/search?sort=oldest&limit=3").get_json()
    limits = itertools.cycle((5, 2, 4, 1))  # each page asks another limit with the cursor of the one before
    while True:
        seen += [hit["entry"]["slug"] for hit in body["items"]]
        if body["next_cursor"] is None:
            break
        path = f"/search?sort=oldest&limit={next(limits)}&cursor={body['next_cursor']}"
        body = world.get("moderator", path).get_json()
    assert seen == every
    cursor = world.get("moderator", "/search?sort=oldest&limit=2").get_json()["next_cursor"]
    for other in ("q=lesson&sort=oldest", "sort=newest", "sort=oldest&kind=lesson"):
        assert world.get("moderator", f"/search?{other}&limit=2&cursor={cursor}").status_code == 400
    monkeypatch.setattr("kb.api.reads.SEARCH_DEPTH", 5)
    capped = walk(world, "moderator", "/search?sort=oldest&limit=2")
    assert [hit["entry"]["slug"] for hit in capped] == every[:5]


def test_addresses_are_on_the_site_url_whatever_the_host_header(world: World) -> None:
    site = world.app.config["SITE_URL"]
    client = world.app.test_client()
    headers = {"Host": "attacker.example"}
    entries = client.get("/api/v1/entries?limit=1", headers=headers).get_json()
    assert entries["next"].startswith(f"{site}/api/v1/entries?")
    assert entries["items"][0]["url"].startswith(f"{site}/")
    assert entries["items"][0]["api_url"].startswith(f"{site}/api/v1/entries/")
    document = client.get("/api/v1/openapi.json", headers=headers).get_json()
    assert document["servers"] == [{"url": f"{site}/api/v1"}]
    assert "attacker.example" not in client.get("/api/v1/search?limit=2", headers=headers).get_data(as_text=True)


def test_every_error_under_api_is_a_problem(world: World) -> None:
    client = world.app.test_client()
    for response, status in (
        (client.get("/api/v1/nothing-here"), 404),
        (client.delete("/api/v1/entries"), 405),
        (client.get("/api/v1/entries?q=a%00b"), 400),
        (
            client.post(
                "/api/v1/lessons",
                data=b"x" * (3 * 1024 * 1024),
                content_type="application/json",
                headers={"Authorization": f"Bearer {world.tokens['member']}"},
            ),
            413,
        ),
    ):
        assert response.status_code == status
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == status
    assert "kb cannot accept" in client.get("/api/v1/entries?q=a%00b").get_json()["detail"]
    page = client.get("/lessons/no-such-lesson")
    assert page.status_code == 404
    assert page.mimetype == "text/html"


def test_the_rate_limit_answers_429_with_retry_after(tmp_path: Path, seeded_database: Path) -> None:
    app = make_app(tmp_path, seeded_database, API_LIMIT="3 per minute")
    with app.app_context():
        client = app.test_client()
        statuses = [client.get("/api/v1/entries").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/api/v1/entries")
        assert limited.mimetype == "application/problem+json"
        assert int(limited.headers["Retry-After"]) > 0
        member = make_cast().member
        token = _token(member)
        db.session.commit()
        # Another token has its own allowance.
        assert client.get("/api/v1/entries", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_made_up_tokens_share_their_address_allowance(tmp_path: Path, seeded_database: Path) -> None:
    app = make_app(tmp_path, seeded_database, API_LIMIT="3 per minute")
    with app.app_context():
        client = app.test_client()
        statuses = [
            client.get("/api/v1/entries", headers={"Authorization": f"Bearer kb_made_up_{number}"}).status_code
            for number in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        assert client.get("/api/v1/entries").status_code == 429
        db.session.remove()
        db.engine.dispose()


def test_comments_share_the_forms_allowance_per_person_and_per_address(tmp_path: Path, seeded_database: Path) -> None:
    limits = {"COMMENT_LIMIT_PER_USER": "2 per minute", "COMMENT_LIMIT_PER_ADDRESS": "3 per minute"}
    app = make_app(tmp_path, seeded_database, **limits)
    with app.app_context():
        cast = make_cast()
        entry = db.session.scalars(
            select(Entry).where(Entry.kind == "lesson", Entry.visibility == "public", Entry.status == "published")
        ).first()
        assert entry is not None
        tokens = [_token(user) for user in (cast.member, cast.member, cast.author, cast.moderator, cast.panel)]
        db.session.commit()
        browser = login_as(app.test_client(), cast.member)
        form = post_form(browser, f"{entry.path}/comments", {"body": "From the form."}, page=entry.path)
        assert form.status_code < 400

        def post(token: str, address: str) -> tuple[int, str]:
            answer = app.test_client().post(
                f"/api/v1/entries/{entry.slug}/comments",
                json={"body": "From the API."},
                headers={"Authorization": f"Bearer {token}"},
                environ_base={"REMOTE_ADDR": address},
            )
            return answer.status_code, answer.get_json().get("detail", "")

        # The member's two tokens share the form's allowance (2), each from its own address.
        assert post(tokens[0], "192.0.2.1")[0] == 201
        status, detail = post(tokens[1], "192.0.2.2")
        assert (status, "2 per 1 minute" in detail) == (429, True)
        # Three people from one address spend its allowance (3); a fourth is refused for the address.
        assert [post(token, "192.0.2.9")[0] for token in tokens[2:]] == [201, 201, 201]
        status, detail = post(_token_committed(cast.admin), "192.0.2.9")
        assert (status, "3 per 1 minute" in detail) == (429, True)
        db.session.remove()
        db.engine.dispose()


def _token_committed(user) -> str:
    text = _token(user)
    db.session.commit()
    return text


def test_the_docs_page_lists_every_operation_and_loads_nothing_from_elsewhere(world: World) -> None:
    page = world.app.test_client().get("/api/v1/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    document = world.get(None, "/openapi.json").get_json()
    for methods in document["paths"].values():
        for operation in methods.values():
            assert f'id="{operation["operationId"]}"' in html
    assert 'href="/account/tokens"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_a_browser_session_that_ran_out_answers_401_not_a_redirect(world: World) -> None:
    browser = login_as(world.app.test_client(), world.cast.member)
    with browser.session_transaction() as session:
        session["seen_at"] = 0
    response = browser.get("/api/v1/entries")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_a_browser_session_held_at_set_up_answers_403_not_a_redirect(world: World) -> None:
    browser = login_as(world.app.test_client(), world.cast.moderator)
    with browser.session_transaction() as session:
        session["setup"] = ["two-factor"]
    response = browser.get("/api/v1/entries")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "setting up" in response.get_json()["detail"]
    assert browser.get("/lessons").status_code == 302


def test_a_failure_under_api_answers_a_500_problem_and_pages_keep_their_page(
    tmp_path: Path, empty_database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path, empty_database, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    def broken(*_args: object) -> None:
        raise RuntimeError("something broke")

    monkeypatch.setattr("kb.api.reads.read_limit", broken)
    monkeypatch.setattr("kb.entries.routes.queries.kind_counts", broken)
    with app.app_context():
        client = app.test_client()
        response = client.get("/api/v1/entries")
        assert response.status_code == 500
        assert response.mimetype == "application/problem+json"
        assert "something broke" not in response.get_data(as_text=True)
        page = client.get("/")
        assert page.status_code == 500
        assert page.mimetype == "text/html"
        db.session.remove()
        db.engine.dispose()
