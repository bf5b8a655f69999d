"""Outgoing mail: queued during a request, sent only after the database commit.

Services call `queue_mail`; nothing is sent for work that is rolled back. The backend is
`smtp` (a real server: host, port, TLS and credentials from the settings) or `console`
(the message is printed, for development).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from kb.extensions import db

log = logging.getLogger(__name__)
_OUTBOX = "kb_outbox"


@dataclass(frozen=True)
class Mail:
    """One plain-text message to one person, with any extra headers (e.g. `List-Unsubscribe`)."""

    to: str
    subject: str
    body: str
    headers: tuple[tuple[str, str], ...] = ()


def site_link(path: str) -> str:
    """An absolute link to `path` on the configured `SITE_URL`, never the request's Host header."""
    return f"{current_app.config['SITE_URL']}{path}"


def queue_mail(mail: Mail) -> None:
    """Send `mail` once the current database transaction commits; drop it on rollback."""
    db.session.info.setdefault(_OUTBOX, []).append(mail)


def build_message(mail: Mail, sender: str) -> EmailMessage:
    """The RFC 5322 message for `mail`."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="kb.local")
    for name, value in mail.headers:
        message[name] = value
    message.set_content(mail.body)
    return message


def _smtp_send(message: EmailMessage, config: dict[str, Any]) -> None:
    host, port, tls, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TLS"], config["SMTP_TIMEOUT"]
    context = ssl.create_default_context(cafile=config.get("SMTP_CA_FILE") or None)
    smtp_class = smtplib.SMTP_SSL if tls == "ssl" else smtplib.SMTP
    kwargs: dict[str, Any] = {"context": context} if tls == "ssl" else {}
    with smtp_class(host, port, timeout=timeout, **kwargs) as smtp:
        if tls == "starttls":
            smtp.starttls(context=context)
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)


def send_now(mail: Mail) -> bool:
    """Deliver `mail` through the configured backend; logs and returns False on failure."""
    config = current_app.config
    message = build_message(mail, config["MAIL_FROM"])
    if config["MAIL_BACKEND"] == "console":
        print(f"----- mail (console backend) -----\n{message}\n----- end of mail -----", file=sys.stdout, flush=True)
        return True
    try:
        _smtp_send(message, config)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send mail %r to %s", mail.subject, mail.to)
        return False
    return True


def _send_outbox(session: Session) -> None:
    for mail in session.info.pop(_OUTBOX, []):
        send_now(mail)


def _drop_outbox(session: Session) -> None:
    session.info.pop(_OUTBOX, None)


def init_app(app: Flask) -> None:
    """Send queued mail after each commit of the app's session; forget it on rollback."""
    if app.extensions.get("kb_mail"):
        return
    app.extensions["kb_mail"] = True
    if not event.contains(Session, "after_commit", _send_outbox):
        event.listen(Session, "after_commit", _send_outbox)
        event.listen(Session, "after_soft_rollback", lambda session, previous: _drop_outbox(session))
