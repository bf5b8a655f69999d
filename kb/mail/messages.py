"""What a mail is: one plain-text message to one person, and the RFC 5322 message built from it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formatdate, make_msgid

from flask import current_app

from kb.text import INVISIBLE, forbidden_character

MESSAGE_ID_DOMAIN = "kb.local"


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


def new_message_id() -> str:
    """A fresh, globally unique `Message-ID` value."""
    return make_msgid(domain=MESSAGE_ID_DOMAIN)


def _in_utc(moment: dt.datetime) -> dt.datetime:
    """`moment` in UTC; a naive one (SQLite gives stored times back without a zone) is taken to be UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def header_line(value: str) -> str:
    """`value` folded to one line for a header: line breaks, controls and invisible characters become spaces.

    Names are checked when they are typed, but one stored earlier (or by other means) with a
    line break must not make every mail that quotes it impossible to send.
    """
    spaced = "".join(" " if char == "\t" or forbidden_character(char) else char for char in INVISIBLE.sub("", value))
    return " ".join(spaced.split())


def build_message(
    mail: Mail, sender: str, *, message_id: str | None = None, date: dt.datetime | None = None
) -> EmailMessage:
    """The RFC 5322 message for `mail`.

    A mail sent again after a failed or interrupted try keeps the `message_id` and `date`
    it was queued with, so a mail program that gets it twice can tell it is the same one.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = header_line(mail.to)
    message["Subject"] = header_line(mail.subject)
    message["Date"] = format_datetime(_in_utc(date)) if date else formatdate(localtime=False)
    message["Message-ID"] = message_id or new_message_id()
    for name, value in mail.headers:
        message[name] = header_line(value)
    message.set_content(mail.body)
    return message
