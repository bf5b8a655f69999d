"""Browser fixtures: kb served on loopback from a thread, and Debian's Chromium via Playwright.

`playwright install` cannot download browsers here, so Playwright drives the system
Chromium at /usr/bin/chromium. Tests are skipped, with the reason, where it is missing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

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
