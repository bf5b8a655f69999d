"""The closing-date calendar file: RFC 5545 lines, UTC times, escaping, folding and a stable UID."""

from __future__ import annotations

import datetime as dt

from kb.consultations.calendar import ClosingEvent, closing_calendar, escape_text, event_uid, fold, utc_stamp

BST_CLOSE = dt.datetime(2026, 7, 1, 16, 0, tzinfo=dt.UTC)


def event(title: str = "Draft findings, round one; please answer") -> ClosingEvent:
    return ClosingEvent(7, title, BST_CLOSE, "https://kb.example.org/consultations/7", "kb.example.org")


def unfolded(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_escaping_of_text_values():
    assert escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_every_line_ends_crlf_and_none_is_longer_than_75_octets():
    text = closing_calendar(event("é" * 120), stamp=BST_CLOSE)
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75


def test_folding_never_splits_a_character_and_unfolds_to_the_original():
    line = "SUMMARY:" + "ü€" * 50
    folded = fold(line)
    assert folded.replace("\r\n ", "") == line
    for piece in folded.split("\r\n"):
        piece.encode("utf-8").decode("utf-8")
        assert len(piece.encode("utf-8")) <= 75
    assert fold("SHORT:line") == "SHORT:line"


def test_times_are_written_in_utc_whatever_zone_they_come_in():
    london_summer = dt.datetime(2026, 7, 1, 17, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert utc_stamp(london_summer) == "20260701T160000Z"
    assert utc_stamp(dt.datetime(2026, 7, 1, 16, 0)) == "20260701T160000Z"


def test_the_file_names_the_close_with_a_stable_uid():
    first = closing_calendar(event(), stamp=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    second = closing_calendar(event(), stamp=dt.datetime(2026, 6, 2, tzinfo=dt.UTC))
    lines = unfolded(first)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert "VERSION:2.0" in lines
    assert "DTSTART:20260701T160000Z" in lines
    assert not any(line.startswith("DTEND") for line in lines)  # the event is the closing instant itself
    assert "DTSTAMP:20260601T000000Z" in lines
    assert "SUMMARY:Consultation closes: Draft findings\\, round one\\; please answer" in lines
    assert f"UID:{event_uid(7, 'kb.example.org')}" in lines
    assert "UID:consultation-7-closing@kb.example.org" in unfolded(second)
    assert lines.count("BEGIN:VEVENT") == 1
    assert lines[-2] == "END:VCALENDAR"
