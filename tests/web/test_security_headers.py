"""Security headers on every response, error pages included; settings that refuse to start."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb import create_app
from kb.config import ConfigurationError
from tests.accounts import login_as, make_user
from tests.conftest import make_app


def _assert_headers(response) -> None:
    policy = response.headers["Content-Security-Policy"]
    for directive in ("script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/", "/lessons", "/login", "/no-such-page", "/lessons/no-such-lesson"])
def test_every_page_has_the_headers(client: FlaskClient, path: str) -> None:
    _assert_headers(client.get(path))


def test_a_server_error_page_has_the_headers(seeded_app: Flask) -> None:
    @seeded_app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    seeded_app.testing = False
    seeded_app.config["PROPAGATE_EXCEPTIONS"] = False
    response = seeded_app.test_client().get("/boom")
    assert response.status_code == 500
    _assert_headers(response)


def test_a_refused_form_has_the_headers(client: FlaskClient) -> None:
    response = client.post("/login", data={})
    assert response.status_code == 400
    _assert_headers(response)


def test_no_inline_script_on_any_page(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert "<script>" not in html
    assert " onclick=" not in html


def test_hsts_only_in_production(tmp_path: Path, seeded_database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dev").mkdir()
    (tmp_path / "prod").mkdir()
    development = make_app(tmp_path / "dev", seeded_database)
    assert "Strict-Transport-Security" not in development.test_client().get("/").headers
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    production = make_app(
        tmp_path / "prod", seeded_database, KB_ENV="production", SITE_URL="https://kb.example.org", MAIL_BACKEND="smtp"
    )
    response = production.test_client().get("/")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_cookies_are_secure_over_https(tmp_path: Path, seeded_database: Path) -> None:
    application = make_app(tmp_path, seeded_database, SITE_URL="https://kb.example.org")
    assert application.config["SESSION_COOKIE_SECURE"] is True
    assert application.config["REMEMBER_COOKIE_SECURE"] is True
    assert application.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert application.config["SESSION_COOKIE_HTTPONLY"] is True


def test_signed_in_pages_are_not_cached(seeded_app: Flask) -> None:
    client = login_as(seeded_app.test_client(), make_user("member@example.org"))
    assert client.get("/").headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"KB_ENV": "production", "DEMO_MODE": True}, "KB_DEMO cannot be on"),
        ({"KB_ENV": "production", "SITE_URL": "http://kb.example.org"}, "must start with https"),
        ({"KB_ENV": "production", "SITE_URL": "https://kb.example.org"}, "MAIL_BACKEND must be 'smtp'"),
        ({"KB_ENV": "staging"}, "KB_ENV must be"),
    ],
)
def test_unsafe_production_settings_refuse_to_start(tmp_path: Path, settings: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_app({"INSTANCE_PATH": tmp_path, "SECRET_KEY": "x", "AUTO_MIGRATE": False, **settings})


def test_production_needs_a_shared_secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = {"KB_ENV": "production", "SITE_URL": "https://kb.example.org", "MAIL_BACKEND": "smtp"}
    with pytest.raises(ConfigurationError, match="SECRET_KEY must be set"):
        create_app({"INSTANCE_PATH": tmp_path, "AUTO_MIGRATE": False, **settings})


def test_demo_mode_can_be_turned_on_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_DEMO", "1")
    monkeypatch.setenv("KB_ENV", "production")
    monkeypatch.setenv("SITE_URL", "https://kb.example.org")
    monkeypatch.setenv("SMTP_HOST", "mail.example.org")
    with pytest.raises(ConfigurationError, match="KB_DEMO"):
        create_app({"INSTANCE_PATH": tmp_path, "SECRET_KEY": "x", "AUTO_MIGRATE": False})
