"""Partial dates and London times."""

from __future__ import annotations

import datetime as dt

import pytest

from kb.dates import BadDateError, PartialDate, london_time, utcnow


@pytest.mark.parametrize(
    ("value", "expected", "precision"),
    [
        ("2013", PartialDate(2013), "year"),
        ("2013-05", PartialDate(2013, 5), "month"),
        ("2013-05-14", PartialDate(2013, 5, 14), "day"),
        (" 2013-05 ", PartialDate(2013, 5), "month"),
        (2013, PartialDate(2013), "year"),
        (dt.date(2013, 4, 1), PartialDate(2013, 4, 1), "day"),
        (dt.datetime(2013, 4, 1, 23, 59), PartialDate(2013, 4, 1), "day"),
        ("2012-02-29", PartialDate(2012, 2, 29), "day"),
    ],
)
def test_parse_accepts_each_precision(value, expected, precision):
    parsed = PartialDate.parse(value)
    assert parsed == expected
    assert parsed.precision == precision


@pytest.mark.parametrize(
    "value",
    [
        "May 2013",
        "13-05-2013",
        "2013/05/14",
        "2013-5",
        "2013-05-1",
        "201",
        "20130",
        "2013-05-14T10:00",
        "",
        "  ",
        None,
        2013.5,
        True,
        ["2013"],
        {"year": 2013},
    ],
)
def test_parse_rejects_other_forms(value):
    with pytest.raises(BadDateError, match="is not a date of the form"):
        PartialDate.parse(value)


@pytest.mark.parametrize(
    "value", ["2013-13-01", "2013-13", "2013-00", "2013-02-29", "2013-04-31", "2013-05-00", "0000"]
)
def test_parse_rejects_impossible_dates(value):
    with pytest.raises(BadDateError, match="is not a real date"):
        PartialDate.parse(value)


def test_bad_date_is_a_value_error():
    assert issubclass(BadDateError, ValueError)


@pytest.mark.parametrize(
    ("date", "shown"),
    [
        (PartialDate(2013), "2013"),
        (PartialDate(2013, 5), "May 2013"),
        (PartialDate(2013, 4, 1), "1 April 2013"),
        (PartialDate(2013, 12, 25), "25 December 2013"),
    ],
)
def test_display(date, shown):
    assert date.display() == shown


@pytest.mark.parametrize(
    ("date", "text"),
    [
        (PartialDate(2013), "2013"),
        (PartialDate(2013, 5), "2013-05"),
        (PartialDate(2013, 4, 1), "2013-04-01"),
        (PartialDate(987, 1, 2), "0987-01-02"),
    ],
)
def test_str_is_the_written_form(date, text):
    assert str(date) == text
    assert PartialDate.parse(text) == date


def test_to_yaml_keeps_precision():
    year = PartialDate(2013).to_yaml()
    month = PartialDate(2013, 5).to_yaml()
    day = PartialDate(2013, 5, 14).to_yaml()
    assert year == 2013
    assert isinstance(year, int)
    assert month == "2013-05"
    assert day == dt.date(2013, 5, 14)
    for value in (year, month, day):
        assert PartialDate.parse(value) == PartialDate.parse(str(PartialDate.parse(value)))


def test_first_day():
    assert PartialDate(2013).first_day == dt.date(2013, 1, 1)
    assert PartialDate(2013, 5).first_day == dt.date(2013, 5, 1)
    assert PartialDate(2013, 5, 14).first_day == dt.date(2013, 5, 14)


@pytest.mark.parametrize("date", [PartialDate(2013), PartialDate(2013, 5), PartialDate(2013, 5, 14)])
def test_from_stored_round_trip(date):
    assert PartialDate.from_stored(date.first_day, date.precision) == date


def test_from_stored_nothing():
    assert PartialDate.from_stored(None, None) is None
    assert PartialDate.from_stored(None, "year") is None


def test_from_stored_drops_finer_parts_for_coarse_precision():
    assert PartialDate.from_stored(dt.date(2013, 5, 14), "year") == PartialDate(2013)
    assert PartialDate.from_stored(dt.date(2013, 5, 14), "month") == PartialDate(2013, 5)


def test_ordering_follows_the_calendar():
    dates = [PartialDate(2014), PartialDate(2013, 5, 2), PartialDate(2013, 5, 1), PartialDate(2012, 12)]
    assert sorted(dates, key=lambda date: date.first_day) == [
        PartialDate(2012, 12),
        PartialDate(2013, 5, 1),
        PartialDate(2013, 5, 2),
        PartialDate(2014),
    ]


# --- London time --------------------------------------------------------------


def test_london_time_in_winter_is_utc():
    moment = dt.datetime(2026, 1, 15, 10, 16, tzinfo=dt.UTC)
    assert london_time(moment) == "15 January 2026, 10:16"


def test_london_time_in_summer_is_an_hour_ahead():
    moment = dt.datetime(2026, 7, 15, 10, 16, tzinfo=dt.UTC)
    assert london_time(moment) == "15 July 2026, 11:16"


def test_london_time_crosses_midnight_in_summer():
    moment = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)
    assert london_time(moment) == "1 July 2026, 00:30"


def test_london_time_at_the_spring_change():
    # Clocks go forward at 01:00 UTC on the last Sunday of March (29 March 2026).
    assert london_time(dt.datetime(2026, 3, 29, 0, 59, tzinfo=dt.UTC)) == "29 March 2026, 00:59"
    assert london_time(dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC)) == "29 March 2026, 02:00"


def test_london_time_treats_naive_times_as_utc():
    assert london_time(dt.datetime(2026, 7, 15, 10, 16)) == "15 July 2026, 11:16"


def test_london_time_converts_other_zones():
    new_york = dt.timezone(dt.timedelta(hours=-5))
    assert london_time(dt.datetime(2026, 1, 15, 5, 0, tzinfo=new_york)) == "15 January 2026, 10:00"


def test_london_time_of_nothing_is_empty():
    assert london_time(None) == ""


def test_utcnow_is_aware_and_utc():
    now = utcnow()
    assert now.tzinfo is not None
    assert now.utcoffset() == dt.timedelta(0)
