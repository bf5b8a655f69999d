"""Not-found pages, wrong-kind redirects, and the server error page."""

from __future__ import annotations

import pytest

from kb.extensions import db
from tests.conftest import make_app
from tests.web import seed
from tests.web.dom import main_of, parse

LESSON = seed.of_kind("lesson")[0]
LESSON_PATH = seed.path_of(LESSON)


def assert_site_page(response, status: int, heading: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = parse(response.data)
    service = page.one("header").find("a", cls="nhsuk-header__service-name")
    assert service is not None
    assert service.text().startswith("kb")
    assert page.one("main").one("h1").text() == heading
    assert page.find("footer") is not None
    assert "/" in page.one("main").hrefs(), "an error page links back home"


@pytest.mark.parametrize(
    "url",
    [
        "/lessons/no-such-lesson",
        "/papers/no-such-paper",
        "/reviews/no-such-review",
        "/lessons/no-such-lesson/history",
        "/lessons/no-such-lesson/history/1",
        "/lessons/no-such-lesson/compare?from=1&to=1",
        "/themes/no-such-theme",
        "/tags/no-such-tag",
        f"{LESSON_PATH}/history/2",
        f"{LESSON_PATH}/history/0",
        f"{LESSON_PATH}/history/999999",
        f"{LESSON_PATH}/compare?from=1&to=99",
        f"{LESSON_PATH}/compare?from=98&to=99",
        "/no-such-page",
        "/lessonz",
        "/lessons/UPPER-CASE",
    ],
)
def test_not_found_in_site_style(client, url):
    assert_site_page(client.get(url), 404, "Page not found")


def test_not_found_on_an_empty_site(empty_client):
    assert_site_page(empty_client.get("/lessons/anything"), 404, "Page not found")


def test_wrong_method_in_site_style(client):
    response = client.post(LESSON_PATH)
    assert response.status_code in (400, 405)
    assert parse(response.data).one("header").find("a", cls="nhsuk-header__service-name") is not None


@pytest.mark.parametrize("plural", ["papers", "reviews"])
def test_wrong_kind_url_redirects_permanently(client, plural):
    response = client.get(f"/{plural}/{LESSON.slug}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(LESSON_PATH)
    assert client.get(response.headers["Location"]).status_code == 200


def test_wrong_kind_for_a_paper_redirects(client):
    paper = seed.of_kind("paper")[0]
    response = client.get(f"/lessons/{paper.slug}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(seed.path_of(paper))


def test_wrong_kind_history_redirects(client):
    response = client.get(f"/papers/{LESSON.slug}/history")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"{LESSON_PATH}/history")


def test_following_the_redirect_lands_on_the_entry(client):
    response = client.get(f"/papers/{LESSON.slug}", follow_redirects=True)
    assert response.status_code == 200
    assert main_of(response.data).one("h1").text() == LESSON.title


def test_server_error_page(tmp_path, empty_database):
    folder = tmp_path / "broken"
    folder.mkdir()
    application = make_app(folder, empty_database, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @application.get("/boom")
    def boom() -> str:
        raise RuntimeError("something broke")

    try:
        response = application.test_client().get("/boom")
        assert_site_page(response, 500, "Sorry, there is a problem with the service")
        text = response.get_data(as_text=True)
        assert "something broke" not in text
        assert "Traceback" not in text
        # The app still answers after the failure.
        assert application.test_client().get("/").status_code == 200
    finally:
        with application.app_context():
            db.engine.dispose()


def test_server_error_during_a_database_failure_still_renders(tmp_path, empty_database):
    folder = tmp_path / "broken-db"
    folder.mkdir()
    application = make_app(folder, empty_database, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @application.get("/bad-sql")
    def bad_sql() -> str:
        db.session.execute(db.text("SELECT * FROM no_such_table"))
        return "unreachable"

    try:
        response = application.test_client().get("/bad-sql")
        assert_site_page(response, 500, "Sorry, there is a problem with the service")
        assert application.test_client().get("/lessons").status_code == 200
    finally:
        with application.app_context():
            db.engine.dispose()
