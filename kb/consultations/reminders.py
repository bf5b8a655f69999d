"""The reminder mail two days before a consultation closes, to followers who have not submitted.

A run finds open consultations that close within `REMINDER_LEAD` and have no reminder
yet. For each it claims the reminder with one `UPDATE ... WHERE reminder_sent_at IS
NULL RETURNING` and writes the reminders to the mail outbox in the same transaction, so a
second run, or one running at the same time, finds it claimed and sends nothing: nobody is
reminded twice. Mail the server refuses stays in the outbox and `flask --app kb mail
send-pending` sends it later (the run reports it).

Who is reminded: active people following the consulted entry, or its review, who may
read the consultation and have not submitted a response (a saved draft does not count).
Each is told on their notifications page; the mail is about what they follow, so it goes
with the daily digest's switch: someone who turned the digest off is not mailed, and the
mail's unsubscribe link turns that same switch off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import OperationalError

from kb import mail as outgoing
from kb.audit.service import record_event
from kb.consultations.models import Consultation, Response
from kb.consultations.windows import REMINDER_LEAD
from kb.dates import london_time, utcnow
from kb.extensions import db
from kb.mail import Mail, site_link
from kb.notifications import mails
from kb.notifications.models import Follow
from kb.notifications.queries import wants_mail
from kb.notifications.service import write_notification
from kb.permissions import can_view_consultation, viewer_for
from kb.states import EntryKind, FollowTarget, NotificationKind, ResponseStatus
from kb.users.models import User

MAIL_CATEGORY = "digest"
"""The settings switch reminders go with: mail about what a person follows."""


@dataclass
class ReminderReport:
    """What a reminder run did."""

    consultations: int = 0
    mails: int = 0
    switched_off: int = 0
    """Followers not mailed because they turned off mail about what they follow."""
    failed: int = 0
    """Reminders the mail server refused for now; they wait in the mail outbox for `mail send-pending`."""
    postponed: int = 0
    """Consultations skipped because the database was busy; the next run tries them."""

    def summary(self) -> str:
        """One line for the end of the run."""
        line = f"Sent {self.mails} reminder{'s' if self.mails != 1 else ''} for {self.consultations} consultation"
        line += "s" if self.consultations != 1 else ""
        extras = [
            f"{self.switched_off} with mail about what they follow turned off" if self.switched_off else "",
            f"{self.failed} could not be sent yet, kept for `flask --app kb mail send-pending`" if self.failed else "",
            f"{self.postponed} consultations postponed (database busy)" if self.postponed else "",
        ]
        extra = "; ".join(part for part in extras if part)
        return f"{line} ({extra})." if extra else f"{line}."


def due_consultations(now: dt.datetime) -> list[int]:
    """Ids of open consultations closing within `REMINDER_LEAD` of `now` whose reminder is not yet claimed."""
    query = (
        select(Consultation.id)
        .where(
            Consultation.reminder_sent_at.is_(None),
            Consultation.opens_at <= now,
            Consultation.closes_at > now,
            Consultation.closes_at <= now + REMINDER_LEAD,
        )
        .order_by(Consultation.closes_at, Consultation.id)
    )
    return list(db.session.scalars(query))


def claim(consultation_id: int, now: dt.datetime) -> bool:
    """Mark the consultation's reminder as sent unless another run already has; True when this call claimed it."""
    statement = (
        update(Consultation)
        .where(Consultation.id == consultation_id, Consultation.reminder_sent_at.is_(None))
        .values(reminder_sent_at=now)
        .returning(Consultation.id)
        .execution_options(synchronize_session=False)
    )
    return db.session.scalar(statement) is not None


def recipients(consultation: Consultation) -> list[User]:
    """Active followers of the consulted entry or its review who may read the consultation and have not submitted."""
    entry = consultation.entry
    targets = [and_(Follow.target_type == FollowTarget.ENTRY, Follow.target_id == entry.id)]
    review_id = entry.id if entry.kind == EntryKind.REVIEW else entry.review_id
    if review_id is not None:
        targets.append(and_(Follow.target_type == FollowTarget.REVIEW, Follow.target_id == review_id))
    submitted = select(Response.user_id).where(
        Response.consultation_id == consultation.id,
        Response.status == ResponseStatus.SUBMITTED,
        Response.user_id.is_not(None),
    )
    query = (
        select(User)
        .where(User.active, User.id.in_(select(Follow.user_id).where(or_(*targets))), User.id.not_in(submitted))
        .order_by(User.id)
    )
    return [user for user in db.session.scalars(query) if can_view_consultation(viewer_for(user), consultation)]


def reminder_message(consultation: Consultation) -> str:
    """The line on a follower's notifications page: which consultation closes, and when."""
    return f"“{consultation.title}” closes on {london_time(consultation.closes_at)} and you have not answered yet"


def reminder_mail(user: User, consultation: Consultation) -> Mail:
    """The reminder to one person: what closes when, and where to answer."""
    link = site_link(f"/consultations/{consultation.id}")
    paragraphs = [
        f"The consultation “{consultation.title}” on “{consultation.entry.title}”, which you follow, closes on "
        f"{london_time(consultation.closes_at)} (London time).",
        "You have not submitted a response yet. If you saved a draft, it is not counted until you submit it.",
        f"Answer it here: {link}",
    ]
    subject = f"Closes {london_time(consultation.closes_at)}: {consultation.title}"
    return mails.compose(user, MAIL_CATEGORY, subject, paragraphs)


def _remind_one(
    consultation: Consultation, now: dt.datetime, report: ReminderReport, on_line: Callable[[str], None]
) -> None:
    """Claim one consultation's reminder and queue its mails in one transaction; they are sent after the commit."""
    people = recipients(consultation)
    queued: dict[int, User] = {}
    switched_off = 0
    try:
        claimed = claim(consultation.id, now)
        if claimed:
            record_event(
                "consultation.remind",
                actor=None,
                target=consultation,
                new=f"{len(people)} followers",
                target_label=consultation.title,
            )
            for person in people:
                notification = write_notification(
                    person,
                    kind=NotificationKind.REMINDER,
                    entry=consultation.entry,
                    actor=None,
                    message=reminder_message(consultation),
                    link=f"/consultations/{consultation.id}",
                )
                if wants_mail(person.id, MAIL_CATEGORY):
                    queued[outgoing.queue_mail(reminder_mail(person, consultation))] = person
                    notification.mailed_at = now
                else:
                    switched_off += 1
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        report.postponed += 1
        on_line(f"consultation {consultation.id}: database busy, left for the next run")
        return
    if not claimed:
        return
    report.consultations += 1
    report.switched_off += switched_off
    waiting = outgoing.unsent(queued)
    for row in waiting:
        on_line(f"consultation {consultation.id}: could not send to {queued[row].email} yet; it waits in the outbox")
    report.failed += len(waiting)
    sent = len(queued) - len(waiting)
    report.mails += sent
    on_line(f"consultation {consultation.id} “{consultation.title}”: {sent} of {len(people)} followers reminded")


def send_reminders(
    now: dt.datetime | None = None, on_line: Callable[[str], None] = lambda line: None
) -> ReminderReport:
    """Remind followers of every consultation now due, each claimed and committed before its mail; safe to run twice."""
    now = now or utcnow()
    report = ReminderReport()
    for consultation_id in due_consultations(now):
        consultation = db.session.get(Consultation, consultation_id)
        if consultation is not None:
            _remind_one(consultation, now, report, on_line)
    db.session.commit()
    return report
