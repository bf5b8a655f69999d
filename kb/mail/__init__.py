"""Outgoing mail: written to a durable outbox with the work, sent after the commit, retried until it goes.

Services call `queue_mail`: the mail is a row in the same transaction as their work, so
nothing is sent for work that is rolled back and nothing is lost for work that is
committed. After the commit it is sent at once; mail that could not be (the mail server
down, the worker killed) is sent by `flask --app kb mail send-pending` from cron, and after
later commits. The backend is `smtp` (a real server: host, port, TLS and credentials from
the settings) or `console` (the message is printed, for development).

- `messages`: `Mail` and the RFC 5322 message; `delivery`: `transmit`, the one place a
  message leaves kb;
- `models`: the outbox table; `outbox`: queueing, claiming, sending, retrying, purging;
  `after_commit`: sending a transaction's mail once it commits;
  `retry`: the waits and limits; `cli`: `flask --app kb mail ...`.
"""

from __future__ import annotations

from flask import Flask

from kb.mail.after_commit import send_after_response
from kb.mail.delivery import MailNotSentError, transmit
from kb.mail.messages import Mail, build_message, site_link
from kb.mail.outbox import queue_mail, queue_mails, send_pending, unsent

__all__ = [
    "Mail",
    "MailNotSentError",
    "build_message",
    "init_app",
    "queue_mail",
    "queue_mails",
    "send_after_response",
    "send_pending",
    "site_link",
    "transmit",
    "unsent",
]


def init_app(app: Flask) -> None:
    """Send each transaction's queued mail after it commits; forget it on rollback."""
    from kb.mail import after_commit

    if app.extensions.get("kb_mail"):
        return
    app.extensions["kb_mail"] = True
    after_commit.install_hooks(app)
