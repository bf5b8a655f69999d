"""Single sign-on in Chromium: through the real provider's pages and back to kb signed in; axe on the sign-in page."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from kb.extensions import db
from tests.accounts import organisation
from tests.browser.test_accessibility import BLOCKING_IMPACTS, WCAG_TAGS
from tests.conftest import make_app
from tests.oidc_provider import OpenIdProvider, openid_provider

pytestmark = pytest.mark.browser


@dataclass
class SsoSite:
    """kb served on loopback, signing in through `provider`."""

    url: str
    provider: OpenIdProvider


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def sso_site(tmp_path_factory: pytest.TempPathFactory, empty_database: Path) -> Iterator[SsoSite]:
    """kb and the provider, each knowing the other's address: kb's port is chosen first."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with openid_provider(tmp_path_factory.mktemp("provider"), [f"{url}/login/sso/callback"]) as provider:
        app = make_app(
            tmp_path_factory.mktemp("sso-site"),
            empty_database,
            **provider.settings(SITE_URL=url, OIDC_DOMAINS={"nhs.net": "NHS England"}),
        )
        with app.app_context():
            organisation("NHS England", "national-body")
            db.session.commit()
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield SsoSite(url, provider)
        finally:
            server.shutdown()
            thread.join(timeout=10)


def test_signing_in_through_the_provider_lands_signed_in_on_kb(sso_site: SsoSite, page: Page) -> None:
    sso_site.provider.add("nia", email="nia@nhs.net", name="Nia Browser")
    page.goto(f"{sso_site.url}/login")
    page.get_by_role("button", name="Sign in with NHS mail").click()
    page.locator("input[name=login]").fill("nia")
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.wait_for_url(f"{sso_site.url}/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"{sso_site.url}/account")
    expect(page.locator("main")).to_contain_text("nia@nhs.net")
    expect(page.locator("main")).to_contain_text("NHS England")


def test_the_sign_in_page_with_its_single_sign_on_button_passes_axe(sso_site: SsoSite, page: Page) -> None:
    page.goto(f"{sso_site.url}/login")
    expect(page.get_by_role("button", name="Sign in with NHS mail")).to_be_visible()
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in blocking]
