"""When unsent mail is tried again, when it is given up, and when a claim counts as abandoned."""

from __future__ import annotations

import datetime as dt

from kb.mail import retry

MINUTE = dt.timedelta(minutes=1)
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def test_the_wait_doubles_from_a_minute_and_stops_growing_at_an_hour():
    waits = [retry.retry_delay(attempts) for attempts in range(1, 10)]
    assert waits[:7] == [MINUTE * n for n in (1, 2, 4, 8, 16, 32, 60)]
    assert waits[7:] == [retry.LONGEST_WAIT] * 2
    assert retry.retry_delay(10_000) == retry.LONGEST_WAIT
    assert retry.retry_delay(0) == MINUTE


def test_the_next_try_is_the_wait_after_the_failure():
    assert retry.next_attempt_at(NOON, 3) == NOON + 4 * MINUTE


def test_a_mail_is_retried_for_about_a_day_before_it_is_given_up():
    span = sum((retry.retry_delay(attempts) for attempts in range(1, retry.MAX_ATTEMPTS)), dt.timedelta())
    assert dt.timedelta(hours=20) <= span <= dt.timedelta(hours=30)
    assert not retry.given_up(retry.MAX_ATTEMPTS - 1)
    assert retry.given_up(retry.MAX_ATTEMPTS)


def test_a_claim_is_taken_over_only_once_it_is_older_than_the_timeout():
    assert retry.stale_claims_before(NOON) == NOON - retry.CLAIM_TIMEOUT
    assert dt.timedelta(minutes=5) <= retry.CLAIM_TIMEOUT


def test_a_sender_stops_starting_mails_well_before_its_claims_could_be_taken_over():
    assert retry.SENDING_TIME_LIMIT <= retry.CLAIM_TIMEOUT / 2
