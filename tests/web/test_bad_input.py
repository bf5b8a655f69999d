"""Every route of the app fed bad input: never a 5xx, never an unescaped echo, nothing saved when refused.

The routes come from the app's own `url_map`, not a hand list: every GET route is asked
with each bad value in each path parameter and in every query parameter kb reads, and
every POST route gets each bad value in every field of its form (read from the page that
shows the form, with a valid CSRF token, as a role allowed to post it). A new route, path
parameter or POST endpoint that this module does not know makes
`test_every_route_is_known` fail; `EXCLUDED` says which routes are left out and why.

Characters the doorway refuses (NUL, controls, lone surrogates, U+FFFF, invalid UTF-8) must get
its 400; the database's row counts must not change for any refused (4xx) request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from werkzeug.routing import Rule

from kb.access.service import issue_token
from kb.comments.models import Comment
from kb.documents.service import attach_document
from kb.entries.models import Entry
from kb.extensions import db
from kb.states import TokenKind
from kb.taxonomy.models import Tag, Theme
from kb.users.models import Organisation
from kb.users.session_store import open_session
from tests.accounts import Cast, client_for, csrf_token, make_cast, make_user
from tests.conftest import make_app
from tests.factories import add_comment
from tests.outcome_factory import answer, make_consultation, make_finding
from tests.web.dom import parse

PATHOLOGICAL_SIZE = 10_000
"""Length of the pathological Markdown runs: a comment's longest (kb.markdown_guard keeps them linear)."""

MARKUP = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
RAW_MARKUP = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")

# URL-encoded bytes the doorway must refuse, wherever they are.
REFUSED = {
    "NUL": "%00",
    "escape": "%1B",
    "backspace": "%08",
    "DEL": "%7F",
    "C1 control": "%C2%85",
    "lone surrogate (CESU-8)": "%ED%A0%80",
    "low surrogate (CESU-8)": "%ED%B0%80",
    "noncharacter U+FFFF": "%EF%BF%BF",
    "invalid UTF-8": "%FF",
    "overlong UTF-8": "%C0%AF",
    "truncated UTF-8": "%E2%82",
}
# Line breaks: refused in paths, query strings and field names, allowed in form values.
LINE_BREAKS = {"line feed": "%0A", "carriage return": "%0D"}
# Values that must pass the doorway and still never cause a 5xx or an unescaped echo.
ACCEPTED = {
    "markup": quote(MARKUP, safe=""),
    "overlong value": "x" * 5_000,
    "runs of [": quote("[" * PATHOLOGICAL_SIZE, safe=""),
    "runs of [[a": quote("[[a" * (PATHOLOGICAL_SIZE // 3), safe=""),
    "runs of ![": quote("![" * (PATHOLOGICAL_SIZE // 2), safe=""),
    "negative id": "-1",
    "letters for an id": "abc",
    "exponent": "1e3",
    "2^63": str(2**63),
    "2^64": str(2**64),
    "injection": quote("1;DROP TABLE entries", safe=""),
    "superscript digit": quote("²", safe=""),
}
# Query parameters kb reads anywhere (request.args and int_arg): each request sends all of them.
QUERY_NAMES = (
    *("q", "page", "year", "tag", "region", "sort", "kind", "status", "exact", "order", "draft", "from", "to"),
    *("entry", "into", "owner", "organisation", "role", "action", "actor", "target", "date_from", "date_to", "text"),
    *("next", "token"),
)

EXCLUDED = {
    "static": "serves files from static/; Werkzeug's safe_join refuses odd names",
    "nhsuk_asset": "serves the NHS.UK frontend's files; same as static",
    "auth.demo_login": "exists only in demo mode, which the tests do not run",
}

# Who posts to each POST endpoint (the first matching prefix wins): someone allowed to.
POST_ROLES = {
    "auth.login": None,
    "auth.second_factor": None,
    "auth.reset_request": None,
    "auth.reset_password": None,
    "auth.accept_invite": None,
    "notifications.unsubscribe_one_click": None,
    "notifications.resubscribe": None,
    "auth.": "member",
    "admin.": "admin",
    "moderation.flag_": "member",
    "moderation.": "moderator",
    "curation.": "moderator",
    "tag_curation.": "moderator",
    "contributions.decide": "moderator",
    "contributions.": "moderator",
    "comments.": "member",
    "panels.": "panel",
    "traceability.": "panel",
    "cite_picker.": "panel",
    "consultations.answer": "member",
    "consultations.": "panel",
    "consultation_analysis.": "panel",
    "notifications.": "member",
    "actions.": "moderator",
    "documents.": "moderator",
    "preview.": "member",
    "drafts.": "member",
    "api.": "member",
    "access.": "member",
}
GET_ROLES = {"panels.": "panel", "traceability.": "panel", "consultation": "panel", "dashboard.": "panel"}
# Where the form of a POST-only endpoint is shown (path templates as in the url_map).
FORM_PAGES = {
    "comments.post": "/<plural>/<slug>",
    "contributions.submit": "/<plural>/<slug>/edit",
    "contributions.decide": "/moderation",
    "curation.curate": "/moderation/entries/<slug>",
    "tag_curation.rename": "/moderation/tags/<tag_slug>",
    "tag_curation.merge": "/moderation/tags/<tag_slug>",
    "tag_curation.move": "/moderation/tags/<tag_slug>",
    "curation.set_lesson_field": "/moderation/entries/<slug>",
    "admin.create_organisation": "/admin/organisations",
    "admin.update_organisation": "/admin/organisations/<organisation_id>",
    "admin.invite": "/admin/users",
    "consultations.answer": "/consultations/<consultation_id>",
    "consultation_analysis.add_theme": "/consultations/<consultation_id>/responses/<response_id>",
    "consultation_analysis.remove_theme": "/consultations/<consultation_id>/responses/<response_id>",
    "consultation_analysis.publish_outcome": "/consultations/<consultation_id>/outcome",
    "traceability.add": "/reviews/<slug>/findings/<number>/cite",
    "panels.publish": "/reviews/<slug>/workspace",
    "auth.end_session": "/account",
    "auth.end_other_sessions": "/account",
    "access.make_feed_address": "/account/tokens",
    "access.revoke": "/account/tokens",
}
# Limits high enough for hundreds of posts (RATELIMIT_ENABLED=False would switch off the shared limiter for later apps).
GENEROUS_LIMITS = {
    name: "100000 per minute"
    for name in (
        "LOGIN_LIMIT_PER_ADDRESS",
        "LOGIN_LIMIT_PER_ACCOUNT",
        "COMMENT_LIMIT_PER_USER",
        "COMMENT_LIMIT_PER_ADDRESS",
        "FLAG_LIMIT_PER_USER",
        "PREVIEW_LIMIT_PER_USER",
        "REPORT_DOWNLOAD_LIMIT_PER_ADDRESS",
    )
}
# Tables a refused request may still change, by endpoint, and why.
MAY_CHANGE_WHEN_REFUSED = {
    "auth.login": {"audit_events": "a failed sign-in is recorded in the security log"},
    "panels.edit_finding": {"form_drafts": "a save that came too late keeps its text as a draft of the editor"},
}
FALLBACK_FIELDS = ("body", "title", "note", "reason", "message", "label", "name", "email", "q", "parent_id", "id")


@dataclass
class World:
    """The app, its cast, and a real object for every kind of path parameter."""

    app: Flask
    cast: Cast
    values: dict[str, str]
    lesson: Entry

    def client(self, role: str | None) -> FlaskClient:
        """A fresh client signed in as `role` (a Cast attribute), or signed out for None."""
        return client_for(self.app, getattr(self.cast, role) if role else None)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[World]:
    """One seeded app for the module: a comment, a document, a finding, a consultation with a response, and users."""
    folder = tmp_path_factory.mktemp("bad-input")
    application = make_app(folder, seeded_database, **GENEROUS_LIMITS)
    with application.app_context():
        cast = make_cast()
        lesson = db.session.scalars(
            select(Entry).where(Entry.kind == "lesson", Entry.status == "published", Entry.visibility == "public")
        ).first()
        other = db.session.scalars(select(Entry).where(Entry.kind == "lesson", Entry.id != lesson.id)).first()
        comment = add_comment(lesson, cast.member, "A comment to reply to, flag and edit.")
        make_finding(cast.review)
        consultation = make_consultation(cast.review, closed=False)
        response = answer(consultation, cast.member, scale="agree", text="Fine.")
        spare = make_user("spare@example.org")
        other_session, _secret = open_session(
            cast.member, remember=False, user_agent="Elsewhere", address="192.0.2.1", config=application.config
        )
        member_token, _text = issue_token(cast.member, kind=TokenKind.API, name="A token to revoke")
        document = attach_document(lesson, b"Notes of the meeting.\n", filename="notes.txt", title="Notes", actor=None)
        db.session.commit()
        tag = db.session.scalars(select(Tag)).first()
        theme = db.session.scalars(select(Theme)).first()
        values = {
            "plural": "lessons",
            "slug": lesson.slug,
            "other_slug": other.slug,
            "entry_slug": lesson.slug,
            "comment_id": str(comment.id),
            "document_id": str(document.id),
            "number": "1",
            "rev": "1",
            "citation_id": "1",
            "consultation_id": str(consultation.id),
            "answer_id": str(response.answers[0].id),
            "response_id": str(response.id),
            "user_id": str(spare.id),
            "review_id": str(cast.review.id),
            "organisation_id": str(db.session.scalar(select(func.min(Organisation.id)))),
            "notification_id": "1",
            "target_type": "entry",
            "target_id": str(lesson.id),
            "token": "not-a-real-token",
            "decision": "publish",
            "action": "feature",
            "field": "maturity",
            "filename": "x.css",
            "review_slug": cast.review.slug,
            "tag_slug": tag.slug,
            "theme_slug": theme.slug,
            "listing": "responses",
            "session_id": str(other_session.id),
            "token_id": str(member_token.id),
        }
        yield World(application, cast, values, lesson)
        db.session.remove()
        db.engine.dispose()


def rules(app: Flask, method: str) -> list[Rule]:
    """The app's routes answering `method`, less the excluded ones, in a stable order."""
    found = [rule for rule in app.url_map.iter_rules() if method in rule.methods and rule.endpoint not in EXCLUDED]
    return sorted(found, key=lambda rule: rule.rule)


PARAMETER = re.compile(r"<(?:[^<>]*?:)?(\w+)>")


def path_of(template: str, values: dict[str, str], bad: dict[str, str] | None = None) -> str:
    """A path template (`/lessons/<slug>`) with each parameter filled, from `bad` first, else `values`."""
    bad = bad or {}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in bad:
            return bad[name]
        if name == "slug" and template.startswith("/reviews/"):
            return values["review_slug"]
        if name == "slug" and template.startswith("/tags/"):
            return values["tag_slug"]
        if name == "slug" and template.startswith("/themes/"):
            return values["theme_slug"]
        return values[name]

    return PARAMETER.sub(fill, template)


def role_for(endpoint: str, roles: dict[str, str | None], default: str | None) -> str | None:
    return next((role for prefix, role in roles.items() if endpoint.startswith(prefix)), default)


def row_counts() -> dict[str, int]:
    """Every table's row count, in one statement."""
    tables = [table.name for table in db.metadata.sorted_tables]
    counts = ", ".join(f'(SELECT count(*) FROM "{name}")' for name in tables)
    db.session.rollback()
    row = db.session.execute(text(f"SELECT {counts}")).one()
    db.session.rollback()
    return dict(zip(tables, row, strict=True))


def problems_of(
    response, label: str, *, refused: bool, before: dict[str, int] | None = None, endpoint: str = ""
) -> list[str]:
    """What is wrong with one answer to a bad request (an empty list when it is right)."""
    found = []
    body = response.get_data().decode("utf-8", "replace")  # an export is a zip file
    if response.status_code >= 500:
        found.append(f"{label}: {response.status_code}")
    if refused and (response.status_code != 400 or "kb cannot accept" not in unescape(body)):
        found.append(f"{label}: {response.status_code}, not the doorway's 400")
    if any(markup in body for markup in RAW_MARKUP):
        found.append(f"{label}: markup echoed unescaped")
    if before is not None and response.status_code >= 400:
        after = row_counts()
        allowed = MAY_CHANGE_WHEN_REFUSED.get(endpoint, {})
        changed = {
            table: (before[table], after[table])
            for table in before
            if before[table] != after[table] and table not in allowed
        }
        if changed:
            found.append(f"{label}: refused with {response.status_code} but changed {changed}")
    return found


def test_every_route_is_known(world: World) -> None:
    """A new route must be covered here: its path parameters need values, its POST endpoint a role."""
    unknown = []
    for rule in world.app.url_map.iter_rules():
        if rule.endpoint in EXCLUDED:
            continue
        unknown += [f"{rule.rule}: parameter {name}" for name in rule.arguments if name not in world.values]
        if "POST" in rule.methods and not any(rule.endpoint.startswith(prefix) for prefix in POST_ROLES):
            unknown.append(f"{rule.endpoint}: no role to post as in POST_ROLES")
    assert unknown == []
    assert len(rules(world.app, "GET")) > 50
    assert len(rules(world.app, "POST")) > 50


def get_cases(world: World, raw: str) -> Iterator[tuple[str, str | None, str]]:
    """(label, role, url) for every GET route: `raw` in each path parameter, then in every query parameter."""
    for rule in rules(world.app, "GET"):
        role = role_for(rule.endpoint, GET_ROLES, "admin")
        for name in sorted(rule.arguments):
            yield f"GET {rule.rule} [{name}]", role, path_of(rule.rule, world.values, {name: raw})
        query = "&".join(f"{name}={raw}" for name in QUERY_NAMES)
        yield f"GET {rule.rule} ?query", role, f"{path_of(rule.rule, world.values)}?{query}"


def check_gets(world: World, raw: str, *, refused: bool) -> list[str]:
    found = []
    for label, role, url in get_cases(world, raw):
        client = world.client(role)  # signing in adds a session row: count after it
        before = row_counts()
        response = client.get(url)
        found += problems_of(response, label, refused=refused, before=before)
    return found


@pytest.mark.parametrize("raw", REFUSED.values(), ids=REFUSED.keys())
def test_every_get_route_refuses_a_bad_character_before_any_view(world: World, raw: str) -> None:
    assert check_gets(world, raw, refused=True) == []


@pytest.mark.parametrize("raw", LINE_BREAKS.values(), ids=LINE_BREAKS.keys())
def test_every_get_route_refuses_a_line_break_in_its_address(world: World, raw: str) -> None:
    assert check_gets(world, raw, refused=True) == []


@pytest.mark.parametrize("raw", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_every_get_route_survives_odd_values(world: World, raw: str) -> None:
    assert check_gets(world, raw, refused=False) == []


def form_fields(world: World, client: FlaskClient, rule: Rule) -> tuple[str, list[str]]:
    """A CSRF token and the names of the fields of the form that posts to `rule` (a fallback list if none is shown)."""
    target = path_of(rule.rule, world.values)
    page_path = FORM_PAGES.get(rule.endpoint) or (rule.rule if "GET" in rule.methods else "/<plural>/<slug>")
    page = client.get(path_of(page_path, world.values)).get_data(as_text=True)
    if 'name="csrf_token"' not in page:
        page = client.get("/login" if "GET" not in rule.methods else "/").get_data(as_text=True)
    if 'name="csrf_token"' not in page:
        page = client.get("/account/reset").get_data(as_text=True)
    token = csrf_token(page)
    for form in parse(page).find_all("form"):
        if urlsplit(form.attrs.get("action", "") or target).path == target:
            names = {
                element.attrs["name"]
                for element in form.elements()
                if element.tag in ("input", "textarea", "select") and element.attrs.get("name")
            }
            names.discard("csrf_token")
            if names:
                return token, sorted(names)
    return token, list(FALLBACK_FIELDS)


def post_cases(world: World) -> Iterator[tuple[str, str | None, Rule]]:
    for rule in rules(world.app, "POST"):
        yield f"POST {rule.rule}", role_for(rule.endpoint, POST_ROLES, "member"), rule


def post_raw(world: World, rule: Rule, client: FlaskClient, raw: str, *, in_names: bool = False):
    """Post `raw` (URL-encoded bytes) as every field's value (or in every field's name) of the route's form."""
    token, names = form_fields(world, client, rule)
    fields = [(f"{quote(name)}{raw}=x" if in_names else f"{quote(name)}={raw}") for name in names]
    body = "&".join([f"csrf_token={quote(token)}", *fields]).encode("ascii")
    path = path_of(rule.rule, world.values)
    return client.post(path, data=body, content_type="application/x-www-form-urlencoded")


def check_posts(world: World, raw: str, *, refused: bool, in_names: bool = False) -> list[str]:
    found = []
    for label, role, rule in post_cases(world):
        client = world.client(role)  # signing in adds a session row: count after it
        before = row_counts()
        response = post_raw(world, rule, client, raw, in_names=in_names)
        found += problems_of(response, label, refused=refused, before=before, endpoint=rule.endpoint)
    return found


@pytest.mark.parametrize("raw", REFUSED.values(), ids=REFUSED.keys())
def test_every_form_refuses_a_bad_character_and_saves_nothing(world: World, raw: str) -> None:
    assert check_posts(world, raw, refused=True) == []


@pytest.mark.parametrize("raw", [REFUSED["NUL"], LINE_BREAKS["line feed"]], ids=["NUL", "line feed"])
def test_every_form_refuses_a_bad_character_in_a_field_name(world: World, raw: str) -> None:
    assert check_posts(world, raw, refused=True, in_names=True) == []


@pytest.mark.parametrize(
    "raw", [*ACCEPTED.values(), "a%0D%0Ab%09c"], ids=[*ACCEPTED.keys(), "line breaks and a tab in a value"]
)
def test_every_form_survives_odd_values(world: World, raw: str) -> None:
    assert check_posts(world, raw, refused=False) == []


def test_the_refusal_names_the_character_and_where_escaped(world: World) -> None:
    client = world.client(None)
    response = client.get("/search?%3Cb%3Eq%3C%2Fb%3E=a%00b")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "U+0000 (NULL)" in page
    assert "&lt;b&gt;q&lt;/b&gt;" in page
    assert "<b>q</b>" not in page
    response = client.get("/lessons/a%ED%A0%80b")
    assert response.status_code == 400
    assert "the bytes %ED" in response.get_data(as_text=True)
    assert "the address" in response.get_data(as_text=True)


def test_a_refused_form_is_refused_before_its_csrf_check(world: World) -> None:
    response = world.client(None).post(
        "/login", data=b"csrf_token=stale&email=a%00b", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "U+0000" in response.get_data(as_text=True)


def test_a_json_body_is_checked_too(world: World) -> None:
    response = world.client("member").post("/notifications/read-all", json={"note": "a\u0000b"})
    assert response.status_code == 400
    assert "U+0000" in response.get_data(as_text=True)


def test_a_comment_body_keeps_its_line_breaks_and_tabs(world: World) -> None:
    client = world.client("member")
    token = csrf_token(client.get(world.lesson.path).get_data(as_text=True))
    body = "First line\r\n\tindented\nlast"
    response = client.post(f"{world.lesson.path}/comments", data={"csrf_token": token, "body": body})
    assert response.status_code == 303
    assert db.session.scalar(select(Comment).where(Comment.body.like("First line%"))) is not None


def test_a_deeply_nested_json_body_answers_400_not_500(world: World) -> None:
    deep = b"[" * 200_000
    page = world.client("member").post("/notifications/read-all", data=deep, content_type="application/json")
    assert page.status_code == 400
    assert "nested too deeply" in page.get_data(as_text=True)
    api = world.client(None).post("/api/v1/lessons", data=deep, content_type="application/json")
    assert api.status_code == 400
    assert api.mimetype == "application/problem+json"


def test_a_lone_surrogate_in_a_json_escape_is_refused(world: World) -> None:
    response = world.client("member").post(
        "/notifications/read-all", data=b'{"note": "\\ud800"}', content_type="application/json"
    )
    assert response.status_code == 400


def test_every_form_without_a_valid_csrf_token_is_refused_and_saves_nothing(world: World) -> None:
    """Every POST route, as a role allowed to post it, with a forged token: refused, nothing saved.

    A route that finds its target missing first (a consultation form without `?entry=`, an
    unknown unsubscribe token) answers 404; any other refusal is the token's 400. A long
    form (`kb.drafts.keeping`) saves nothing either: it keeps what was posted as the
    poster's draft and sends them back to the form's page with it.
    """
    found = []
    for label, role, rule in post_cases(world):
        client = world.client(role)
        _token, names = form_fields(world, client, rule)
        before = row_counts()
        data = {"csrf_token": "forged", **dict.fromkeys(names, "1")}
        response = client.post(path_of(rule.rule, world.values), data=data)
        if response.status_code == 303 and getattr(world.app.view_functions[rule.endpoint], "keeps_typed_text", False):
            if "draft=" not in response.headers["Location"]:
                found.append(f"{label}: 303 to {response.headers['Location']}, without the kept draft")
            after = row_counts()
            changed = {table for table in before if before[table] != after[table] and table != "form_drafts"}
            if changed:
                found.append(f"{label}: kept as a draft but changed {changed}")
            continue
        if response.status_code not in (400, 404):
            found.append(f"{label}: {response.status_code}, not refused")
        found += problems_of(response, label, refused=False, before=before, endpoint=rule.endpoint)
    assert found == []


def multipart(parts: list[tuple[bytes, bytes, bytes | None]], boundary: bytes = b"kb-boundary") -> bytes:
    """A multipart/form-data body built byte by byte: (name, value, file name or None) per part."""
    body = b""
    for name, value, filename in parts:
        disposition = b'form-data; name="' + name + b'"' + (b'; filename="' + filename + b'"' if filename else b"")
        body += b"--" + boundary + b"\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + value + b"\r\n"
    return body + b"--" + boundary + b"--\r\n"


@pytest.mark.parametrize(
    "parts",
    [
        [(b"email", b"a\xff\xfeb", None)],
        [(b"email", b"a\xed\xa0\x80b", None)],
        [(b"email", b"a\x00b", None)],
        [(b"em\xffail", b"x", None)],
        [(b"em\x1bail", b"x", None)],
        [(b"file", b"x", b"na\xffme.pdf")],
        [(b"file", b"x", b"na\x00me.pdf")],
    ],
    ids=["invalid UTF-8", "surrogate", "NUL", "name not UTF-8", "control in a name", "file name", "NUL in file name"],
)
def test_a_multipart_body_is_checked_from_its_raw_bytes(world: World, parts) -> None:
    response = world.client(None).post(
        "/login", data=multipart(parts), content_type="multipart/form-data; boundary=kb-boundary"
    )
    assert response.status_code == 400
    assert "kb cannot accept" in unescape(response.get_data(as_text=True))


def test_a_multipart_body_of_good_text_and_binary_file_contents_passes_the_doorway(world: World) -> None:
    parts = [(b"email", "naïve ✓\r\nline".encode(), None), (b"f\xc3\xa9", b"x", None), (b"file", b"\x00\xff", b"a.pdf")]
    response = world.client(None).post(
        "/login", data=multipart(parts), content_type="multipart/form-data; boundary=kb-boundary"
    )
    assert "kb cannot accept" not in unescape(response.get_data(as_text=True))
