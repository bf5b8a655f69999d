"""When a consultation is open: London wall times turned into UTC instants, and the state at a moment.

People enter opening and closing times as dates and times on a London clock; kb stores
UTC. Twice a year that clock jumps: in late March an hour of wall time never happens
(01:00 to 01:59 on the day clocks go forward) and in late October an hour happens twice
(01:00 to 01:59 on the day clocks go back). Such a time is refused with a message that
says so instead of being silently moved or guessed.

A consultation is open from `opens_at` (inclusive) until `closes_at` (exclusive).
Pure functions: no app, no database.
"""

from __future__ import annotations

import datetime as dt
import re

from kb.dates import LONDON
from kb.errors import InvalidInputError

UPCOMING, OPEN, CLOSED = "upcoming", "open", "closed"
STATES: dict[str, str] = {UPCOMING: "Not open yet", OPEN: "Open", CLOSED: "Closed"}
REMINDER_LEAD = dt.timedelta(days=2)
"""How long before the close followers are reminded."""
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


class WindowError(InvalidInputError):
    """A date, time or window that cannot be used; the message says what is wrong and what to do."""


def parse_date(text: str) -> dt.date:
    """A date written `YYYY-MM-DD`; raises `WindowError` for anything else or a day that does not exist."""
    match = _DATE.match((text or "").strip())
    if not match:
        raise WindowError("Enter the date as year-month-day, for example 2026-11-30.")
    year, month, day = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise WindowError(f"{text.strip()} is not a real date.") from None


def parse_time(text: str) -> dt.time:
    """A 24-hour time written `HH:MM`; raises `WindowError` for anything else."""
    match = _TIME.match((text or "").strip())
    if not match:
        raise WindowError("Enter the time on a 24-hour clock, for example 09:00 or 17:30.")
    hour, minute = (int(part) for part in match.groups())
    if hour > 23 or minute > 59:
        raise WindowError(f"{text.strip()} is not a time on a 24-hour clock (00:00 to 23:59).")
    return dt.time(hour, minute)


def _wall(moment: dt.datetime) -> tuple[int, ...]:
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second, moment.microsecond)


def _spoken(day: dt.date, time: dt.time) -> str:
    return f"{time:%H:%M} on {day.day} {day:%B %Y}"


def london_to_utc(day: dt.date, time: dt.time) -> dt.datetime:
    """The UTC instant a London wall-clock time names.

    Raises `WindowError` when the time does not exist in London (skipped as the clocks
    go forward) or happens twice (repeated as they go back).
    """
    naive = dt.datetime.combine(day, time)
    first = naive.replace(tzinfo=LONDON, fold=0)
    second = naive.replace(tzinfo=LONDON, fold=1)
    first_utc, second_utc = first.astimezone(dt.UTC), second.astimezone(dt.UTC)
    if _wall(first_utc.astimezone(LONDON)) != _wall(naive):
        raise WindowError(
            f"{_spoken(day, time)} does not exist in London: the clocks go forward an hour that night. "
            "Choose a time outside the missing hour, for example an hour later."
        )
    if first_utc != second_utc:
        raise WindowError(
            f"{_spoken(day, time)} happens twice in London: the clocks go back an hour that night. "
            "Choose a time outside the repeated hour, for example 03:00."
        )
    return first_utc


def as_utc(moment: dt.datetime) -> dt.datetime:
    """`moment` as an aware UTC time; a naive one (as SQLite gives back) is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def utc_to_london(moment: dt.datetime) -> tuple[dt.date, dt.time]:
    """The London date and wall-clock time of a stored instant, for filling in a form."""
    local = as_utc(moment).astimezone(LONDON)
    return local.date(), local.time().replace(second=0, microsecond=0)


def check_window(opens_at: dt.datetime, closes_at: dt.datetime) -> None:
    """Raise `WindowError` unless the close comes after the opening."""
    if as_utc(closes_at) <= as_utc(opens_at):
        raise WindowError("The closing time must be after the opening time.")


def state_at(opens_at: dt.datetime, closes_at: dt.datetime, now: dt.datetime) -> str:
    """`upcoming` before `opens_at`, `open` from it until just before `closes_at`, then `closed`."""
    now = as_utc(now)
    if now < as_utc(opens_at):
        return UPCOMING
    if now < as_utc(closes_at):
        return OPEN
    return CLOSED


def reminder_due(opens_at: dt.datetime, closes_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether it is time for the reminder: open, and the close at most `REMINDER_LEAD` away."""
    return state_at(opens_at, closes_at, now) == OPEN and as_utc(closes_at) - as_utc(now) <= REMINDER_LEAD
