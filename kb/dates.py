"""Dates known only to a year or a month, and the display of times in Europe/London.

Sources often say "May 2013" and nothing more; kb records exactly the precision a fact
has instead of inventing a day. A `PartialDate` is stored as its first day plus a
precision, and written back in the form it was given (`2013`, `2013-05`, `2013-05-14`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from kb.errors import InvalidInputError

LONDON = ZoneInfo("Europe/London")
PRECISIONS = ("year", "month", "day")
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class BadDateError(InvalidInputError):
    """Raised when a value is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD."""


@dataclass(frozen=True, order=True)
class PartialDate:
    """A calendar date known to the year, the month or the day."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, value: object) -> PartialDate:
        """Read a date from YAML: a `date`, an int year, or a YYYY[-MM[-DD]] string.

        Raises BadDateError when the value is of another form or is not a real date.
        """
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return cls(value.year, value.month, value.day)
        text = str(value).strip() if isinstance(value, (str, int)) else ""
        match = _PARTIAL_DATE.match(text)
        if not match:
            raise BadDateError(f"'{value}' is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
        year, month, day = (int(part) if part else None for part in match.groups())
        assert year is not None, "the pattern requires a year"
        try:
            if month == 0 or day == 0:
                raise ValueError("month and day start at 01")
            dt.date(year, month or 1, day or 1)
        except ValueError as error:
            raise BadDateError(f"'{value}' is not a real date ({error})") from None
        return cls(year, month, day)

    @classmethod
    def from_stored(cls, first_day: dt.date | None, precision: str | None) -> PartialDate | None:
        """Rebuild a partial date from its stored first day and precision."""
        if first_day is None:
            return None
        if precision == "year":
            return cls(first_day.year)
        if precision == "month":
            return cls(first_day.year, first_day.month)
        return cls(first_day.year, first_day.month, first_day.day)

    @property
    def precision(self) -> str:
        """`year`, `month` or `day`."""
        if self.month is None:
            return "year"
        return "month" if self.day is None else "day"

    @property
    def first_day(self) -> dt.date:
        """The earliest day the date could be; used for storage and sorting."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def to_yaml(self) -> int | str | dt.date:
        """The value to write in front matter: a date, a `YYYY-MM` text, or a year."""
        if self.precision == "day":
            return self.first_day
        if self.precision == "year":
            return self.year
        return str(self)

    def display(self) -> str:
        """Human form: `2013`, `May 2013` or `1 April 2013`."""
        if self.month is None:
            return str(self.year)
        if self.day is None:
            return self.first_day.strftime("%B %Y")
        return f"{self.day} {self.first_day.strftime('%B %Y')}"

    def __str__(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def utcnow() -> dt.datetime:
    """The current time in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """`moment` with its UTC zone: SQLite hands back naive datetimes for timezone columns, and they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def london_time(moment: dt.datetime | None) -> str:
    """Show a stored UTC time in Europe/London, e.g. `21 November 2026, 10:16`."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(LONDON)
    return f"{local.day} {local.strftime('%B %Y, %H:%M')}"


def iso_utc(moment: dt.datetime | None) -> str:
    """A stored time as ISO 8601 in UTC with a `Z`, for files (a naive time is taken to be UTC); "" for None."""
    if moment is None:
        return ""
    moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    return moment.isoformat().replace("+00:00", "Z")


def iso_london(moment: dt.datetime | None) -> str:
    """A stored time as ISO 8601 in Europe/London with its offset, for files; "" for None."""
    if moment is None:
        return ""
    moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
    return moment.astimezone(LONDON).isoformat()
