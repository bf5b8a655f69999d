"""The durable outbox: mail is written with the work, claimed after the commit, sent, and retried.

`queue_mail` (or `queue_mails`, many in a few statements) adds a row in the caller's
transaction, so the mail exists exactly when the work it reports was committed. After the
commit the rows of that transaction are claimed and sent at once; when that did not happen
(the mail server was down, the worker died between the commit and the send, or during it),
`send_pending` sends them later, from cron (`flask --app kb mail send-pending`) and,
opportunistically, after a later commit whose own mail went out. Claims are one
conditional UPDATE each, committed before the mail server is contacted, so any number of
workers and hosts may send at the same time without sending a row twice. A request sends
for at most `MAIL_REQUEST_SECONDS`, its own mail first, and leaves the rest in the outbox,
so it stays well inside the worker timeout.
The sending after a commit is `kb.mail.after_commit`'s.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Row, Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from kb.dates import utcnow
from kb.extensions import db
from kb.mail import delivery, retry
from kb.mail.messages import Mail, new_message_id
from kb.mail.models import OutboxMail

log = logging.getLogger(__name__)

QUEUED = "kb_mail_queued"
"""Session info key: ids of the outbox rows added in the open transaction."""

# A mapped class's __table__ is typed as any FromClause; OutboxMail's is a Table.
outbox = cast(Table, OutboxMail.__table__)


def _row(mail: Mail, now: dt.datetime) -> dict[str, Any]:
    return {
        "recipient": mail.to,
        "subject": mail.subject,
        "body": mail.body,
        "headers": [list(pair) for pair in mail.headers],
        "message_id": new_message_id(),
        "queued_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }


def queue_mail(mail: Mail) -> int:
    """Add `mail` to the outbox in the current transaction: it is sent once that commits, never if it rolls back.

    Returns the outbox row's id, for a caller that asks after the commit whether it went (`unsent`).
    """
    session = db.session
    result = session.connection().execute(insert(outbox).values(**_row(mail, utcnow())))
    key = result.inserted_primary_key
    assert key is not None, "an INSERT of one row has its primary key"
    row_id = int(key[0])
    session.info.setdefault(QUEUED, []).append(row_id)
    return row_id


def queue_mails(mails: Collection[Mail]) -> list[int]:
    """Add many mails to the outbox as `queue_mail` does, in a few INSERTs however many there are; returns their ids."""
    if not mails:
        return []
    now = utcnow()
    session = db.session
    statement = insert(outbox).returning(outbox.c.id)
    result = session.connection().execute(statement, [_row(mail, now) for mail in mails])
    row_ids = [int(row_id) for row_id in result.scalars()]
    session.info.setdefault(QUEUED, []).extend(row_ids)
    return row_ids


def mail_of(row: Row) -> Mail:
    """The `Mail` an outbox row holds."""
    return Mail(
        to=row.recipient,
        subject=row.subject,
        body=row.body,
        headers=tuple((name, value) for name, value in row.headers or ()),
    )


def _claimable(now: dt.datetime) -> ColumnElement[bool]:
    """Rows not sent, not given up, and not claimed by a sender that may still be working on them."""
    return and_(
        outbox.c.sent_at.is_(None),
        outbox.c.attempts < retry.MAX_ATTEMPTS,
        or_(outbox.c.claimed_at.is_(None), outbox.c.claimed_at < retry.stale_claims_before(now)),
    )


def _sender_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def claim(
    session: Session,
    now: dt.datetime,
    *,
    ids: Collection[int] | None = None,
    after: int = 0,
    limit: int = retry.SEND_BATCH,
    wait: bool = True,
) -> list[Row]:
    """Claim outbox rows for this sender and commit the claim; returns the rows claimed, by id.

    With `ids`, those rows (a transaction's own mail); otherwise up to `limit` rows after
    row `after` that are due (or, with `wait=False`, whatever their next try's time). The
    conditions are checked again by the UPDATE itself, and on PostgreSQL the candidates
    are picked and locked with `SKIP LOCKED` first, so concurrent senders claim different rows.
    """
    condition = _claimable(now)
    if ids is not None:
        condition = and_(outbox.c.id.in_(sorted(set(ids))), condition)
    else:
        wanted = and_(condition, outbox.c.id > after)
        if wait:
            wanted = and_(wanted, outbox.c.next_attempt_at <= now)
        candidates = select(outbox.c.id).where(wanted).order_by(outbox.c.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            # A separate statement: inside the UPDATE, PostgreSQL runs a locking subquery again for
            # each row it looks at, and its LIMIT then bounds nothing (40 due rows, limit 5: 40 claimed).
            # The rows stay locked until the claim commits.
            picked = list(session.scalars(candidates.with_for_update(skip_locked=True)))
            if not picked:
                session.commit()
                return []
            condition = and_(outbox.c.id.in_(picked), condition)
        else:
            # SQLite runs the subquery once, inside the statement that holds the write lock.
            condition = and_(outbox.c.id.in_(candidates.scalar_subquery()), condition)
    statement = (
        update(outbox)
        .where(condition)
        .values(claimed_at=now, claimed_by=_sender_name(), attempts=outbox.c.attempts + 1)
        .returning(*outbox.c)
    )
    rows = sorted(session.execute(statement).all(), key=lambda row: row.id)
    session.commit()
    return rows


def send_claimed(session: Session, row: Row, now: dt.datetime) -> str | None:
    """Send one claimed row and record the outcome (committed); returns the error, None when sent."""
    try:
        delivery.transmit(mail_of(row), message_id=row.message_id, date=row.queued_at)
    except delivery.MailNotSentError as error:
        _record_failure(session, row, str(error), now)
        return str(error)
    except Exception as error:  # A mail that cannot even be built must not stop the others.
        log.exception("mail %s to %s could not be built or sent", row.id, row.recipient)
        problem = f"{type(error).__name__}: {error}"[:2000]
        _record_failure(session, row, problem, now)
        return problem
    # The text goes once sent: reset and invitation links in it are as good as a password while they last.
    sent = update(outbox).where(outbox.c.id == row.id, outbox.c.sent_at.is_(None))
    session.execute(sent.values(sent_at=now, body="", headers=[]))
    session.commit()
    return None


def _record_failure(session: Session, row: Row, error: str, now: dt.datetime) -> None:
    """Give the claim back with the error and the time of the next try (only if the claim is still ours).

    A mail given up on keeps its recipient, subject and error for someone to look at, not
    its text: the links in it (invitations last a week) would otherwise outlive any use.
    """
    next_try = retry.next_attempt_at(now, row.attempts)
    values: dict[str, object] = {"claimed_at": None, "last_error": error, "next_attempt_at": next_try}
    if retry.given_up(row.attempts):
        values |= {"body": "", "headers": []}
    session.execute(
        update(outbox)
        .where(outbox.c.id == row.id, outbox.c.claimed_by == row.claimed_by, outbox.c.sent_at.is_(None))
        .values(**values)
    )
    session.commit()
    if retry.given_up(row.attempts):
        log.error(
            "could not send mail %s to %s, given up after %d tries: %s", row.id, row.recipient, row.attempts, error
        )
    else:
        log.warning(
            "could not send mail %s to %s (try %d), next try at %s: %s",
            row.id,
            row.recipient,
            row.attempts,
            next_try.isoformat(timespec="seconds"),
            error,
        )


@dataclass
class SendReport:
    """What one run of `send_pending` did, and what is left."""

    sent: int = 0
    failed: int = 0
    """Mails tried in this run that the server refused or could not take; they wait for a retry."""
    given_up: int = 0
    """Of those, mails that have now used every try and will not be sent."""
    purged: int = 0
    waiting: int = 0
    """Unsent mails left that will still be tried (not yet due, or claimed by another sender)."""

    def summary(self) -> str:
        """One line for the end of the run."""
        line = f"Sent {self.sent} mail{'s' if self.sent != 1 else ''}"
        extras = [
            f"{self.failed} could not be sent" if self.failed else "",
            f"{self.given_up} given up after {retry.MAX_ATTEMPTS} tries" if self.given_up else "",
            f"{self.waiting} waiting for a later try" if self.waiting else "",
            f"{self.purged} old rows purged" if self.purged else "",
        ]
        extra = "; ".join(part for part in extras if part)
        return f"{line} ({extra})." if extra else f"{line}."


def send_rows(
    session: Session,
    rows: list[Row],
    now: dt.datetime,
    report: SendReport,
    on_mail: Callable[[str], None],
    *,
    stop_at_failure: bool = False,
    deadline: float | None = None,
    first_is_free: bool = False,
) -> bool:
    """Send claimed rows in order; False when it stopped early and gave the rest of the claims back.

    It starts no new mail once `SENDING_TIME_LIMIT` has passed, well inside `CLAIM_TIMEOUT`,
    so a slow mail server never lets another sender take over claims this one is still
    working on, nor after `deadline` (a `time.monotonic()` value: a request's budget),
    except the first row when `first_is_free`. With `stop_at_failure` (inside a request) it also
    stops at the first failure, so a mail server that is down costs the person waiting one
    timeout, not one per mail.
    """
    stop_at = time.monotonic() + retry.SENDING_TIME_LIMIT.total_seconds()
    if deadline is not None:
        stop_at = min(stop_at, deadline)
    for position, row in enumerate(rows):
        if (position or not first_is_free) and time.monotonic() > stop_at:
            give_back(session, rows[position:])
            return False
        error = send_claimed(session, row, now)
        if error is None:
            report.sent += 1
            on_mail(f"sent {row.id} to {row.recipient}: {row.subject}")
            continue
        report.failed += 1
        report.given_up += int(retry.given_up(row.attempts))
        on_mail(f"not sent {row.id} to {row.recipient} (try {row.attempts}): {error}")
        if stop_at_failure:
            give_back(session, rows[position + 1 :])
            return False
    return True


def give_back(session: Session, rows: list[Row]) -> None:
    """Release claims not tried after all, without counting a try, for the next sender."""
    if not rows:
        return
    session.execute(
        update(outbox)
        .where(
            outbox.c.id.in_([row.id for row in rows]),
            outbox.c.claimed_by == rows[0].claimed_by,
            outbox.c.sent_at.is_(None),
        )
        .values(claimed_at=None, attempts=outbox.c.attempts - 1)
    )
    session.commit()


def past_deadline(deadline: float | None) -> bool:
    """Whether `deadline` (a `time.monotonic()` value) is set and has passed."""
    return deadline is not None and time.monotonic() > deadline


def send_due(
    *,
    now: dt.datetime | None = None,
    wait: bool = True,
    limit: int | None = None,
    deadline: float | None = None,
    on_mail: Callable[[str], None] = lambda line: None,
) -> SendReport:
    """Claim and send due mail in batches, each row at most once per run.

    At most `limit` mails when given; none started after `deadline` (a `time.monotonic()`
    value) when given.
    """
    report = SendReport()
    with Session(db.engine) as session:
        last = 0
        while limit is None or report.sent + report.failed < limit:
            if past_deadline(deadline):
                break
            batch = retry.SEND_BATCH if limit is None else min(retry.SEND_BATCH, limit - report.sent - report.failed)
            rows = claim(session, now or utcnow(), after=last, limit=batch, wait=wait)
            if not rows:
                break
            last = rows[-1].id
            send_rows(session, rows, now or utcnow(), report, on_mail, deadline=deadline)
    return report


def purge(session: Session, now: dt.datetime) -> int:
    """Delete mail sent more than `KEEP_SENT` ago and mail given up on queued more than `KEEP_GIVEN_UP` ago."""
    sent_long_ago = and_(outbox.c.sent_at.is_not(None), outbox.c.sent_at < now - retry.KEEP_SENT)
    abandoned = and_(
        outbox.c.sent_at.is_(None),
        outbox.c.attempts >= retry.MAX_ATTEMPTS,
        outbox.c.queued_at < now - retry.KEEP_GIVEN_UP,
        or_(outbox.c.claimed_at.is_(None), outbox.c.claimed_at < retry.stale_claims_before(now)),
    )
    # Session.execute is typed to return a Result; a DELETE's is a CursorResult, which counts rows.
    purged = cast(CursorResult[Any], session.execute(delete(outbox).where(or_(sent_long_ago, abandoned)))).rowcount
    session.commit()
    return purged or 0


def unsent(ids: Collection[int]) -> list[int]:
    """Those of the outbox rows `ids` not sent and not being sent now: waiting for a retry, or given up.

    A row another sender has claimed is on its way (any sender may take a due row, a fresh
    one included), so it is not counted; if that send fails, its sender logs it and it waits.
    """
    if not ids:
        return []
    query = select(outbox.c.id).where(
        outbox.c.id.in_(sorted(set(ids))), outbox.c.sent_at.is_(None), outbox.c.claimed_at.is_(None)
    )
    return sorted(db.session.scalars(query))


def waiting_count(session: Session) -> int:
    """Unsent mail that will still be tried."""
    query = select(func.count()).where(outbox.c.sent_at.is_(None), outbox.c.attempts < retry.MAX_ATTEMPTS)
    return session.scalar(query) or 0


def send_pending(
    *, now: dt.datetime | None = None, wait: bool = True, on_mail: Callable[[str], None] = lambda line: None
) -> SendReport:
    """Send every mail that is due (all unsent, with `wait=False`), then purge old rows; safe to run anywhere at once.

    `now` stands for the current time (tests use it to be "later"). A mail claimed by
    another sender less than `CLAIM_TIMEOUT` ago is left to it.
    """
    report = send_due(now=now, wait=wait, on_mail=on_mail)
    with Session(db.engine) as session:
        report.purged = purge(session, now or utcnow())
        report.waiting = waiting_count(session)
    return report
