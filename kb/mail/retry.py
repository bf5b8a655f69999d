"""When an unsent mail is tried again, when a claim counts as abandoned, how long rows are kept.

Pure arithmetic on times, so it is tested without a database or a mail server.
"""

from __future__ import annotations

import datetime as dt

FIRST_RETRY = dt.timedelta(minutes=1)
"""The wait after the first failed try; it doubles with each further failure..."""
LONGEST_WAIT = dt.timedelta(hours=1)
"""...up to this."""
MAX_ATTEMPTS = 30
"""Tries before a mail is given up: about a day of retries (1, 2, 4 ... 32 minutes, then hourly)."""
CLAIM_TIMEOUT = dt.timedelta(minutes=10)
"""A claim older than this is taken to belong to a sender that died, and may be claimed again.

A sender starts no new mail of its batch after `SENDING_TIME_LIMIT` (half of this) and
gives the rest back, so a live sender's claim is never taken over while one mail is still
in progress, unless that one mail takes longer than the other half.
"""
SENDING_TIME_LIMIT = CLAIM_TIMEOUT / 2
"""A sender stops starting new mails of a claimed batch after this long and gives the rest back."""
SEND_BATCH = 10
"""Mails one claim takes at a time when sending what is due."""
KEEP_SENT = dt.timedelta(days=7)
"""Sent mail is kept this long (to answer "was it sent?"), then purged."""
KEEP_GIVEN_UP = dt.timedelta(days=30)
"""Mail given up on is kept this long after it was queued, for someone to look at, then purged."""


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait before the next try of a mail that has failed `attempts` times (at least once)."""
    doublings = min(max(attempts, 1) - 1, 20)
    return min(FIRST_RETRY * (2**doublings), LONGEST_WAIT)


def next_attempt_at(failed_at: dt.datetime, attempts: int) -> dt.datetime:
    """When a mail that failed for the `attempts`-th time at `failed_at` is due again."""
    return failed_at + retry_delay(attempts)


def given_up(attempts: int) -> bool:
    """Whether a mail tried `attempts` times without being sent is no longer retried."""
    return attempts >= MAX_ATTEMPTS


def stale_claims_before(now: dt.datetime) -> dt.datetime:
    """Claims made before this time, seen at `now`, belong to a sender taken to be dead, and may be taken over."""
    return now - CLAIM_TIMEOUT
