"""The 503 page in a browser: a comment sent while the database is away comes back with its text, accessibly."""

from __future__ import annotations

from playwright.sync_api import Browser

from kb.extensions import db
from tests.browser.conftest import app_with_people, serving
from tests.browser.people import Site, assert_accessible, page_as
from tests.web import seed
from tests.web.test_health import database_unreachable

LESSON_PATH = seed.path_of(seed.of_kind("lesson")[0])
TYPED = "Cover for the first bank holiday weekend was planned from ordinary weekends."


def test_a_comment_sent_while_the_database_is_away_comes_back_on_an_accessible_503_page(
    browser: Browser, tmp_path, seeded_database
):
    app, people, restricted = app_with_people(tmp_path, seeded_database)
    with serving(app) as url:
        site = Site(url, people, restricted)
        page = page_as(browser, site, "member")
        page.goto(site.url + LESSON_PATH)
        page.get_by_label("Your comment").fill(TYPED)
        with app.app_context(), database_unreachable(app):
            with page.expect_response(lambda response: response.request.method == "POST") as posted:
                page.get_by_role("button", name="Post comment").click()
            assert posted.value.status == 503
            assert page.get_by_role("heading", level=1).inner_text() == "Sorry, the service is unavailable"
            assert page.locator("main textarea").input_value() == TYPED
            assert_accessible(page)
        page.goto(site.url + LESSON_PATH)
        assert page.get_by_role("heading", level=1).count() == 1
        assert "Sorry, the service is unavailable" not in page.content()
        page.context.close()
    with app.app_context():
        db.engine.dispose()
