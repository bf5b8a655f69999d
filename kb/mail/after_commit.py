"""Sending a transaction's mail right after it commits, and forgetting it when it rolls back.

`install_hooks` listens to every session: the outbox rows a transaction queued
(`kb.mail.outbox.QUEUED`) are claimed and sent once it commits, within a request's
`MAIL_REQUEST_SECONDS`, or after the response when `send_after_response` asked for that.
What cannot be sent stays in the outbox for `send_pending`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection

from flask import Flask, after_this_request, current_app, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction
from werkzeug.wrappers import Response

from kb.dates import utcnow
from kb.extensions import db
from kb.mail import retry
from kb.mail.outbox import QUEUED, SendReport, claim, past_deadline, send_due, send_rows

log = logging.getLogger(__name__)

_AFTER_RESPONSE = "kb_mail_after_response"
"""Session info key: the open transaction's mail waits until the response has been sent."""
RETRY_AFTER_COMMIT = 5
"""Due mails a request also sends after its own went out (so the mail server is up)."""


def _quiet(_line: str) -> None:
    """Says nothing: after a commit only the log hears of mail (failures are logged as they happen)."""


def send_committed(ids: Collection[int], *, budget: float | None = None) -> None:
    """Send the mail a transaction queued, right after its commit; never raises.

    What cannot be sent now stays in the outbox for `send_pending`. When all of it went
    out, a few other due mails are sent too, so mail left by a failure earlier does not
    wait for cron while the server is up. With `budget` (seconds; a request's
    `MAIL_REQUEST_SECONDS`) no mail is started once that long has passed, except its first:
    its own mail goes first, and what is left waits in the outbox, unclaimed.
    """
    ordered = sorted(set(ids))
    report = SendReport()
    deadline = None if budget is None else time.monotonic() + max(budget, 0.0)
    try:
        with Session(db.engine) as session:
            # In batches, so a worker killed on the way leaves few claims to wait out.
            for start in range(0, len(ordered), retry.SEND_BATCH):
                if start and past_deadline(deadline):
                    break
                now = utcnow()
                rows = claim(session, now, ids=ordered[start : start + retry.SEND_BATCH])
                free = start == 0
                done = send_rows(
                    session,
                    rows,
                    now,
                    report,
                    lambda line: None,
                    stop_at_failure=True,
                    deadline=deadline,
                    first_is_free=free,
                )
                if not done:
                    break
        if report.failed:
            return
        left = len(ordered) - report.sent
        if left and past_deadline(deadline):
            log.info("The request's time for sending mail (%ss) is spent; %d of its mails wait", budget, left)
        elif report.sent and not past_deadline(deadline):
            send_due(limit=RETRY_AFTER_COMMIT, deadline=deadline)
    except SQLAlchemyError as error:
        log.warning("Mail stays in the outbox for the next send-pending (database unavailable): %s", error)
    except Exception:
        log.exception("Sending mail after the commit failed; it stays in the outbox")


def send_after_response() -> None:
    """Send the open transaction's mail once the response has gone out, not before it.

    For a request whose answer must take as long whether or not it queued mail (a
    password reset): the mail server's time is spent after the visitor has the page.
    Outside a request the mail goes right after the commit, as usual.
    """
    db.session.info[_AFTER_RESPONSE] = True


def _send_when_closed(app: Flask, ids: list[int], budget: float) -> Callable[[Response], Response]:
    def attach(response: Response) -> Response:
        def send() -> None:
            with app.app_context():
                send_committed(ids, budget=budget)

        response.call_on_close(send)
        return response

    return attach


def _send_after_commit(session: Session) -> None:
    ids = session.info.pop(QUEUED, None)
    later = session.info.pop(_AFTER_RESPONSE, False)
    if not ids or not has_app_context() or not current_app.extensions.get("kb_mail"):
        return
    if not has_request_context():
        # A command (cron, the digest, reminders) has no one waiting, so no time budget.
        send_committed(ids)
        return
    budget = float(current_app.config["MAIL_REQUEST_SECONDS"])
    if later:
        after_this_request(_send_when_closed(current_app._get_current_object(), ids, budget))  # type: ignore[attr-defined]
        return
    send_committed(ids, budget=budget)


def _forget_queued(session: Session, previous_transaction: SessionTransaction) -> None:
    # A rolled-back savepoint leaves the outer transaction in place; its rows are gone, and
    # claiming their ids later finds nothing.
    if not previous_transaction.nested:
        session.info.pop(QUEUED, None)
        session.info.pop(_AFTER_RESPONSE, None)


def install_hooks(app: Flask) -> None:
    """Send each transaction's mail after it commits; forget it when it rolls back."""
    if not event.contains(Session, "after_commit", _send_after_commit):
        event.listen(Session, "after_commit", _send_after_commit)
        event.listen(Session, "after_soft_rollback", _forget_queued)
