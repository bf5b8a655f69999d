"""The `users create-admin` and `users demo` commands."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from kb.extensions import db
from kb.users.demo import DEMO_ACCOUNTS
from kb.users.models import User
from tests.accounts import csrf_token, sign_in
from tests.conftest import make_app

LINK = re.compile(r"^(https?://\S+/account/invite/\S+)$", re.M)
ADMIN_PASSWORD = "the first admin's long passphrase"


def test_create_admin_prints_a_one_time_link_that_sets_the_password(seeded_app: Flask) -> None:
    seeded_app.config["SITE_URL"] = "https://kb.example.org"
    result = seeded_app.test_cli_runner().invoke(args=["users", "create-admin", "Boss@Example.org", "--name", "Boss"])
    assert result.exit_code == 0, result.output
    (link,) = LINK.findall(result.output)
    assert link.startswith("https://kb.example.org/account/invite/")
    path = link.removeprefix("https://kb.example.org")

    client = seeded_app.test_client()
    token = csrf_token(client.get(path).get_data(as_text=True))
    short = client.post(path, data={"csrf_token": token, "password": "only 14 chars!", "confirm": "only 14 chars!"})
    assert "at least 15 characters" in short.get_data(as_text=True)
    done = client.post(path, data={"csrf_token": token, "password": ADMIN_PASSWORD, "confirm": ADMIN_PASSWORD})
    assert done.status_code == 302
    assert client.get(path).status_code == 410
    # An admin must set up a second factor before anything else.
    sign_in(client, "boss@example.org", ADMIN_PASSWORD)
    assert client.get("/admin/users").headers["Location"] == "/account/two-factor"


def test_create_admin_again_gives_a_fresh_link_until_the_password_is_set(seeded_app: Flask) -> None:
    runner = seeded_app.test_cli_runner()
    first = runner.invoke(args=["users", "create-admin", "boss@example.org"])
    second = runner.invoke(args=["users", "create-admin", "BOSS@example.org"])
    assert second.exit_code == 0
    assert LINK.findall(first.output)
    assert LINK.findall(second.output)
    assert len(list(db.session.scalars(select(User)))) == 1


def test_create_admin_refuses_an_existing_account(seeded_app: Flask) -> None:
    runner = seeded_app.test_cli_runner()
    runner.invoke(args=["users", "create-admin", "boss@example.org"])
    user = db.session.scalar(select(User))
    user.password_hash = "scrypt:set"
    db.session.commit()
    result = runner.invoke(args=["users", "create-admin", "boss@example.org"])
    assert result.exit_code == 1
    assert "already has an account" in result.output


def test_demo_command_needs_demo_mode(seeded_app: Flask, tmp_path: Path, seeded_database: Path) -> None:
    refused = seeded_app.test_cli_runner().invoke(args=["users", "demo"])
    assert refused.exit_code == 1
    assert "KB_DEMO=1" in refused.output
    demo = make_app(tmp_path, seeded_database, DEMO_MODE=True)
    with demo.app_context():
        runner = demo.test_cli_runner()
        assert runner.invoke(args=["users", "demo"]).exit_code == 0
        again = runner.invoke(args=["users", "demo"])
        assert again.exit_code == 0
        assert len(list(db.session.scalars(select(User)))) == len(DEMO_ACCOUNTS)
        db.session.remove()
