"""An iCalendar (RFC 5545) file with one event: a consultation's closing time.

Times are written in UTC (`...Z`), so no time zone definition is needed; text values
are escaped (backslash, semicolon, comma, newline) and lines longer than 75 octets are
folded without splitting a UTF-8 character. The UID depends only on the consultation
and the site, so a calendar that imports the file twice updates one event instead of
adding a second. Pure functions: no app, no database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kb.consultations.windows import as_utc

PRODUCT_ID = "-//kb//Consultation closing dates//EN"
LINE_LIMIT = 75
"""Octets per line before folding, not counting the line break (RFC 5545 section 3.1)."""


@dataclass(frozen=True)
class ClosingEvent:
    """What the calendar file says: which consultation, its title, when it closes and where to answer."""

    consultation_id: int
    title: str
    closes_at: dt.datetime
    url: str
    host: str
    """The site's host name, which makes the UID unique across sites."""


def escape_text(value: str) -> str:
    """A TEXT value escaped for iCalendar: backslash, semicolon, comma and line breaks."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded at 75 octets: CRLF then a space before each continuation."""
    pieces: list[str] = []
    current, size = "", 0
    limit = LINE_LIMIT
    for character in line:
        width = len(character.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            # A continuation line starts with a space, which counts towards its 75 octets.
            current, size, limit = "", 0, LINE_LIMIT - 1
        current += character
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def utc_stamp(moment: dt.datetime) -> str:
    """An instant as an iCalendar UTC DATE-TIME, e.g. `20261130T170000Z`."""
    return as_utc(moment).strftime("%Y%m%dT%H%M%SZ")


def event_uid(consultation_id: int, host: str) -> str:
    """The stable UID of a consultation's closing event."""
    return f"consultation-{consultation_id}-closing@{host}"


def closing_calendar(event: ClosingEvent, *, stamp: dt.datetime) -> str:
    """The whole `.ics` text (CRLF line ends) for `event`; `stamp` is when the file was made (DTSTAMP)."""
    closes = utc_stamp(event.closes_at)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{event_uid(event.consultation_id, event.host)}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        # No DTEND: an event with a DATE-TIME start and no end ends at that instant (RFC 5545 3.6.1),
        # and DTEND must be later than DTSTART, so the close is written as a start alone.
        f"DTSTART:{closes}",
        f"SUMMARY:{escape_text('Consultation closes: ' + event.title)}",
        f"DESCRIPTION:{escape_text(f'Answers to “{event.title}” are taken until this time. Answer at {event.url}')}",
        f"URL:{event.url}",
        "TRANSP:TRANSPARENT",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{escape_text('Consultation closes tomorrow: ' + event.title)}",
        "TRIGGER:-P1D",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)
