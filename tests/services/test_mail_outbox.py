"""The durable outbox with a real SMTP server: mail survives a down server, a killed sender and a race.

A "down" server is a loopback port nothing listens on; a "hanging" one accepts
connections and never greets, so a sender waits inside the send; a "slow" one takes a
while over each message. "Later" is the `now` that `send_pending` takes, never a sleep.
A claim takes no more rows than its limit on either database, and a request sends mail
for no longer than `MAIL_REQUEST_SECONDS`, its own first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kb.config import PROJECT_ROOT
from kb.dates import utcnow
from kb.extensions import db
from kb.mail import Mail, queue_mail, retry, send_pending
from kb.mail.after_commit import RETRY_AFTER_COMMIT
from kb.mail.models import OutboxMail
from kb.mail.outbox import claim
from tests.accounts import make_user
from tests.conftest import ENVIRONMENT_SETTINGS, make_app
from tests.serving import SiteSession, gunicorn, wait_until
from tests.smtp import free_port, mail_settings, smtp_server

LATER = retry.FIRST_RETRY + dt.timedelta(seconds=5)
"""Long enough after a first failure for the mail to be due again."""


def rows() -> list[OutboxMail]:
    """Every outbox row, as the database has it now (a fresh transaction)."""
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def note(subject: str, to: str = "reader@example.org") -> Mail:
    return Mail(to=to, subject=subject, body=f"About {subject}.\n", headers=(("List-Unsubscribe", "<https://x/u>"),))


@contextmanager
def hanging_server() -> Iterator[int]:
    """A port that accepts connections and never says anything: a sender blocks in the send."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_mail_queued_while_the_server_is_down_is_kept_and_later_delivered_once(tmp_path, empty_database):
    application = make_app(tmp_path, empty_database, **mail_settings(free_port()))
    with application.app_context():
        queue_mail(note("First news"))
        db.session.commit()  # The send after the commit fails: the row stays, with why and when to try again.

        (row,) = rows()
        assert (row.sent_at, row.claimed_at, row.attempts) == (None, None, 1)
        assert "ConnectionRefusedError" in (row.last_error or "")
        assert row.next_attempt_at > row.queued_at

        refused = application.test_cli_runner().invoke(args=["mail", "send-pending", "--now"])
        assert refused.exit_code == 1
        assert "could not be sent" in refused.output
        assert rows()[0].attempts == 2

        with smtp_server() as (mailbox, port):
            application.config["SMTP_PORT"] = port
            assert send_pending().sent == 0, "not due yet: the retry waits"
            assert mailbox.messages == []
            assert send_pending(now=utcnow() + 2 * LATER).sent == 1
            assert send_pending(now=utcnow() + dt.timedelta(days=1)).sent == 0
            cli = application.test_cli_runner().invoke(args=["mail", "send-pending", "--now"])
            assert cli.exit_code == 0
            assert "Sent 0 mails." in cli.output

        (message,) = mailbox.messages
        (row,) = rows()
        assert message["Subject"] == "First news"
        assert message["To"] == "reader@example.org"
        assert message["List-Unsubscribe"] == "<https://x/u>"
        assert message["Message-ID"] == row.message_id, "a retry keeps the Message-ID it was queued with"
        assert row.sent_at is not None
        assert row.attempts == 3
        assert (row.body, row.headers) == ("", []), "a sent mail's links are not kept"


def test_rolled_back_work_leaves_no_mail_and_committed_work_sends_its_own_at_once(tmp_path, empty_database):
    with smtp_server() as (mailbox, port):
        application = make_app(tmp_path, empty_database, **mail_settings(port))
        with application.app_context():
            queue_mail(note("Rolled back"))
            db.session.rollback()
            queue_mail(note("Kept"))
            savepoint = db.session.begin_nested()
            queue_mail(note("In a savepoint rolled back"))
            savepoint.rollback()
            db.session.commit()

            assert [(row.subject, row.sent_at is not None) for row in rows()] == [("Kept", True)]
            assert [message["Subject"] for message in mailbox.messages] == ["Kept"]
            assert send_pending(now=utcnow() + dt.timedelta(days=1)).sent == 0


def test_mail_left_by_a_failure_goes_out_after_a_later_commit_once_it_is_due(tmp_path, empty_database):
    application = make_app(tmp_path, empty_database, **mail_settings(free_port()))
    with application.app_context():
        queue_mail(note("Left behind"))
        db.session.commit()
        with smtp_server() as (mailbox, port):
            application.config["SMTP_PORT"] = port
            # As if its wait had passed: the retry is due now.
            db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))
            queue_mail(note("Fresh"))
            db.session.commit()
            assert sorted(message["Subject"] for message in mailbox.messages) == ["Fresh", "Left behind"]
        assert all(row.sent_at is not None for row in rows())


def test_a_worker_killed_while_sending_leaves_its_claim_which_is_retaken_after_its_time(tmp_path, seeded_database):
    site = make_app(tmp_path, seeded_database)
    with site.app_context():
        make_user("forgetful@example.org")
        uri = site.config["SQLALCHEMY_DATABASE_URI"]
    with hanging_server() as hanging:
        settings = {name: str(value) for name, value in mail_settings(hanging).items()}
        with gunicorn(tmp_path / "site", uri, SEARCH_INDEX_DIR=str(tmp_path / "search_index"), **settings) as server:
            visitor = SiteSession(server.base)
            token = visitor.form_token("/account/reset")
            workers = server.workers()
            posting = threading.Thread(target=_post_ignoring_errors, args=(visitor, token), daemon=True)
            posting.start()
            with site.app_context():
                wait_until(lambda: any(row.claimed_at for row in rows()), "the worker to claim the reset mail")
                for pid in workers:
                    os.kill(pid, signal.SIGKILL)
            posting.join(timeout=60)

    with site.app_context():
        (row,) = rows()
        assert row.sent_at is None
        assert row.attempts == 1
        assert int((row.claimed_by or "").split(":")[1]) in workers
        with smtp_server() as (mailbox, port):
            site.config.update(mail_settings(port))
            assert send_pending().sent == 0, "a fresh claim is left to its sender"
            assert send_pending(now=utcnow() + retry.CLAIM_TIMEOUT - dt.timedelta(minutes=1)).sent == 0
            assert send_pending(now=utcnow() + retry.CLAIM_TIMEOUT + dt.timedelta(minutes=1)).sent == 1
            assert send_pending(now=utcnow() + dt.timedelta(days=1)).sent == 0
        (message,) = mailbox.messages
        assert message["To"] == "forgetful@example.org"
        assert any("/account/reset/" in link for link in mailbox.links_in(message))
        assert rows()[0].attempts == 2


def _post_ignoring_errors(visitor: SiteSession, token: str) -> None:
    with contextlib.suppress(OSError):  # The worker answering it is killed.
        visitor.post("/account/reset", {"email": "forgetful@example.org"}, token=token)


def _send_pending_process(uri: str, port: int, folder: Path) -> subprocess.Popen[str]:
    env = {name: value for name, value in os.environ.items() if name not in ENVIRONMENT_SETTINGS}
    env.update({name: str(value) for name, value in mail_settings(port).items()})
    env.update(
        DATABASE_URL=uri,
        SECRET_KEY="outbox-test-secret",
        KB_AUTO_MIGRATE="0",
        SEARCH_INDEX_DIR=str(folder / "search_index"),
        SEARCH_REBUILD_AT_START="off",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    command = [sys.executable, "-m", "flask", "--app", "kb", "mail", "send-pending", "--now"]
    return subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_send_pending_runs_at_once_never_send_a_mail_twice(tmp_path, empty_database):
    count = 40
    application: Flask = make_app(tmp_path, empty_database, **mail_settings(free_port()))
    with application.app_context():
        for number in range(count):
            queue_mail(note(f"Mail {number}", to=f"reader{number}@example.org"))
        db.session.commit()
        assert all(row.sent_at is None for row in rows())
        uri = application.config["SQLALCHEMY_DATABASE_URI"]

        with smtp_server() as (mailbox, port):
            runs = [_send_pending_process(uri, port, tmp_path) for _ in range(2)]
            outputs = [run.communicate(timeout=120) for run in runs]
            assert [run.returncode for run in runs] == [0, 0], outputs

        sent_by = [{line.split()[1] for line in out.splitlines() if line.startswith("sent ")} for out, _ in outputs]
        assert not sent_by[0] & sent_by[1], "no row was sent by both runs"
        assert len(sent_by[0] | sent_by[1]) == count
        message_ids = [message["Message-ID"] for message in mailbox.messages]
        assert len(message_ids) == count
        assert set(message_ids) == {row.message_id for row in rows()}
        # The commit tried the first mail and left the rest untried; each run's try counts once.
        assert [row.attempts for row in rows()] == [2] + [1] * (count - 1)
        assert all(row.sent_at is not None for row in rows())


def test_a_request_whose_mail_server_is_down_tries_one_mail_and_leaves_the_rest_untried(tmp_path, empty_database):
    application = make_app(tmp_path, empty_database, **mail_settings(free_port()))
    with application.app_context():
        for subject in ("One", "Two", "Three"):
            queue_mail(note(subject))
        db.session.commit()  # One refused connection is enough to know: the others are not tried.

        assert [(row.subject, row.attempts, row.claimed_at) for row in rows()] == [
            ("One", 1, None),
            ("Two", 0, None),
            ("Three", 0, None),
        ]
        assert [row.last_error is None for row in rows()] == [False, True, True]
        with smtp_server() as (mailbox, port):
            application.config["SMTP_PORT"] = port
            assert send_pending(wait=False).sent == 3
        assert sorted(message["Subject"] for message in mailbox.messages) == ["One", "Three", "Two"]


def test_mail_is_given_up_after_its_tries_and_old_rows_are_purged(tmp_path, empty_database):
    application = make_app(tmp_path, empty_database, **mail_settings(free_port()))
    with application.app_context():
        queue_mail(note("Never delivered"))
        db.session.commit()
        start = utcnow()
        moment = start
        given_up = 0
        for _ in range(retry.MAX_ATTEMPTS + 2):
            moment += retry.LONGEST_WAIT + dt.timedelta(minutes=1)
            given_up += send_pending(now=moment).given_up
        (row,) = rows()
        assert (row.attempts, given_up) == (retry.MAX_ATTEMPTS, 1)
        assert (row.subject, row.recipient) == ("Never delivered", "reader@example.org")
        assert "ConnectionRefusedError" in (row.last_error or "")
        assert (row.body, row.headers) == ("", []), "mail given up on keeps no links that may still work"

        with smtp_server() as (mailbox, port):
            application.config["SMTP_PORT"] = port
            queue_mail(note("Delivered"))
            db.session.commit()
            assert send_pending(now=moment, wait=False).sent == 0, "mail given up on is not tried again"
        assert [message["Subject"] for message in mailbox.messages] == ["Delivered"]

        report = send_pending(now=utcnow() + retry.KEEP_SENT + dt.timedelta(days=1))
        assert report.purged == 1
        assert [row.subject for row in rows()] == ["Never delivered"]
        assert send_pending(now=start + retry.KEEP_GIVEN_UP + dt.timedelta(days=1)).purged == 1
        assert rows() == []


def test_the_console_backend_prints_the_mail_and_marks_it_sent(tmp_path, empty_database, capsys):
    application = make_app(tmp_path, empty_database, MAIL_BACKEND="console")
    with application.app_context():
        queue_mail(note("Printed"))
        db.session.commit()
        (row,) = rows()
        assert row.sent_at is not None
    printed = capsys.readouterr().out
    assert "Subject: Printed" in printed
    assert f"Message-ID: {row.message_id}" in printed


# --- Bounded claims and a request's time for sending ------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def any_empty_database(request: pytest.FixtureRequest) -> Path:
    """The empty template of each database, whichever the pass runs on (PostgreSQL skipped where not installed)."""
    return request.getfixturevalue(f"{request.param}_empty_database")


def add_backlog(count: int) -> list[int]:
    """`count` due mails left in the outbox by earlier failures, as rows only (nothing is sent on commit)."""
    now = utcnow()
    backlog = [
        OutboxMail(
            recipient=f"waiting{number}@example.org",
            subject=f"Waiting {number}",
            body="Left by an outage.\n",
            headers=[],
            message_id=f"<waiting{number}@kb.test>",
            queued_at=now,
            next_attempt_at=now - dt.timedelta(seconds=1),
            attempts=0,
        )
        for number in range(count)
    ]
    db.session.add_all(backlog)
    db.session.commit()
    return [row.id for row in backlog]


def test_a_claim_takes_no_more_rows_than_its_limit(tmp_path, any_empty_database):
    application = make_app(tmp_path, any_empty_database, MAIL_BACKEND="console")
    with application.app_context():
        add_backlog(40)
        with Session(db.engine) as session:
            first = claim(session, utcnow(), limit=5)
            second = claim(session, utcnow(), limit=5)
        assert [row.id for row in first] == [row.id for row in rows()[:5]]
        assert [row.id for row in second] == [row.id for row in rows()[5:10]], "the next claim takes the next rows"
        unclaimed = rows()[10:]
        assert len(unclaimed) == 30
        assert all((row.claimed_at, row.attempts) == (None, 0) for row in unclaimed), "the other mails are untouched"


def test_a_request_sends_its_own_mail_first_and_starts_none_once_its_time_is_spent(tmp_path, empty_database):
    # Each message takes the server 0.2 s, twice the request's budget: the first mail spends it.
    with smtp_server(delay=0.2) as (mailbox, port):
        application = make_app(tmp_path, empty_database, MAIL_REQUEST_SECONDS=0.1, **mail_settings(port))
        with application.app_context():
            backlog = add_backlog(6)
            with application.test_request_context("/account/reset", method="POST"):
                own = [queue_mail(note(subject)) for subject in ("Own 1", "Own 2", "Own 3")]
                db.session.commit()
            assert [message["Subject"] for message in mailbox.messages] == ["Own 1"]
            left = [row for row in rows() if row.sent_at is None]
            assert [row.id for row in left] == sorted(backlog + own[1:])
            assert all((row.claimed_at, row.attempts) == (None, 0) for row in left), "left unclaimed and untried"

            assert send_pending().sent == 8
            assert len({message["Message-ID"] for message in mailbox.messages}) == len(mailbox.messages) == 9

            # Outside a request (cron, the digest, reminders) there is no such budget.
            queue_mail(note("From a command 1"))
            queue_mail(note("From a command 2"))
            db.session.commit()
            assert [message["Subject"] for message in mailbox.messages[9:]] == ["From a command 1", "From a command 2"]


def test_a_request_with_time_to_spare_sends_a_few_due_mails_after_its_own(tmp_path, empty_database):
    with smtp_server() as (mailbox, port):
        application = make_app(tmp_path, empty_database, MAIL_REQUEST_SECONDS=60, **mail_settings(port))
        with application.app_context():
            backlog = add_backlog(40)
            with application.test_request_context("/account/reset", method="POST"):
                queue_mail(note("Own"))
                db.session.commit()
            subjects = [message["Subject"] for message in mailbox.messages]
            assert subjects == ["Own"] + [f"Waiting {number}" for number in range(RETRY_AFTER_COMMIT)]
            left = [row for row in rows() if row.sent_at is None]
            assert [row.id for row in left] == backlog[RETRY_AFTER_COMMIT:]
            assert all(row.claimed_at is None for row in left), "no claim is left behind for other hosts to wait out"


def test_after_a_mail_outage_requests_claim_nothing_more_and_every_mail_goes_once(tmp_path, empty_database):
    application = make_app(tmp_path, empty_database, **mail_settings(free_port()))
    with application.app_context():
        backlog = add_backlog(40)
        with application.test_request_context("/account/reset", method="POST"):
            queue_mail(note("During the outage"))
            db.session.commit()  # Its own mail fails: nothing else is claimed or tried.
        assert all(row.claimed_at is None and row.sent_at is None for row in rows())
        assert [row.attempts for row in rows()] == [0] * len(backlog) + [1]

        with smtp_server() as (mailbox, port):
            application.config["SMTP_PORT"] = port
            with application.test_request_context("/account/reset", method="POST"):
                queue_mail(note("After the outage"))
                db.session.commit()
            assert len(mailbox.messages) == 1 + RETRY_AFTER_COMMIT
            assert all(row.claimed_at is None for row in rows() if row.sent_at is None)
            assert send_pending(now=utcnow() + LATER).sent == len(backlog) + 2 - (1 + RETRY_AFTER_COMMIT)
        message_ids = [message["Message-ID"] for message in mailbox.messages]
        assert len(message_ids) == len(set(message_ids)) == len(backlog) + 2, "every mail once"
        assert all(row.sent_at is not None for row in rows())
