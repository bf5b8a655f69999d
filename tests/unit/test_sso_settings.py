"""Single sign-on settings: domain and role lists read from the environment, and combinations refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import ConfigurationError, load_settings, parse_pairs

PROVIDER = {
    "OIDC_DISCOVERY_URL": "https://login.example.org/tenant/v2.0/.well-known/openid-configuration",
    "OIDC_CLIENT_ID": "kb",
    "OIDC_CLIENT_SECRET": "secret",
    "OIDC_DOMAINS": {"nhs.net": "NHS England"},
}


def test_domains_and_roles_are_read_as_name_value_pairs() -> None:
    assert parse_pairs(" NHS.net = NHS England ; example-trust.nhs.uk=Example Trust;", "OIDC_DOMAINS") == {
        "nhs.net": "NHS England",
        "example-trust.nhs.uk": "Example Trust",
    }
    assert parse_pairs("", "OIDC_DOMAINS") == {}
    with pytest.raises(ConfigurationError, match=r"OIDC_DOMAINS: 'nhs\.net' is not of the form name=value"):
        parse_pairs("nhs.net", "OIDC_DOMAINS")


def test_the_environment_sets_single_sign_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OIDC_DISCOVERY_URL", PROVIDER["OIDC_DISCOVERY_URL"])
    monkeypatch.setenv("OIDC_CLIENT_ID", "kb")
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "from the environment")
    monkeypatch.setenv("OIDC_DOMAINS", "nhs.net=NHS England")
    monkeypatch.setenv("OIDC_ROLE_VALUES", "kb-admins=admin")
    monkeypatch.setenv("LOCAL_PASSWORDS", "off")
    settings = load_settings(tmp_path, {"SECRET_KEY": "x"})
    assert settings["OIDC_DOMAINS"] == {"nhs.net": "NHS England"}
    assert settings["OIDC_ROLE_VALUES"] == {"kb-admins": "admin"}
    assert settings["LOCAL_PASSWORDS"] is False


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"LOCAL_PASSWORDS": False}, "LOCAL_PASSWORDS cannot be off without single sign-on"),
        ({**PROVIDER, "OIDC_DISCOVERY_URL": "http://login.example.org/.well-known/openid-configuration"}, "https://"),
        ({**PROVIDER, "OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_SECRET must be set"),
        ({**PROVIDER, "OIDC_DOMAINS": {}}, "OIDC_DOMAINS must be set"),
        ({**PROVIDER, "OIDC_ROLE_VALUES": {"kb-bosses": "owner"}}, "owner is not a role"),
    ],
)
def test_settings_that_cannot_work_are_refused_at_start(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings(tmp_path, {"SECRET_KEY": "x", **overrides})


def test_plain_http_is_allowed_only_on_loopback_and_never_in_production(tmp_path: Path) -> None:
    loopback = {**PROVIDER, "OIDC_DISCOVERY_URL": "http://127.0.0.1:8080/.well-known/openid-configuration"}
    assert load_settings(tmp_path, {"SECRET_KEY": "x", **loopback})["OIDC_DISCOVERY_URL"].startswith("http://127.")
    production = {"KB_ENV": "production", "SITE_URL": "https://kb.example.org", "MAIL_BACKEND": "smtp"}
    with pytest.raises(ConfigurationError, match="when KB_ENV is 'production'"):
        load_settings(tmp_path, {"SECRET_KEY": "x", **production, **loopback})


@pytest.mark.parametrize(
    "host", ["127.evil.com", "127.0.0.1.evil.com", "localhost.evil.com", "10.0.0.1", "[::2]", "login.example.org"]
)
def test_plain_http_to_a_name_that_only_looks_like_loopback_is_refused(tmp_path: Path, host: str) -> None:
    remote = {**PROVIDER, "OIDC_DISCOVERY_URL": f"http://{host}/.well-known/openid-configuration"}
    with pytest.raises(ConfigurationError, match="must start with https://"):
        load_settings(tmp_path, {"SECRET_KEY": "x", **remote})


@pytest.mark.parametrize("host", ["127.0.0.1:9000", "127.5.6.7", "localhost:8080", "[::1]:8080"])
def test_plain_http_on_loopback_addresses_is_allowed_outside_production(tmp_path: Path, host: str) -> None:
    loopback = {**PROVIDER, "OIDC_DISCOVERY_URL": f"http://{host}/.well-known/openid-configuration"}
    assert (
        load_settings(tmp_path, {"SECRET_KEY": "x", **loopback})["OIDC_DISCOVERY_URL"] == loopback["OIDC_DISCOVERY_URL"]
    )
