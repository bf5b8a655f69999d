"""A real OpenID provider on loopback for the single sign-on tests: panva's oidc-provider run by Node.

    with openid_provider(tmp_path, ["http://127.0.0.1:5000/login/sso/callback"]) as provider:
        provider.add("ann", email="ann@nhs.net")
        app = make_app(..., **provider.settings(OIDC_DOMAINS={"nhs.net": "NHS England"}))
        callback = provider.sign_in(authorize_url, "ann")  # the address the provider sends the browser back to

The provider (tests/oidc/provider.mjs) is served over http on 127.0.0.1, which kb accepts
only for a loopback discovery address outside production. Skipped, with the reason, where
Node or the npm package is missing.
"""

from __future__ import annotations

import json
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from kb.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "tests" / "oidc" / "provider.mjs"
PACKAGE = PROJECT_ROOT / "node_modules" / "oidc-provider" / "package.json"
CLIENT_ID = "kb-tests"
CLIENT_SECRET = "client-secret-for-tests-only-0123456789"
START_DEADLINE = 30.0
TEST_CALLBACK = "http://127.0.0.1:5000/login/sso/callback"
"""Where the provider sends people back to for an app under the test client (`SITE_URL` is http://127.0.0.1:5000)."""


class _Forms(HTMLParser):
    """The forms of a page: each one's action and its named inputs' values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), {}))
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1][1][values["name"]] = values.get("value", "")


@dataclass
class OpenIdProvider:
    """A running provider: its issuer, kb's client there, and the people it knows (a JSON file)."""

    issuer: str
    accounts_file: Path

    @property
    def discovery_url(self) -> str:
        """The provider's discovery document."""
        return f"{self.issuer}/.well-known/openid-configuration"

    def add(self, login: str, *, email: str, email_verified: bool = True, **claims: Any) -> None:
        """Let `login` sign in, with these claims (`sub` is the login unless given)."""
        accounts = json.loads(self.accounts_file.read_text(encoding="utf-8"))
        accounts[login] = {"email": email, "email_verified": email_verified, "name": login.title(), **claims}
        self.accounts_file.write_text(json.dumps(accounts), encoding="utf-8")

    def settings(self, **extra: Any) -> dict[str, Any]:
        """kb settings that use this provider (pass more, or override, as keywords)."""
        return {
            "OIDC_DISCOVERY_URL": self.discovery_url,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_BUTTON_LABEL": "Sign in with NHS mail",
            "SITE_URL": "http://127.0.0.1:5000",
            **extra,
        }

    def sign_in(self, authorize_url: str, login: str) -> str:
        """Sign `login` in on the provider's own pages, as a browser would; returns where it sends them back.

        Follows the provider's redirects by hand and stops at the first address off the
        provider (kb's callback, with `code` and `state`, or `error`).
        """
        http = requests.Session()
        url = authorize_url
        for _ in range(12):
            if not url.startswith(self.issuer):
                return url
            answer = http.get(url, allow_redirects=False, timeout=10)
            if answer.is_redirect:
                url = urljoin(url, answer.headers["Location"])
                continue
            forms = _Forms()
            forms.feed(answer.text)
            assert forms.forms, f"no form on the provider's page {url}: {answer.status_code} {answer.text[:300]}"
            action, fields = forms.forms[0]
            fields.update({"login": login, "password": "any password"} if "login" in fields else {})
            answer = http.post(urljoin(url, action), data=fields, allow_redirects=False, timeout=10)
            assert answer.is_redirect, f"the provider did not take the form at {url}: {answer.text[:300]}"
            url = urljoin(url, answer.headers["Location"])
        raise AssertionError("the provider never sent the browser back")


def _first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_DEADLINE)
    if not ready:
        pytest.fail("the OpenID provider did not start")
    return process.stdout.readline()


@contextmanager
def openid_provider(folder: Path, redirect_uris: list[str]) -> Iterator[OpenIdProvider]:
    """Run the provider on a free loopback port, knowing kb's client with `redirect_uris`; stopped afterwards."""
    node = shutil.which("node")
    if node is None or not PACKAGE.exists():
        # `make test` installs it from package-lock.json (npm ci); a missing provider is a broken set-up, not a skip.
        pytest.fail("Node and the npm package oidc-provider are needed: run npm ci (make test does)")
    folder.mkdir(parents=True, exist_ok=True)
    accounts = folder / "accounts.json"
    accounts.write_text("{}", encoding="utf-8")
    settings = folder / "provider.json"
    settings.write_text(
        json.dumps(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "accounts": str(accounts),
            }
        ),
        encoding="utf-8",
    )
    log = (folder / "provider.log").open("w")
    process = subprocess.Popen(
        [node, str(SCRIPT), str(settings)], stdout=subprocess.PIPE, stderr=log, text=True, cwd=PROJECT_ROOT
    )
    try:
        line = _first_line(process)
        if not line:
            pytest.fail(f"the OpenID provider stopped: {(folder / 'provider.log').read_text()}")
        provider = OpenIdProvider(json.loads(line)["issuer"], accounts)
        deadline = time.monotonic() + START_DEADLINE
        while requests.get(provider.discovery_url, timeout=5).status_code != 200:
            if time.monotonic() > deadline:
                pytest.fail("the OpenID provider never served its discovery document")
            time.sleep(0.1)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
