"""Comments in search and discussion downloads in Chromium: axe-core passes, links work from the keyboard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from kb.entries.models import Lesson
from kb.extensions import db
from kb.users.models import User
from tests.browser.conftest import serving
from tests.browser.people import Site, add_people, axe_blocking, sign_in
from tests.conftest import make_app
from tests.factories import add_comment

pytestmark = pytest.mark.browser

WORD = "saltmarshqx"


@pytest.fixture(scope="module")
def discussed(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[tuple[Site, str, int]]:
    """A served site with a comment and a reply on a public lesson; yields it, the lesson path and the comment id."""
    app = make_app(tmp_path_factory.mktemp("exports"), seeded_database, LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    people, restricted = add_people(app)
    with app.app_context():
        member = db.session.scalars(select(User).where(User.email == people["member"].email)).one()
        lesson = db.session.scalars(
            select(Lesson).where(Lesson.status == "published", Lesson.visibility == "public").order_by(Lesson.slug)
        ).first()
        comment = add_comment(lesson, member, f"The {WORD} rota failed on the first weekend.")
        add_comment(lesson, member, "And again a week later.", parent=comment)
        path, comment_id = lesson.path, comment.id
        db.session.remove()
    with serving(app) as url:
        yield Site(url, people, restricted), path, comment_id


@pytest.fixture
def member_page(browser: Browser, discussed) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    sign_in(page, discussed[0], "member")
    yield page
    context.close()


def test_a_comment_hit_passes_axe_and_its_link_opens_the_comment(member_page: Page, discussed):
    site, path, comment_id = discussed
    member_page.goto(f"{site.url}/search?q={WORD}")
    result = member_page.locator(".kb-result")
    expect(result).to_have_count(1)
    expect(result.locator(".kb-result__label")).to_contain_text("Comment by")
    assert axe_blocking(member_page) == ""
    link = result.locator("h2 a")
    link.focus()
    member_page.keyboard.press("Enter")
    expect(member_page).to_have_url(f"{site.url}{path}#comment-{comment_id}")
    expect(member_page.locator(f"#comment-{comment_id}")).to_be_in_viewport()


def test_the_download_links_pass_axe_and_download_from_the_keyboard(member_page: Page, discussed):
    site, path, _ = discussed
    member_page.goto(site.url + path)
    section = member_page.locator(".kb-comment-exports")
    expect(section.get_by_role("heading", name="Download the discussion")).to_be_visible()
    assert axe_blocking(member_page) == ""
    link = section.get_by_role("link", name="All comments as a spreadsheet (CSV)")
    link.focus()
    with member_page.expect_download() as download:
        member_page.keyboard.press("Enter")
    assert download.value.suggested_filename.endswith("-comments.csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert WORD in text
    with member_page.expect_download() as markdown:
        section.get_by_role("link", name="All comments as Markdown").click()
    assert markdown.value.suggested_filename.endswith("-comments.md")
    assert "> > And again a week later." in Path(markdown.value.path()).read_text(encoding="utf-8")
