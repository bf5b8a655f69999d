"""Curating tags and picking a region in Chromium: a moderator merges two tags, a member picks a region from the list.

The tag curation pages, with and without an error, are checked with axe-core.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from kb.entries.models import Entry
from kb.extensions import db
from kb.moderation.revisions import add_tags
from kb.users.models import User
from tests.browser.conftest import serving
from tests.browser.people import Site, add_people, axe_blocking, sign_in
from tests.conftest import make_app

pytestmark = pytest.mark.browser

LESSON = "procurement-weighted-towards-cost"


def _no_axe_violations(page: Page) -> None:
    report = axe_blocking(page)
    assert not report, f"{page.url}\n{report}"


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    """The seeded site with a free tag, "cost cutting", on one lesson."""
    app = make_app(tmp_path_factory.mktemp("tag-curation"), seeded_database, LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    people, restricted = add_people(app)
    with app.app_context():
        moderator = db.session.scalar(select(User).where(User.email == people["moderator"].email))
        lesson = db.session.scalar(select(Entry).where(Entry.slug == LESSON))
        assert lesson is not None
        add_tags(lesson, ["cost-cutting"], actor=moderator, message="A free tag to curate")
        db.session.commit()
        db.session.remove()
    with serving(app) as url:
        yield Site(url, people, restricted)


@pytest.fixture
def open_as(curated: Site, browser: Browser) -> Iterator[Any]:
    contexts = []

    def open_page(role: str) -> Page:
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        sign_in(page, curated, role)
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_a_moderator_merges_a_free_tag_into_a_theme_tag(curated: Site, open_as: Any) -> None:
    moderator = open_as("moderator")
    moderator.goto(curated.url + "/moderation/tags")
    _no_axe_violations(moderator)
    unthemed = moderator.locator("table").first
    unthemed.get_by_role("link", name=re.compile("^Cost cutting")).click()
    expect(moderator.get_by_role("heading", level=1)).to_contain_text("Cost cutting")
    _no_axe_violations(moderator)

    moderator.get_by_role("button", name="Merge").click()
    expect(moderator.locator(".nhsuk-error-summary")).to_contain_text("Choose a tag.")
    assert moderator.title().startswith("Error:")
    _no_axe_violations(moderator)

    moderator.get_by_label("Merge into").select_option(label="Cost versus quality weighting (cost-versus-quality)")
    moderator.get_by_role("button", name="Merge").click()
    expect(moderator).to_have_url(re.compile(r"/moderation/tags/cost-versus-quality$"))
    expect(moderator.locator(".kb-flash")).to_contain_text("merged into")

    reader = open_as("member")
    reader.goto(curated.url + "/tags/cost-cutting")
    expect(reader).to_have_url(re.compile(r"/tags/cost-versus-quality$"))
    expect(reader.locator("main")).to_contain_text("Procurement weighted towards cost", ignore_case=True)
    reader.goto(curated.url + f"/lessons/{LESSON}")
    expect(reader.locator("main")).not_to_contain_text("Cost cutting")


def test_a_member_picks_a_region_from_the_list(curated: Site, open_as: Any) -> None:
    member = open_as("member")
    member.goto(curated.url + "/lessons/new")
    member.get_by_label("Title").fill("Out-of-hours cover thinned in the North West")
    member.get_by_label("Summary").fill("Fewer GPs took out-of-hours shifts once the new service began.")
    member.get_by_label("Driving event").fill("Rotas were hard to fill in the first weeks.")
    member.get_by_label("Lesson", exact=True).fill("Shift cover needs planning before launch.")
    member.get_by_label("Recommendation").fill("Agree cover with local GPs in advance.")
    member.get_by_label("Evidence").fill("Local rota records.")
    region = member.get_by_label("Region")
    expect(region.locator("option")).to_contain_text(["Not given", "England", "North East", "North West"])
    region.select_option("North West")
    member.get_by_role("button", name="Save draft").click()
    expect(member.locator(".kb-flash")).to_be_visible()
    expect(member.locator("main")).to_contain_text("North West")
    member.goto(member.url.split("?")[0].split("#")[0] + "/edit")
    expect(member.get_by_label("Region")).to_have_value("North West")
    _no_axe_violations(member)
