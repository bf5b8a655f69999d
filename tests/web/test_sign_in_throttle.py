"""Wrong passwords slow the guesser, per account and address, without locking the owner out from elsewhere.

The counters live in the database (`RATELIMIT_STORAGE_URI=database`), as on several hosts.
Time is moved on by shifting `time.time`, never waited for.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb.extensions import db
from kb.users.throttle import DEVICE_COOKIE, client_group
from tests.accounts import make_user, sign_in
from tests.conftest import _in_context, make_app

OWNER = "admin-owner@example.org"
WRONG = "not the password, a guess"
ADDRESS_A = "203.0.113.7"
ADDRESS_B = "198.51.100.20"


class Clock:
    """Moves `time.time` on for everything (the counters' windows, sessions, CSRF tokens)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + self.offset)

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass."""
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A clock the test can move forward."""
    return Clock(monkeypatch)


@pytest.fixture
def throttled_app(tmp_path: Path, seeded_database: Path) -> Iterator[Flask]:
    """Three free failures, then 60 s doubling; 5 failures per account from unknown browsers."""
    application = make_app(
        tmp_path,
        seeded_database,
        RATELIMIT_STORAGE_URI="database",
        LOGIN_FREE_FAILURES=3,
        LOGIN_FIRST_DELAY_SECONDS=60,
        LOGIN_MAX_DELAY_SECONDS=600,
        LOGIN_ACCOUNT_FAILURES=5,
    )
    for ready in _in_context(application):
        make_user(OWNER)
        yield ready


def client_at(application: Flask, address: str) -> FlaskClient:
    """A browser whose requests come from `address`."""
    client = application.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def browser_known_to(application: Flask, email: str) -> FlaskClient:
    """A signed-out browser where `email` has signed in before: it holds only that sign-in's device cookie."""
    used = client_at(application, ADDRESS_B)
    assert sign_in(used, email).status_code == 302
    cookie = used.get_cookie(DEVICE_COOKIE)
    assert cookie is not None
    assert cookie.http_only
    browser = client_at(application, ADDRESS_B)
    browser.set_cookie(DEVICE_COOKIE, cookie.value)
    assert browser.get("/account").status_code == 302  # not signed in
    db.session.remove()
    return browser


def test_a_guesser_at_one_address_does_not_keep_the_owner_out_from_another(throttled_app: Flask) -> None:
    attacker = client_at(throttled_app, ADDRESS_A)
    codes = [sign_in(attacker, OWNER, WRONG).status_code for _ in range(10)]
    assert codes == [401, 401, 401] + [429] * 7
    # The owner, on a browser kb has never seen, at another address: the right password works.
    owner = client_at(throttled_app, ADDRESS_B)
    assert sign_in(owner, OWNER).status_code == 302
    assert owner.get("/account").status_code == 200


def test_the_guesser_waits_longer_after_each_failure_and_so_does_anyone_at_that_address(
    throttled_app: Flask, clock: Clock
) -> None:
    attacker = client_at(throttled_app, ADDRESS_A)
    for _ in range(2):
        assert sign_in(attacker, OWNER, WRONG).status_code == 401
    third = sign_in(attacker, OWNER, WRONG)
    assert third.status_code == 401
    assert "try again in 60 seconds" in unescape(third.get_data(as_text=True))
    refused = sign_in(attacker, OWNER, WRONG)
    assert refused.status_code == 429
    first_wait = int(refused.headers["Retry-After"])
    assert 50 <= first_wait <= 60

    clock.advance(61)
    assert sign_in(attacker, OWNER, WRONG).status_code == 401  # the wait is over: one more guess
    again = sign_in(attacker, OWNER, WRONG)
    assert again.status_code == 429
    second_wait = int(again.headers["Retry-After"])
    assert second_wait > first_wait  # the wait doubles: 120 s now

    # The owner at the same address, right password included, is told when to come back.
    owner_here = client_at(throttled_app, ADDRESS_A)
    blocked = sign_in(owner_here, OWNER)
    assert blocked.status_code == 429
    page = unescape(blocked.get_data(as_text=True))
    assert "Too many failed sign-ins to this account from your network" in page
    assert "try again in 2 minutes" in page
    assert f'value="{OWNER}"' in page  # what was typed is kept
    assert blocked.headers["Retry-After"]

    clock.advance(121)
    assert sign_in(owner_here, OWNER).status_code == 302


def test_a_guesser_behind_the_owners_address_does_not_delay_the_owners_own_browser(throttled_app: Flask) -> None:
    owners_browser = browser_known_to(throttled_app, OWNER)
    owners_browser.environ_base["REMOTE_ADDR"] = ADDRESS_A  # one trust's network: one address for everyone
    guesser = client_at(throttled_app, ADDRESS_A)
    assert [sign_in(guesser, OWNER, WRONG).status_code for _ in range(6)] == [401, 401, 401, 429, 429, 429]
    assert sign_in(owners_browser, OWNER).status_code == 302
    assert sign_in(guesser, OWNER, WRONG).status_code == 429, "the owner's sign-in does not reset the guesser's wait"


def test_a_right_password_clears_the_addresses_failures(throttled_app: Flask) -> None:
    owner = client_at(throttled_app, ADDRESS_A)
    for _ in range(2):
        assert sign_in(owner, OWNER, WRONG).status_code == 401
    assert sign_in(owner, OWNER).status_code == 302
    fresh = client_at(throttled_app, ADDRESS_A)
    assert [sign_in(fresh, OWNER, WRONG).status_code for _ in range(3)] == [401, 401, 401]


def test_guesses_from_many_addresses_refuse_unknown_browsers_but_not_the_owners(throttled_app: Flask) -> None:
    owners_browser = browser_known_to(throttled_app, OWNER)

    for n in range(5):
        assert sign_in(client_at(throttled_app, f"192.0.2.{n + 1}"), OWNER, WRONG).status_code == 401
    stranger = sign_in(client_at(throttled_app, "192.0.2.100"), OWNER)
    assert stranger.status_code == 429
    assert "only be signed in to from a browser where it was used before" in unescape(stranger.get_data(as_text=True))

    owners_browser.environ_base["REMOTE_ADDR"] = "192.0.2.200"  # travelling: a new address
    assert sign_in(owners_browser, OWNER).status_code == 302
    assert owners_browser.get("/account").status_code == 200


def test_a_device_cookie_is_for_one_account_only(throttled_app: Flask) -> None:
    make_user("someone-else@example.org")
    browser = browser_known_to(throttled_app, "someone-else@example.org")
    for n in range(5):
        sign_in(client_at(throttled_app, f"192.0.2.{n + 1}"), OWNER, WRONG)
    browser.environ_base["REMOTE_ADDR"] = "192.0.2.201"
    assert sign_in(browser, OWNER).status_code == 429


@pytest.mark.parametrize(
    ("address", "group"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("not an address", "unknown"),
        (None, "unknown"),
    ],
)
def test_failures_are_counted_per_ipv4_address_and_ipv6_network(address: str | None, group: str) -> None:
    assert client_group(address) == group
