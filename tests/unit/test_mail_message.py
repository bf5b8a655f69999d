"""The message built for a mail: a retried one keeps its Message-ID and the time it was queued."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest

from kb.mail import Mail, build_message

MAIL = Mail(to="reader@example.org", subject="Hello", body="Text.\n", headers=(("List-Unsubscribe", "<https://x/u>"),))


def test_a_message_keeps_the_id_and_time_it_was_queued_with():
    queued = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    message = build_message(MAIL, "kb <kb@example.org>", message_id="<abc@kb.local>", date=queued)
    assert message["Message-ID"] == "<abc@kb.local>"
    assert message["Date"].datetime == queued
    assert (message["To"], message["Subject"], message["List-Unsubscribe"]) == (
        "reader@example.org",
        "Hello",
        "<https://x/u>",
    )


@pytest.fixture
def new_york_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone set to one far from UTC, so a naive time taken as local shows."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_time_without_a_zone_is_taken_as_utc_whatever_the_local_zone(new_york_local_time):
    naive = dt.datetime(2026, 6, 1, 9, 30)  # As SQLite gives a stored time back.
    message = build_message(MAIL, "kb <kb@example.org>", date=naive)
    assert message["Date"].datetime == naive.replace(tzinfo=dt.UTC)


def test_each_new_message_gets_its_own_id():
    first, second = (build_message(MAIL, "kb <kb@example.org>")["Message-ID"] for _ in range(2))
    assert first != second
    assert first.endswith("@kb.local>")
