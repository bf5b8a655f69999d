"""Single sign-on through a real OpenID provider on loopback: accounts made, linked, refused; roles; passwords off.

kb's side runs in the test client; the provider's own pages are driven over HTTP
(`tests.oidc_provider`), and its answer is handed back to kb's callback.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from kb.audit.models import AuditEvent
from kb.extensions import db
from kb.mail import Mail
from kb.users import sso
from kb.users.models import User, UserIdentity
from kb.users.service import AccountError
from tests.accounts import csrf_token, login_as, make_user, organisation, page_text, post_form
from tests.conftest import make_app
from tests.oidc_provider import TEST_CALLBACK, OpenIdProvider, openid_provider

DOMAINS = {"nhs.net": "NHS England", "example-trust.nhs.uk": "Test out-of-hours provider"}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIdProvider]:
    """One provider for the module's tests; each test adds the people it needs."""
    with openid_provider(tmp_path_factory.mktemp("provider"), [TEST_CALLBACK]) as running:
        yield running


def sso_app(folder: Path, template: Path, provider: OpenIdProvider, **extra: Any) -> Iterator[Flask]:
    """An app on `template` signing in through `provider`, with the alliance's two organisations."""
    application = make_app(folder, template, **provider.settings(OIDC_DOMAINS=DOMAINS, **extra))
    with application.app_context():
        organisation("NHS England", "national-body")
        organisation()
        db.session.commit()
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path: Path, empty_database: Path, provider: OpenIdProvider) -> Iterator[Flask]:
    """An empty app with single sign-on and local passwords."""
    yield from sso_app(tmp_path, empty_database, provider)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client on the single sign-on app."""
    return app.test_client()


def start(client: FlaskClient, next_path: str | None = None) -> str:
    """Press the sign-in page's single sign-on button; returns the provider's address it leads to."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    answer = client.post("/login/sso", data={"csrf_token": token, **({"next": next_path} if next_path else {})})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer.headers["Location"]


def come_back(client: FlaskClient, callback: str) -> TestResponse:
    """Follow the provider's redirect back to kb's callback."""
    parts = urlsplit(callback)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == TEST_CALLBACK
    return client.get(f"{parts.path}?{parts.query}")


def sso_sign_in(
    client: FlaskClient, provider: OpenIdProvider, login: str, next_path: str | None = None
) -> TestResponse:
    """The whole round trip: kb's button, the provider's pages, kb's callback."""
    return come_back(client, provider.sign_in(start(client, next_path), login))


def account(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def signed_in_as(client: FlaskClient) -> str:
    return page_text(client.get("/account"))


def test_the_first_sign_in_makes_a_member_in_the_domains_organisation(
    app: Flask, client: FlaskClient, provider: OpenIdProvider
) -> None:
    provider.add("ann", email="ann.new@nhs.net", name="Ann New")
    answer = sso_sign_in(client, provider, "ann", next_path="/themes")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/themes"
    user = account("ann.new@nhs.net")
    assert user is not None
    assert user.role == "member"
    assert user.organisation_name == "NHS England"
    assert user.display_name == "Ann New"
    assert user.password_hash is None
    identity = db.session.scalar(select(UserIdentity).where(UserIdentity.user_id == user.id))
    assert identity is not None
    assert identity.issuer == provider.issuer
    assert identity.subject == "ann"
    assert identity.last_used_at is not None
    assert "ann.new@nhs.net" in signed_in_as(client)
    actions = [
        (event.action, event.new_value) for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    ]
    assert ("sso.create", provider.issuer) in actions
    assert ("login.success", "single sign-on") in actions


def test_an_existing_account_is_linked_by_its_verified_email_and_found_again_after_the_email_changes(
    app: Flask, provider: OpenIdProvider
) -> None:
    existing = make_user("bob@example-trust.nhs.uk")
    provider.add("bob", email="Bob@example-trust.nhs.uk")
    assert sso_sign_in(app.test_client(), provider, "bob").status_code == 302
    assert db.session.scalar(select(UserIdentity.user_id).where(UserIdentity.subject == "bob")) == existing.id
    assert db.session.scalar(select(User.id).where(User.email.ilike("bob@%")).order_by(User.id.desc())) == existing.id
    # The provider's address for Bob changes; the link, not the email, finds the account.
    provider.add("bob", email="robert@nhs.net")
    again = app.test_client()
    assert sso_sign_in(again, provider, "bob").status_code == 302
    assert "bob@example-trust.nhs.uk" in signed_in_as(again)
    assert account("robert@nhs.net") is None


def test_an_unverified_email_is_refused_and_no_account_is_made(
    app: Flask, client: FlaskClient, provider: OpenIdProvider
) -> None:
    provider.add("cat", email="cat@nhs.net", email_verified=False)
    make_user("cat@nhs.net")
    answer = sso_sign_in(client, provider, "cat")
    assert answer.status_code == 400
    assert "is not verified at the sign-in service" in page_text(answer)
    assert page_text(answer).count("Error:") >= 1
    assert db.session.scalar(select(UserIdentity)) is None
    assert client.get("/account").status_code == 302


def test_a_domain_that_is_not_allowed_is_refused_and_no_account_is_made(
    app: Flask, client: FlaskClient, provider: OpenIdProvider
) -> None:
    provider.add("dan", email="dan@elsewhere.example")
    answer = sso_sign_in(client, provider, "dan")
    assert answer.status_code == 403
    assert "Addresses at elsewhere.example cannot sign in" in page_text(answer)
    assert account("dan@elsewhere.example") is None
    failure = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login.failure"))
    assert failure is not None
    assert failure.new_value == "single sign-on: domain not allowed"
    assert "dan@" not in (failure.target_label or "")


def test_a_deactivated_account_cannot_sign_in(app: Flask, client: FlaskClient, provider: OpenIdProvider) -> None:
    make_user("eve@nhs.net", active=False)
    provider.add("eve", email="eve@nhs.net")
    answer = sso_sign_in(client, provider, "eve")
    assert answer.status_code == 403
    assert "This account has been deactivated" in page_text(answer)
    assert db.session.scalar(select(UserIdentity)) is None
    assert client.get("/account").status_code == 302


def test_the_roles_claim_gives_moderator_who_must_set_up_a_second_factor_and_loses_it_when_the_claim_does(
    tmp_path: Path, empty_database: Path, provider: OpenIdProvider
) -> None:
    roles = {"OIDC_ROLES_CLAIM": "roles", "OIDC_ROLE_VALUES": {"kb-moderators": "moderator", "kb-admins": "admin"}}
    for _app in sso_app(tmp_path, empty_database, provider, **roles):
        provider.add("fay", email="fay@nhs.net", roles=["staff", "kb-moderators"])
        client = _app.test_client()
        assert sso_sign_in(client, provider, "fay").status_code == 302
        fay = account("fay@nhs.net")
        assert fay is not None
        assert fay.role == "moderator"
        # Staff need a second factor, as after a password: held at setting it up.
        assert client.get("/").headers["Location"] == "/account/two-factor"
        provider.add("fay", email="fay@nhs.net", roles=["staff"])
        assert sso_sign_in(_app.test_client(), provider, "fay").status_code == 302
        demoted = account("fay@nhs.net")
        assert demoted is not None
        assert demoted.role == "member"
        change = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "user.role", AuditEvent.new_value == "member")
        )
        assert change is not None
        assert change.old_value == "moderator"


def test_staff_with_a_second_factor_go_on_to_it_after_the_provider(
    app: Flask, client: FlaskClient, provider: OpenIdProvider
) -> None:
    moderator = make_user("gil@nhs.net", role="moderator")
    provider.add("gil", email="gil@nhs.net")
    answer = sso_sign_in(client, provider, "gil", next_path="/themes")
    assert answer.headers["Location"] == "/login/verify"
    assert client.get("/account").status_code == 302
    token = csrf_token(client.get("/login/verify").get_data(as_text=True))
    assert moderator.totp_secret
    code = pyotp.TOTP(moderator.totp_secret).now()
    done = client.post("/login/verify", data={"csrf_token": token, "code": code})
    assert done.headers["Location"] == "/themes"
    assert "gil@nhs.net" in signed_in_as(client)


def test_a_bad_state_or_a_refusal_at_the_provider_shows_the_sign_in_page_with_a_message(
    app: Flask, client: FlaskClient, provider: OpenIdProvider
) -> None:
    provider.add("hal", email="hal@nhs.net")
    callback = provider.sign_in(start(client), "hal")
    forged = callback.replace("state=", "state=forged")
    answer = come_back(client, forged)
    assert answer.status_code == 400
    assert "Please sign in again" in page_text(answer)
    assert account("hal@nhs.net") is None
    # The provider's answer works in no other browser, and only once in this one.
    assert come_back(app.test_client(), callback).status_code == 400
    assert come_back(client, callback).status_code == 302
    assert come_back(client, callback).status_code == 400
    denied = client.get("/login/sso/callback?error=access_denied&state=x")
    assert denied.status_code == 400
    assert "Signing in was cancelled" in page_text(denied)
    assert client.get("/login/sso/callback").status_code == 400


def test_with_local_passwords_off_only_single_sign_on_signs_in(
    tmp_path: Path, empty_database: Path, provider: OpenIdProvider
) -> None:
    for _app in sso_app(tmp_path, empty_database, provider, LOCAL_PASSWORDS=False):
        make_user("ivy@nhs.net")
        client = _app.test_client()
        page = client.get("/login")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert 'type="password"' not in html
        assert "Forgotten your password" not in html
        assert "Sign in with NHS mail" in html
        # The button's post is answered with a redirect to the provider, which the page's policy must allow.
        assert f"form-action 'self' {provider.issuer};" in page.headers["Content-Security-Policy"]
        refused = client.post(
            "/login",
            data={"csrf_token": csrf_token(html), "email": "ivy@nhs.net", "password": "correct horse battery staple"},
        )
        assert refused.status_code == 403
        assert "Passwords are not used on this site" in page_text(refused)
        assert client.get("/account").status_code == 302
        for path in ("/account/reset", "/account/reset/anything", "/account/invite/anything"):
            assert client.get(path).status_code == 404, path
        provider.add("ivy", email="ivy@nhs.net")
        assert sso_sign_in(client, provider, "ivy").status_code == 302
        assert client.get("/account/password").status_code == 404


def test_a_provider_that_cannot_be_reached_gives_the_sign_in_page_with_a_message(
    tmp_path: Path, empty_database: Path, provider: OpenIdProvider
) -> None:
    closed = "http://127.0.0.1:9/.well-known/openid-configuration"
    for _app in sso_app(tmp_path, empty_database, provider, OIDC_DISCOVERY_URL=closed):
        client = _app.test_client()
        answer = client.post("/login/sso", data={"csrf_token": csrf_token(client.get("/login").get_data(as_text=True))})
        assert answer.status_code == 502
        assert "could not reach the sign-in service" in page_text(answer)


class _HeldDiscovery(BaseHTTPRequestHandler):
    """A discovery document on loopback, answered only once the sign-in page has answered (or after 3 s)."""

    page_answered: ClassVar[threading.Event] = threading.Event()
    asked_after_the_page: ClassVar[list[bool]] = []

    def do_GET(self) -> None:
        self.asked_after_the_page.append(self.page_answered.wait(3))
        port = self.server.server_address[1]
        document = {"issuer": f"http://127.0.0.1:{port}", "authorization_endpoint": f"http://localhost:{port}/auth"}
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_the_sign_in_page_never_waits_for_the_providers_discovery_document(
    tmp_path: Path, empty_database: Path, provider: OpenIdProvider
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HeldDiscovery)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    discovery = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    try:
        for _app in sso_app(tmp_path, empty_database, provider, OIDC_DISCOVERY_URL=discovery):
            client = _app.test_client()
            first = client.get("/login")
            _HeldDiscovery.page_answered.set()
            assert first.status_code == 200
            assert f"form-action 'self' http://127.0.0.1:{port};" in first.headers["Content-Security-Policy"]
            # Loaded in the background meanwhile: later pages allow the authorisation endpoint's origin too.
            for _ in range(100):
                policy = client.get("/login").headers["Content-Security-Policy"]
                if f"http://localhost:{port}" in policy:
                    break
                time.sleep(0.05)
            assert f"form-action 'self' http://127.0.0.1:{port} http://localhost:{port};" in policy
            assert _HeldDiscovery.asked_after_the_page == [True]
    finally:
        server.shutdown()
        server.server_close()


def test_with_local_passwords_off_an_invitation_asks_for_single_sign_on_not_a_password(
    tmp_path: Path, empty_database: Path, provider: OpenIdProvider, sent: list[Mail]
) -> None:
    for _app in sso_app(tmp_path, empty_database, provider, LOCAL_PASSWORDS=False):
        admin = make_user("jo@nhs.net", role="admin")
        client = login_as(_app.test_client(), admin)
        form = {"email": "kim@nhs.net", "display_name": "Kim", "organisation": "", "role": "member"}
        assert post_form(client, "/admin/users", form).status_code == 302
        [mail] = sent
        assert "Sign in with NHS mail" in mail.body
        assert "http://127.0.0.1:5000/login" in mail.body
        assert "/account/invite/" not in mail.body


def test_an_emergency_link_from_the_command_line_signs_an_admin_in_once_with_their_second_factor(
    tmp_path: Path, empty_database: Path, provider: OpenIdProvider
) -> None:
    for _app in sso_app(tmp_path, empty_database, provider, LOCAL_PASSWORDS=False):
        admin = make_user("lee@nhs.net", role="admin")
        make_user("max@nhs.net")
        refused = _app.test_cli_runner().invoke(args=["users", "emergency-link", "max@nhs.net"])
        assert refused.exit_code != 0
        assert "is not the address of an active admin" in refused.output
        printed = _app.test_cli_runner().invoke(args=["users", "emergency-link", "lee@nhs.net"])
        assert printed.exit_code == 0, printed.output
        path = urlsplit(printed.output.strip().splitlines()[-1]).path
        client = _app.test_client()
        assert client.get(path).status_code == 200
        answer = post_form(client, path, {})
        assert answer.headers["Location"] == "/login/verify"
        assert admin.totp_secret
        code = pyotp.TOTP(admin.totp_secret).now()
        done = post_form(client, "/login/verify", {"code": code})
        assert done.status_code == 302
        assert "lee@nhs.net" in signed_in_as(client)
        used = _app.test_client().get(path)
        assert used.status_code == 410
        assert "already been used" in page_text(used)


def test_an_emergency_link_is_spent_by_a_service_that_flushes_and_leaves_the_commit_to_its_caller(
    tmp_path: Path, empty_database: Path, provider: OpenIdProvider
) -> None:
    for _app in sso_app(tmp_path, empty_database, provider, LOCAL_PASSWORDS=False):
        admin = make_user("ned@nhs.net", role="admin")
        db.session.commit()
        token = urlsplit(sso.emergency_link("ned@nhs.net")).path.rsplit("/", 1)[1]
        before = admin.session_token
        assert sso.use_emergency_link(token).id == admin.id
        assert admin.session_token != before
        with pytest.raises(AccountError, match="already been used"):
            sso.use_emergency_link(token)
        db.session.rollback()
        assert sso.emergency_user(token).session_token == before
