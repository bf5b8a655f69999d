"""Handing one message to the mail server (`smtp`) or printing it (`console`).

`transmit` is the one place a message leaves kb; the outbox sends everything through it.
"""

from __future__ import annotations

import datetime as dt
import functools
import smtplib
import ssl
import sys
from email.message import EmailMessage
from typing import Any

from flask import current_app

from kb.errors import UnavailableError
from kb.mail.messages import Mail, build_message

WIRE_HEADERS = frozenset({"content-type", "content-transfer-encoding", "mime-version"})
"""Headers about the encoding on the wire, left out of the printed mail: its text is printed decoded."""


class MailNotSentError(UnavailableError):
    """Raised when the mail server could not be reached or refused the message; says why."""


@functools.lru_cache(maxsize=4)
def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The TLS settings for the mail server, made once per process: loading the CA bundle takes about 0.2 s."""
    return ssl.create_default_context(cafile=ca_file)


def _smtp_send(message: EmailMessage, config: dict[str, Any]) -> None:
    host, port, tls, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TLS"], config["SMTP_TIMEOUT"]
    context = _tls_context(config.get("SMTP_CA_FILE") or None) if tls in ("ssl", "starttls") else None
    smtp_class = smtplib.SMTP_SSL if tls == "ssl" else smtplib.SMTP
    kwargs: dict[str, Any] = {"context": context} if tls == "ssl" else {}
    with smtp_class(host, port, timeout=timeout, **kwargs) as smtp:
        if tls == "starttls":
            smtp.starttls(context=context)
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)


def readable(message: EmailMessage) -> str:
    """`message` as a person reads it: its headers, a blank line, then the decoded text with links whole.

    What the console backend prints: the wire form would be quoted-printable, with long
    links broken across lines by `=` and impossible to follow.
    """
    headers = "\n".join(f"{name}: {value}" for name, value in message.items() if name.lower() not in WIRE_HEADERS)
    content = message.get_content()
    return f"{headers}\n\n{content.rstrip()}\n"


def transmit(mail: Mail, *, message_id: str | None = None, date: dt.datetime | None = None) -> None:
    """Deliver `mail` through the configured backend now.

    Raises `MailNotSentError` (with the reason) when the server cannot be reached or refuses it.
    """
    config = current_app.config
    message = build_message(mail, config["MAIL_FROM"], message_id=message_id, date=date)
    if config["MAIL_BACKEND"] == "console":
        printed = f"----- mail (console backend) -----\n{readable(message)}----- end of mail -----"
        print(printed, file=sys.stdout, flush=True)
        return
    try:
        _smtp_send(message, config)
    except (OSError, smtplib.SMTPException) as error:
        raise MailNotSentError(f"{type(error).__name__}: {error}"[:2000]) from error
