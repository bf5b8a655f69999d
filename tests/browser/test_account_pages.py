"""In Chromium, by keyboard: the account page's sessions and the token page, axe throughout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import served_site
from tests.browser.people import Site, assert_accessible, page_as

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def account_site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    with served_site(tmp_path_factory.mktemp("account"), seeded_database) as served:
        yield served


def test_signing_out_another_browser_from_the_account_page(browser: Browser, account_site: Site) -> None:
    site = account_site
    here = page_as(browser, site, "member")
    there = page_as(browser, site, "member")
    here.goto(f"{site.url}/account")
    sessions = here.get_by_role("region", name="Where you are signed in")
    expect(sessions.get_by_role("row")).to_have_count(3)  # the header and two sessions
    expect(sessions.get_by_text("This browser")).to_have_count(1)
    assert_accessible(here)
    sign_out_there = sessions.get_by_role("button", name=re.compile("^Sign out"))
    sign_out_there.focus()
    here.keyboard.press("Enter")
    expect(here.get_by_text(re.compile("You have signed out of"))).to_be_visible()
    expect(sessions.get_by_role("row")).to_have_count(2)
    assert_accessible(here)
    there.goto(f"{site.url}/account")
    expect(there).to_have_url(re.compile("/login"))
    here.context.close()
    there.context.close()


def test_making_and_revoking_a_token_by_keyboard(browser: Browser, account_site: Site) -> None:
    site = account_site
    page = page_as(browser, site, "member")
    page.goto(f"{site.url}/account")
    page.get_by_role("link", name=re.compile("Make and revoke API tokens")).click()
    expect(page.get_by_role("heading", name="Personal access tokens", level=1)).to_be_visible()
    assert_accessible(page)

    # Nothing named: the error is shown, and the choices made are kept.
    page.get_by_label("Read and write").check()
    page.get_by_label("Token name").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_title(re.compile("^Error:"))
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter a name for the token")
    expect(page.get_by_label("Read and write")).to_be_checked()
    assert_accessible(page)

    page.get_by_label("Token name").fill("Weekly report")
    page.get_by_label("Token name").press("Enter")
    token = page.get_by_label("Your new token")
    expect(token).to_have_value(re.compile(r"^kb_"))
    assert_accessible(page)

    page.get_by_role("link", name="Revoke Weekly report").click()
    expect(page.get_by_role("heading", name=re.compile("Revoke “Weekly report”"))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Revoke").press("Enter")
    expect(page.get_by_text("has been revoked")).to_be_visible()

    page.get_by_role("button", name="Make my feed address").click()
    expect(page.get_by_label("Your personal feed address")).to_have_value(re.compile(r"/feeds/all\.atom\?token=kb_"))
    assert_accessible(page)
    page.context.close()
