"""Each role signs in through the real forms in Chromium and sees what it should, and no more."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kb.config import PROJECT_ROOT
from kb.content.document import parse_document
from kb.entries.vocabulary import entry_path
from kb.extensions import db
from tests.accounts import PASSWORD, make_cast, make_user
from tests.browser.conftest import serving
from tests.browser.test_accessibility import BLOCKING_IMPACTS, WCAG_TAGS
from tests.conftest import make_app

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Person:
    """Someone who signs in: their email, and their authenticator secret if staff."""

    email: str
    totp_secret: str | None = None


@dataclass(frozen=True)
class Site:
    """The served site, its people, and seed entries by who may see them."""

    url: str
    people: dict[str, Person]
    restricted: dict[str, str]


def _seed_paths_by_audience() -> tuple[dict[str, str], str | None]:
    """One seed entry per audience (members-only, panel, unpublished draft) and the panel's review."""
    found: dict[str, str] = {}
    panel_review = None
    for path in sorted((PROJECT_ROOT / "content").rglob("*.md")):
        document = parse_document(path.read_text(encoding="utf-8"), str(path), default_slug=path.stem).document
        if document is None:
            continue
        if document.status != "published":
            found.setdefault("draft", entry_path(document.kind, document.slug))
        elif document.visibility in ("members", "panel"):
            found.setdefault(document.visibility, entry_path(document.kind, document.slug))
            if document.visibility == "panel" and found["panel"].endswith(f"/{document.slug}"):
                panel_review = document.review
    return found, panel_review


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    """The seeded app with one account per role, served on loopback."""
    app = make_app(tmp_path_factory.mktemp("roles"), seeded_database, LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    restricted, panel_review = _seed_paths_by_audience()
    with app.app_context():
        cast = make_cast()
        panel, other_panel = cast.panel, cast.other_panel
        if panel_review != cast.review.slug:
            panel, other_panel = other_panel, panel
        people = {
            role: Person(user.email, user.totp_secret)
            for role, user in {
                "member": cast.member,
                "panel": panel,
                "other panel": other_panel,
                "moderator": cast.moderator,
                "admin": cast.admin,
                "leaver": make_user("leaver@example.org"),
            }.items()
        }
        db.session.remove()
    with serving(app) as url:
        yield Site(url, people, restricted)


def sign_in(page: Page, site: Site, role: str) -> None:
    """Sign in through the form, and through the second-factor page for staff."""
    person = site.people[role]
    page.goto(site.url + "/login")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if person.totp_secret:
        expect(page).to_have_url(re.compile(r"/login/verify$"))
        page.get_by_label("Code").fill(pyotp.TOTP(person.totp_secret).now())
        page.get_by_role("button", name="Continue").click()
    expect(page.locator(".kb-account-links")).to_contain_text("Sign out")


@pytest.fixture(scope="module")
def sessions(site: Site, browser: Browser) -> dict[str, Any]:
    """Each role's signed-in browser state, made once: a second-factor code works only once."""
    states: dict[str, Any] = {}
    for role in site.people:
        context = browser.new_context()
        sign_in(context.new_page(), site, role)
        states[role] = context.storage_state()
        context.close()
    return states


@pytest.fixture
def as_role(browser: Browser, sessions: dict[str, Any]) -> Iterator[Callable[[str], Page]]:
    """Open a page already signed in as a role (or anonymous)."""
    contexts: list[BrowserContext] = []

    def open_page(role: str) -> Page:
        context = browser.new_context(storage_state=sessions.get(role))
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


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
NAVIGATION = {
    "anonymous": [],
    "member": ["Submit a lesson"],
    "panel": ["Submit a lesson"],
    "other panel": ["Submit a lesson"],
    "moderator": ["Submit a lesson", "Moderation"],
    "admin": ["Submit a lesson", "Moderation", "Admin"],
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
    extra = [
        item.strip() for item in navigation if item.strip() not in ("Lessons", "Reviews", "Meeting papers", "Themes")
    ]
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


def _axe_blocking(page: Page) -> str:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in blocking
    )


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
    report = _axe_blocking(page)
    assert not report, report


@pytest.mark.parametrize(("role", "path"), SIGNED_IN_PAGES.values(), ids=SIGNED_IN_PAGES.keys())
def test_signed_in_pages_pass_axe(site: Site, as_role: Callable[[str], Page], role: str, path: str) -> None:
    page = as_role(role)
    page.goto(site.url + path)
    report = _axe_blocking(page)
    assert not report, report


def test_form_errors_pass_axe(site: Site, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.url + "/login")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    report = _axe_blocking(page)
    context.close()
    assert not report, report
