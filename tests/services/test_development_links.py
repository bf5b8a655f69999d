"""Links in development: the address in mail follows the port `make run` serves on, and printed mail reads whole."""

from __future__ import annotations

import subprocess

from kb.config import PROJECT_ROOT, development_site_url
from kb.extensions import db
from kb.mail import Mail, queue_mail, send_pending
from kb.users.service import request_password_reset
from tests.accounts import make_user
from tests.conftest import make_app

LONG_LINK = "http://127.0.0.1:8123/account/reset/" + "a1B2c3D4e5" * 12


def test_site_url_follows_the_port_and_host_flask_run_serves_on():
    assert development_site_url({}) == "http://127.0.0.1:5000"
    assert development_site_url({"FLASK_RUN_PORT": "8123"}) == "http://127.0.0.1:8123"
    assert development_site_url({"FLASK_RUN_HOST": "localhost", "FLASK_RUN_PORT": "8123"}) == "http://localhost:8123"
    assert development_site_url({"FLASK_RUN_HOST": "0.0.0.0", "FLASK_RUN_PORT": "8123"}) == "http://127.0.0.1:8123"
    assert development_site_url({"FLASK_RUN_HOST": "::1", "FLASK_RUN_PORT": "8123"}) == "http://[::1]:8123"


def test_make_run_hands_its_port_and_host_to_flask_run():
    listing = subprocess.run(
        ["make", "-pn", "run", "PORT=8123", "HOST=localhost"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert "FLASK_RUN_PORT := 8123" in listing
    assert "FLASK_RUN_HOST := localhost" in listing
    assert "flask run --port" not in listing, "flask run takes the port from FLASK_RUN_PORT, as SITE_URL does"


def test_a_reset_mail_links_to_the_port_the_site_runs_on(tmp_path, seeded_database, monkeypatch, capsys):
    monkeypatch.setenv("FLASK_RUN_PORT", "8123")
    application = make_app(tmp_path, seeded_database, MAIL_BACKEND="console")
    assert application.config["SITE_URL"] == "http://127.0.0.1:8123"
    with application.app_context():
        make_user("reader@example.org", name="Rhian Reader")
        db.session.commit()
        with application.test_request_context("/account/reset", method="POST"):
            request_password_reset("reader@example.org")
            db.session.commit()
        send_pending()
    printed = capsys.readouterr().out
    assert "http://127.0.0.1:8123/account/reset/" in printed
    assert ":5000" not in printed


def test_the_console_backend_prints_the_text_decoded_with_links_whole(tmp_path, empty_database, capsys):
    application = make_app(tmp_path, empty_database, MAIL_BACKEND="console")
    body = f"Hello Siân,\n\nChoose a password – the link works once:\n\n{LONG_LINK}\n\n– kb\n"
    with application.app_context():
        queue_mail(Mail(to="sian@example.org", subject="Croeso – welcome", body=body))
        db.session.commit()
    printed = capsys.readouterr().out
    assert f"\n{LONG_LINK}\n" in printed, "the link is on one line, whole"
    assert "Hello Siân," in printed
    assert "Choose a password – the link works once:" in printed
    assert "Subject: Croeso – welcome" in printed
    assert "=\n" not in printed, "not quoted-printable"
    assert "=E2=80=93" not in printed
    assert "utf-8?" not in printed.lower(), "headers decoded"
    assert "Content-Transfer-Encoding" not in printed
