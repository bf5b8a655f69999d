"""People for browser tests: one account per role on a copy of the seed, and how they sign in.

The fixtures that use these (`site`, `sessions`, `as_role`) are in `conftest.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyotp
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from kb.config import PROJECT_ROOT
from kb.content.document import parse_document
from kb.entries.vocabulary import entry_path
from kb.extensions import db
from tests.accounts import PASSWORD, make_cast, make_user

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING_IMPACTS = {"serious", "critical"}


def axe_blocking(page: Page) -> str:
    """axe-core's serious and critical WCAG 2.2 AA violations on the page, one per line."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in blocking
    )


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


def add_people(app: Flask) -> tuple[dict[str, Person], dict[str, str]]:
    """One account per role in `app`'s database, and one seed entry per restricted audience."""
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
    return people, restricted


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


def page_as(browser: Browser, site: Site, role: str | None) -> Page:
    """A page in a fresh browser context (1280 by 900, en-GB), signed in as `role` unless it is None."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
    if role is not None:
        sign_in(page, site, role)
    return page


def assert_accessible(page: Page) -> None:
    """Fail, with axe-core's report and the page's address, on any serious or critical WCAG 2.2 AA violation."""
    report = axe_blocking(page)
    assert not report, f"{page.url}\n{report}"


def panel_member_page(browser: Browser, site: Site, review_slug: str) -> Page:
    """A page signed in as whichever of the two panel roles sits on this review's panel."""
    page = page_as(browser, site, "panel")
    page.goto(f"{site.url}/reviews/{review_slug}")
    if page.get_by_role("link", name="Open the panel's workspace").count():
        return page
    page.context.close()
    return page_as(browser, site, "other panel")
