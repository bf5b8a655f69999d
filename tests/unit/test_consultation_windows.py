"""Consultation windows: London wall times to UTC, refused clock-change times, and the state at exact instants."""

from __future__ import annotations

import datetime as dt

import pytest

from kb.consultations.windows import (
    CLOSED,
    OPEN,
    UPCOMING,
    WindowError,
    as_utc,
    check_window,
    london_to_utc,
    parse_date,
    parse_time,
    reminder_due,
    state_at,
    utc_to_london,
)

TICK = dt.timedelta(microseconds=1)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def london(day: str, time: str) -> dt.datetime:
    return london_to_utc(parse_date(day), parse_time(time))


def test_winter_time_is_utc_and_summer_time_an_hour_ahead():
    assert london("2026-01-15", "09:00") == utc(2026, 1, 15, 9, 0)
    assert london("2026-07-15", "09:00") == utc(2026, 7, 15, 8, 0)


def test_either_side_of_the_march_change():
    assert london("2026-03-29", "00:59") == utc(2026, 3, 29, 0, 59)
    assert london("2026-03-29", "02:00") == utc(2026, 3, 29, 1, 0)


@pytest.mark.parametrize("time", ["01:00", "01:30", "01:59"])
def test_a_time_skipped_in_march_is_refused_with_a_reason(time: str):
    with pytest.raises(WindowError, match="does not exist in London: the clocks go forward"):
        london("2026-03-29", time)


@pytest.mark.parametrize("time", ["01:00", "01:30", "01:59"])
def test_a_time_repeated_in_october_is_refused_with_a_reason(time: str):
    with pytest.raises(WindowError, match="happens twice in London: the clocks go back"):
        london("2026-10-25", time)


def test_either_side_of_the_october_change():
    assert london("2026-10-25", "00:59") == utc(2026, 10, 24, 23, 59)
    assert london("2026-10-25", "02:00") == utc(2026, 10, 25, 2, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [("30/11/2026", "year-month-day"), ("2026-02-30", "not a real date"), ("", "year-month-day")],
)
def test_bad_dates_are_named(text: str, message: str):
    with pytest.raises(WindowError, match=message):
        parse_date(text)


@pytest.mark.parametrize(("text", "message"), [("5pm", "24-hour clock"), ("24:00", "00:00 to 23:59"), ("", "24-hour")])
def test_bad_times_are_named(text: str, message: str):
    with pytest.raises(WindowError, match=message):
        parse_time(text)


def test_a_window_must_close_after_it_opens():
    moment = utc(2026, 5, 1, 9)
    with pytest.raises(WindowError, match="after the opening"):
        check_window(moment, moment)
    check_window(moment, moment + TICK)


def assert_edges(opens_at: dt.datetime, closes_at: dt.datetime) -> None:
    assert state_at(opens_at, closes_at, opens_at - TICK) == UPCOMING
    assert state_at(opens_at, closes_at, opens_at) == OPEN
    assert state_at(opens_at, closes_at, opens_at + TICK) == OPEN
    assert state_at(opens_at, closes_at, closes_at - TICK) == OPEN
    assert state_at(opens_at, closes_at, closes_at) == CLOSED
    assert state_at(opens_at, closes_at, closes_at + TICK) == CLOSED


def test_open_from_the_opening_instant_until_just_before_the_close():
    assert_edges(london("2026-06-01", "09:00"), london("2026-06-30", "17:00"))


def test_a_window_across_the_march_change_is_an_hour_short_and_closes_in_summer_time():
    opens_at, closes_at = london("2026-03-28", "12:00"), london("2026-03-29", "12:00")
    assert opens_at == utc(2026, 3, 28, 12)
    assert closes_at == utc(2026, 3, 29, 11)
    assert closes_at - opens_at == dt.timedelta(hours=23)
    assert_edges(opens_at, closes_at)
    assert state_at(opens_at, closes_at, utc(2026, 3, 29, 11) - TICK) == OPEN
    assert state_at(opens_at, closes_at, utc(2026, 3, 29, 12) - TICK) == CLOSED


def test_a_window_closing_just_after_the_october_change():
    opens_at, closes_at = london("2026-10-24", "12:00"), london("2026-10-25", "03:00")
    assert opens_at == utc(2026, 10, 24, 11)
    assert closes_at == utc(2026, 10, 25, 3)
    assert closes_at - opens_at == dt.timedelta(hours=16)
    assert_edges(opens_at, closes_at)
    # 02:30 London time has come round once only, as GMT; the window is still open then.
    assert state_at(opens_at, closes_at, utc(2026, 10, 25, 2, 30)) == OPEN


def test_naive_times_from_sqlite_are_read_as_utc():
    naive = dt.datetime(2026, 6, 1, 8, 0)
    assert as_utc(naive) == utc(2026, 6, 1, 8, 0)
    assert state_at(naive, naive + dt.timedelta(hours=1), utc(2026, 6, 1, 8, 0)) == OPEN


def test_stored_instants_come_back_as_london_wall_times():
    assert utc_to_london(utc(2026, 7, 1, 16, 0)) == (dt.date(2026, 7, 1), dt.time(17, 0))
    assert utc_to_london(utc(2026, 12, 1, 16, 0)) == (dt.date(2026, 12, 1), dt.time(16, 0))


def test_the_reminder_is_due_only_when_open_and_the_close_is_two_days_away_or_less():
    opens_at, closes_at = utc(2026, 6, 1, 9), utc(2026, 6, 10, 17)
    two_days_before = closes_at - dt.timedelta(days=2)
    assert not reminder_due(opens_at, closes_at, two_days_before - TICK)
    assert reminder_due(opens_at, closes_at, two_days_before)
    assert reminder_due(opens_at, closes_at, closes_at - TICK)
    assert not reminder_due(opens_at, closes_at, closes_at)
    short = utc(2026, 6, 9, 9)
    assert not reminder_due(short, closes_at, short - TICK)
    assert reminder_due(short, closes_at, short)
