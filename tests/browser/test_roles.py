"""Each role signs in through the real forms in Chromium and sees what it should, and no more."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.accounts import PASSWORD
from tests.browser.people import Site, axe_blocking, sign_in

pytestmark = pytest.mark.browser


def _status(page: Page, site: Site, path: str) -> int:
    response = page.goto(site.url + path)
    assert response is not None
    return response.status


SEES = {
    # role: (members entry, panel entry of the panel's review, unpublished draft)
    "anonymous": (False, False, False),
    "member": (True, False, False),
    "panel": (True, True, False),
    "other panel": (True, False, False),
    "moderator": (True, True, True),
    "admin": (True, True, True),
}
EVERYONES_NAVIGATION = (
    "Lessons",
    "Reviews",
    "Meeting papers",
    "Themes",
    "Consultations",
    "Open actions",
    "Dashboard",
)
NAVIGATION = {
    "anonymous": [],
    "member": ["Submit a lesson"],
    "panel": ["My panels", "Submit a lesson"],
    "other panel": ["My panels", "Submit a lesson"],
    "moderator": ["My panels", "Submit a lesson", "Moderation", "Flags"],
    "admin": ["My panels", "Submit a lesson", "Moderation", "Flags", "Admin"],
}


@pytest.mark.parametrize("role", SEES)
def test_each_role_sees_what_it_should(site: Site, as_role: Callable[[str], Page], role: str) -> None:
    page = as_role(role)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(site.url + "/")
    navigation = page.locator(".nhsuk-header__navigation-list a").all_inner_texts()
    extra = [item.strip() for item in navigation if item.strip() not in EVERYONES_NAVIGATION]
    assert extra == NAVIGATION[role]
    for audience, expected in zip(("members", "panel", "draft"), SEES[role], strict=True):
        status = _status(page, site, site.restricted[audience])
        assert status == (200 if expected else 404), f"{role} on the {audience} entry {site.restricted[audience]}"
    assert _status(page, site, "/admin/users") == (200 if role == "admin" else 404)
    assert _status(page, site, "/moderation") == (200 if role in ("moderator", "admin") else 404)
    assert not violations, violations


def test_signing_out_hides_members_material_again(site: Site, page: Page) -> None:
    sign_in(page, site, "leaver")
    assert _status(page, site, site.restricted["members"]) == 200
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".kb-flash")).to_contain_text("You have signed out")
    assert _status(page, site, site.restricted["members"]) == 404


def test_the_sign_in_form_keeps_the_email_after_a_wrong_password(site: Site, page: Page) -> None:
    page.goto(site.url + "/login")
    page.get_by_label("Email address").fill(site.people["member"].email)
    page.get_by_label("Password", exact=True).fill("not the right one")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("The email address or password is not right.")
    expect(page.get_by_label("Email address")).to_have_value(site.people["member"].email)


ANONYMOUS_PAGES = {
    "sign in": "/login",
    "reset request": "/account/reset",
    "broken link": "/account/reset/not-a-token",
}
SIGNED_IN_PAGES = {
    "account": ("member", "/account"),
    "change password": ("member", "/account/password"),
    "two-factor set-up": ("member", "/account/two-factor"),
    "home as admin": ("admin", "/"),
    "admin users": ("admin", "/admin/users"),
    "admin user": ("admin", "/admin/users/1"),
    "admin organisations": ("admin", "/admin/organisations"),
    "admin audit log": ("admin", "/admin/audit"),
}


@pytest.mark.parametrize("path", ANONYMOUS_PAGES.values(), ids=ANONYMOUS_PAGES.keys())
def test_account_pages_pass_axe(site: Site, page: Page, path: str) -> None:
    page.goto(site.url + path)
    report = axe_blocking(page)
    assert not report, report


@pytest.mark.parametrize(("role", "path"), SIGNED_IN_PAGES.values(), ids=SIGNED_IN_PAGES.keys())
def test_signed_in_pages_pass_axe(site: Site, as_role: Callable[[str], Page], role: str, path: str) -> None:
    page = as_role(role)
    page.goto(site.url + path)
    report = axe_blocking(page)
    assert not report, report


def test_form_errors_pass_axe(site: Site, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.url + "/login")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    report = axe_blocking(page)
    context.close()
    assert not report, report


def test_second_factor_page_passes_axe(site: Site, page: Page) -> None:
    page.goto(site.url + "/login")
    page.get_by_label("Email address").fill(site.people["moderator"].email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    report = axe_blocking(page)
    assert not report, report


def test_setting_up_two_step_verification_shows_recovery_codes(site: Site, as_role: Callable[[str], Page]) -> None:
    page = as_role("other panel")
    page.goto(site.url + "/account/two-factor")
    expect(page.locator(".kb-qr svg")).to_be_visible()
    secret = page.locator(".kb-secret").inner_text()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step verification").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator(".kb-codes li")).to_have_count(10)
    report = axe_blocking(page)
    assert not report, report


def test_a_refused_form_page_passes_axe_and_shows_what_was_typed(site: Site, page: Page) -> None:
    page.goto(site.url + "/login")
    page.get_by_label("Email address").fill("someone@example.org")
    page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your form was not sent")
    expect(page.locator("textarea[readonly]").first).to_have_value("someone@example.org")
    report = axe_blocking(page)
    assert not report, report
