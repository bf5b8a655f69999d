"""Browser fixtures: kb served on loopback from a thread, and Debian's Chromium via Playwright.

`playwright install` cannot download browsers here, so Playwright drives the system
Chromium at /usr/bin/chromium. Tests are skipped, with the reason, where it is missing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from werkzeug.serving import make_server

from tests.browser.people import Person, Site, add_people, sign_in
from tests.conftest import make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve `app` over HTTP on a free loopback port from a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[str]:
    """The seeded app served over HTTP on a free loopback port; yields its base URL."""
    with serving(make_app(tmp_path_factory.mktemp("live"), seeded_database)) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """A headless Chromium, shared by the session's browser tests."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser page with its own cookies."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    new_page = context.new_page()
    yield new_page
    context.close()


def app_with_people(folder: Path, seeded_database: Path) -> tuple[Flask, dict[str, Person], dict[str, str]]:
    """A copy of the seeded app with one account per role (sign-in limits raised for the tests' many sign-ins)."""
    app = make_app(folder, seeded_database, LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    people, restricted = add_people(app)
    return app, people, restricted


@contextmanager
def served_site(folder: Path, seeded_database: Path) -> Iterator[Site]:
    """A copy of the seeded app with one account per role, served on loopback while the block runs."""
    app, people, restricted = app_with_people(folder, seeded_database)
    with serving(app) as url:
        yield Site(url, people, restricted)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Iterator[Site]:
    """The seeded app with one account per role, served on loopback."""
    with served_site(tmp_path_factory.mktemp("roles"), seeded_database) as served:
        yield served


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
