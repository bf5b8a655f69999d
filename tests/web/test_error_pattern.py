"""Every form, sent wrong, answers in the one error pattern.

The page's title starts "Error: ", an NHS.UK error summary heads the page, and each of its
links points at an element of the page by id (the field it is about), which carries the
inline error. Forms are sent empty or with a wrong value, as each role that uses them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from kb.extensions import db
from kb.users.service import invite_link, invite_user, reset_link
from tests.accounts import PASSWORD, Cast, client_for, make_cast, post_form, sign_in
from tests.conftest import make_app
from tests.web.dom import parse

LESSON = "procurement-weighted-towards-cost"


@dataclass(frozen=True)
class World:
    """The seeded app, its people, and one-use links for the set-password forms."""

    app: Flask
    cast: Cast
    invite_path: str
    reset_path: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[World]:
    app = make_app(tmp_path_factory.mktemp("errors"), seeded_database, LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    with app.app_context(), app.test_request_context():
        cast = make_cast()
        invited = invite_user("invited@example.org", "Invited", role="member", organisation=None, actor=cast.admin)
        db.session.commit()
        paths = urlsplit(invite_link(invited)).path, urlsplit(reset_link(cast.member)).path
        yield World(app, cast, *paths)
        db.session.remove()


def assert_error_pattern(response: TestResponse, *, field_ids: set[str] | None = None) -> None:
    """The response is a refusal in the one pattern; with `field_ids`, exactly those fields are linked."""
    html = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, response.status_code
    page = parse(html)
    title = page.find("title")
    assert title is not None
    assert title.text().startswith("Error: "), title.text()
    summary = page.find(cls="nhsuk-error-summary")
    assert summary is not None, "no error summary"
    assert html.index('class="nhsuk-error-summary"') < html.index("<h1"), "the summary is not at the top"
    links = summary.hrefs()
    items = summary.find_all("li")
    assert links
    assert len(links) == len(items), "every error in the summary links to its field"
    ids = {node.attrs["id"] for node in page.elements() if "id" in node.attrs}
    for href in links:
        assert href.startswith("#"), href
        assert href[1:] in ids, f"{href} points at nothing on the page"
        assert re.search(rf'id="{re.escape(href[1:])}-error', html) or re.search(
            rf'id="{re.escape(href[1:])}"[^>]*aria-describedby="[^"]*error', html
        ), f"{href} has no inline error"
    if field_ids is not None:
        assert {href[1:] for href in links} == field_ids


def test_sign_in_sent_empty(world: World) -> None:
    response = post_form(world.app.test_client(), "/login", {"email": "", "password": ""})
    assert_error_pattern(response, field_ids={"email", "password"})


def test_sign_in_with_the_wrong_password(world: World) -> None:
    response = sign_in(world.app.test_client(), "member@example.org", "not the password")
    assert response.status_code == 401
    assert_error_pattern(response, field_ids={"email"})
    assert "The email address or password is not right." in response.get_data(as_text=True)


def test_second_factor_with_a_wrong_code(world: World) -> None:
    client = world.app.test_client()
    assert sign_in(client, "moderator@example.org").status_code == 302
    assert_error_pattern(post_form(client, "/login/verify", {"code": ""}), field_ids={"code"})
    assert_error_pattern(post_form(client, "/login/verify", {"code": "000000"}), field_ids={"code"})


def test_password_reset_request_sent_empty(world: World) -> None:
    assert_error_pattern(post_form(world.app.test_client(), "/account/reset", {"email": ""}), field_ids={"email"})


@pytest.mark.parametrize("which", ["invite_path", "reset_path"])
def test_choosing_a_password_that_is_too_short_or_unconfirmed(world: World, which: str) -> None:
    path = getattr(world, which)
    client = world.app.test_client()
    assert_error_pattern(post_form(client, path, {"password": "", "confirm": ""}))
    assert_error_pattern(post_form(client, path, {"password": "short", "confirm": "short"}))


def test_changing_a_password_with_the_wrong_current_one(world: World) -> None:
    client = client_for(world.app, world.cast.member)
    data = {"current": "not the password", "password": PASSWORD + " again", "confirm": PASSWORD + " again"}
    assert_error_pattern(post_form(client, "/account/password", data), field_ids={"current"})
    assert_error_pattern(post_form(client, "/account/password", {"current": "", "password": "", "confirm": ""}))


def test_two_factor_setup_with_a_wrong_code(world: World) -> None:
    client = world.app.test_client()
    assert sign_in(client, "member@example.org").status_code == 302
    assert_error_pattern(post_form(client, "/account/two-factor", {"code": "000000"}), field_ids={"code"})
    assert_error_pattern(post_form(client, "/account/two-factor", {"code": ""}), field_ids={"code"})


def admin_client(world: World) -> FlaskClient:
    return client_for(world.app, world.cast.admin)


def test_admin_forms(world: World) -> None:
    client = admin_client(world)
    assert_error_pattern(post_form(client, "/admin/users", {"email": "", "display_name": ""}))
    assert_error_pattern(post_form(client, "/admin/organisations", {"name": ""}))
    assert_error_pattern(client.get("/admin/audit?date_from=2025-02-30"), field_ids={"filter-date-from"})


def test_action_and_finding_forms(world: World) -> None:
    moderator = client_for(world.app, world.cast.moderator)
    assert_error_pattern(post_form(moderator, f"/lessons/{LESSON}/action", {"status": "actioned"}))
    panel = client_for(world.app, world.cast.panel)
    path = f"/reviews/{world.cast.review.slug}/findings/new"
    assert_error_pattern(post_form(panel, path, {"title": "", "body": ""}))


def test_the_check_fails_a_page_without_the_pattern(world: World) -> None:
    response = world.app.test_client().get("/login")
    response.status_code = 400
    with pytest.raises(AssertionError):
        assert_error_pattern(response)
