"""A consultation's copy of a finding keeps its links current, and telling every member costs a few queries.

The copy's `[[slug]]` links are recorded, so it is rendered again when a linked entry
changes; copies saved before the links were recorded are rendered by the migration and by
`flask --app kb content rerender`. Opening a consultation to every member reads what it
needs about them in the same number of queries for thirty more people as for none.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, event, func, select, update

from kb.consultations.models import Consultation, ConsultedFinding, ConsultedFindingLink
from kb.consultations.service import open_consultation
from kb.contributions.service import save_document
from kb.database import MIGRATIONS_DIR
from kb.dates import utcnow
from kb.entries.models import Entry
from kb.entries.service import current_revisions
from kb.extensions import db
from kb.mail.models import OutboxMail
from kb.notifications.models import Notification, NotificationChoice, NotificationSettings
from kb.panels.service import FindingText, create_finding
from kb.states import MailDelivery, NotificationKind
from tests.accounts import Cast, make_user
from tests.factories import entry
from tests.services.test_consultations import PUBLIC_PAPER, draft

DAY = dt.timedelta(days=1)
LESSON = "bristol-gps-report-inappropriate-triage-responses"
"""A public lesson: every reader of the public review's consultation may read it."""
BEFORE_LINKS = "a8e3f5c1d7b2"
"""The migration before the copies' links were recorded."""


def _consult_on_a_copy(cast: Cast) -> tuple[Consultation, ConsultedFinding]:
    """A consultation on the public review with a copy of a finding linking to `LESSON`."""
    review = cast.other_review
    text = FindingText("Triage", f"See [[{LESSON}]].", f"Read [[{LESSON}]] again.")
    finding = create_finding(review, text, actor=cast.other_panel)
    db.session.commit()
    now = utcnow()
    consultation = open_consultation(
        review, draft(opens_at=now + DAY, closes_at=now + 3 * DAY, finding_ids=(finding.id,)), actor=cast.other_panel
    )
    db.session.commit()
    return consultation, consultation.consulted_findings[0]


def _links(copy: ConsultedFinding) -> list[int]:
    query = select(ConsultedFindingLink.entry_id).where(ConsultedFindingLink.copy_id == copy.id)
    return list(db.session.scalars(query))


def _edit(lesson: Entry, cast: Cast, change: tuple[str, str]) -> None:
    revision = current_revisions([lesson.id])[lesson.id]
    pattern, replacement = change
    text = re.sub(pattern, replacement, revision.document, count=1, flags=re.MULTILINE)
    assert text != revision.document
    save_document(lesson, text, actor=cast.moderator, base_number=revision.number)
    db.session.commit()


def test_the_copy_is_rendered_again_when_a_linked_lesson_is_renamed_or_becomes_panel_only(cast: Cast) -> None:
    lesson = entry(LESSON)
    title = lesson.title
    _, copy = _consult_on_a_copy(cast)
    assert _links(copy) == [lesson.id]
    assert title in copy.body_html
    assert title in copy.recommendations_html

    _edit(lesson, cast, (r"^title: .*$", "title: Triage went wrong in Bristol"))
    db.session.expire_all()
    assert "Triage went wrong in Bristol" in copy.body_html
    assert title not in copy.body_html

    _edit(lesson, cast, (r"^visibility: public$", f"visibility: panel\nreview: {cast.review.slug}"))
    db.session.expire_all()
    # The public review's readers may not all read a panel's lesson: its title is no longer shown.
    for html in (copy.body_html, copy.recommendations_html):
        assert "Triage went wrong in Bristol" not in html
        assert "kb-restricted-link" in html
        assert f'href="/lessons/{LESSON}"' not in html
    assert _links(copy) == [lesson.id]


def _as_saved_before_links(copy: ConsultedFinding) -> None:
    """Make the copy as one saved before its links were recorded: raw `[[slug]]` text, no links."""
    db.session.execute(delete(ConsultedFindingLink))
    db.session.execute(
        update(ConsultedFinding)
        .where(ConsultedFinding.id == copy.id)
        .values(body_html=f"<p>See [[{LESSON}]].</p>", recommendations_html="")
    )
    db.session.commit()


def test_content_rerender_renders_an_existing_copy_and_records_its_links(seeded_app: Flask, cast: Cast) -> None:
    _, copy = _consult_on_a_copy(cast)
    saved = (copy.body_html, copy.recommendations_html)
    _as_saved_before_links(copy)

    result = seeded_app.test_cli_runner().invoke(args=["content", "rerender"])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert (copy.body_html, copy.recommendations_html) == saved
    assert "[[" not in copy.body_html
    assert _links(copy) == [entry(LESSON).id]


def test_the_migration_renders_existing_copies_once_and_records_their_links(seeded_app: Flask, cast: Cast) -> None:
    _, copy = _consult_on_a_copy(cast)
    copy_id, saved = copy.id, copy.body_html
    _as_saved_before_links(copy)
    db.session.remove()
    downgrade(directory=str(MIGRATIONS_DIR), revision=BEFORE_LINKS)
    upgrade(directory=str(MIGRATIONS_DIR))
    copy = db.session.get_one(ConsultedFinding, copy_id)
    # The consulted review's author counts as off its panel here, which hides only panel entries.
    assert copy.body_html == saved
    assert f'href="/lessons/{LESSON}"' in copy.recommendations_html
    assert _links(copy) == [entry(LESSON).id]


@contextmanager
def counted() -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _open_to_everyone(cast: Cast, title: str) -> int:
    """Open a consultation to every member at once; how many statements it ran."""
    now = utcnow()
    opening = draft(title=title, opens_at=now - dt.timedelta(minutes=1), closes_at=now + DAY, tell_all_members=True)
    with counted() as statements:
        consultation = open_consultation(entry(PUBLIC_PAPER), opening, actor=cast.moderator)
    db.session.commit()
    told = select(func.count()).where(Notification.link == f"/consultations/{consultation.id}")
    assert db.session.scalar(told)
    return len(statements)


def test_telling_every_member_takes_as_many_queries_for_thirty_more_people(cast: Cast) -> None:
    before = _open_to_everyone(cast, "First")
    people = [make_user(f"member{n}@example.org", panels=(cast.review,) if n % 3 else ()) for n in range(30)]
    digest, quiet = people[1], people[2]
    db.session.add(NotificationChoice(user_id=digest.id, topic="consultations", delivery=MailDelivery.DIGEST))
    db.session.add(NotificationChoice(user_id=quiet.id, topic="consultations", in_app=False, delivery="none"))
    db.session.add(NotificationSettings(user_id=people[3].id, mail_replies=False))
    db.session.commit()

    after = _open_to_everyone(cast, "Second")

    assert after == before
    assert after < 30
    told = dict(
        db.session.execute(
            select(Notification.user_id, Notification.for_digest).where(
                Notification.kind == NotificationKind.CONSULTATION, Notification.message.contains("Second")
            )
        ).all()
    )
    assert all(person.id in told for person in people if person is not quiet)
    assert quiet.id not in told
    assert told[digest.id] is True
    assert told[people[4].id] is False
    mailed = select(OutboxMail.recipient).where(OutboxMail.subject.contains("Second"))
    assert {digest.email, quiet.email}.isdisjoint(db.session.scalars(mailed))
    assert people[4].email in db.session.scalars(mailed).all()
