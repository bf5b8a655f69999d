"""Behind a proxy (kb.wsgi, KB_PROXY_HOPS): per-address limits count each client, and only when a proxy is declared."""

from __future__ import annotations

import pytest
from flask import Flask

from kb.extensions import db
from kb.health import UNDECLARED_PROXY_WARNING
from kb.wsgi import production_app, proxy_hops
from tests.accounts import csrf_token
from tests.conftest import IsolatedClient, make_app

WRONG = "wrong password here"
PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def app_behind_proxy(tmp_path, seeded_database, monkeypatch, hops: str) -> Flask:
    template = make_app(tmp_path / "template", seeded_database, LOGIN_LIMIT_PER_ADDRESS="2 per minute")
    monkeypatch.setenv("KB_PROXY_HOPS", hops)
    application = production_app(dict(template.config, INSTANCE_PATH=template.instance_path))
    application.test_client_class = IsolatedClient
    return application


def attempts(application: Flask, clients: list[str]) -> list[int]:
    """One failed sign-in from each client address, all arriving from the same proxy."""
    codes = []
    with application.app_context():
        for address in clients:
            client = application.test_client()
            client.environ_base.update(PROXY)
            forwarded = {"X-Forwarded-For": address}
            token = csrf_token(client.get("/login", headers=forwarded).get_data(as_text=True))
            form = {"csrf_token": token, "email": "nobody@example.org", "password": WRONG}
            codes.append(client.post("/login", data=form, headers=forwarded).status_code)
        db.session.remove()
    return codes


def test_with_one_proxy_declared_each_client_has_its_own_allowance(tmp_path, seeded_database, monkeypatch):
    application = app_behind_proxy(tmp_path, seeded_database, monkeypatch, "1")
    assert attempts(application, ["203.0.113.5", "203.0.113.5", "198.51.100.7", "203.0.113.5"]) == [401, 401, 401, 429]


def test_without_a_proxy_declared_the_header_is_not_believed(tmp_path, seeded_database, monkeypatch):
    application = app_behind_proxy(tmp_path, seeded_database, monkeypatch, "0")
    assert attempts(application, ["203.0.113.5", "198.51.100.7", "192.0.2.9"]) == [401, 401, 429]


@pytest.mark.parametrize("value", ["-1", "one", "11", "1.5"])
def test_a_wrong_number_of_hops_is_refused_naming_the_setting(value):
    with pytest.raises(ValueError, match="KB_PROXY_HOPS"):
        proxy_hops(value)


def test_a_forwarded_request_without_a_proxy_declared_is_warned_of_in_the_log_and_readyz(
    tmp_path, seeded_database, monkeypatch, caplog
):
    application = app_behind_proxy(tmp_path, seeded_database, monkeypatch, "0")
    client = application.test_client()
    assert "KB_PROXY_HOPS" not in str(client.get("/readyz").get_json().get("warnings"))
    with caplog.at_level("WARNING", logger="kb.health"):
        client.get("/", headers={"X-Forwarded-For": "203.0.113.5"})
        client.get("/", headers={"X-Forwarded-For": "203.0.113.6"})
    assert [record.message for record in caplog.records].count(UNDECLARED_PROXY_WARNING) == 1
    assert UNDECLARED_PROXY_WARNING in client.get("/readyz").get_json()["warnings"]


def test_no_warning_when_the_proxy_is_declared(tmp_path, seeded_database, monkeypatch):
    application = app_behind_proxy(tmp_path, seeded_database, monkeypatch, "1")
    client = application.test_client()
    client.get("/", headers={"X-Forwarded-For": "203.0.113.5"})
    assert UNDECLARED_PROXY_WARNING not in client.get("/readyz").get_json()["warnings"]
